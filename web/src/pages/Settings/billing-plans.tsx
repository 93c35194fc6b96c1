import { useEffect, useState } from "react";
import { Dialog, DialogActions } from "../../components/dialog";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import { errorCode, explainError } from "../../error-messages";
import { formatCents, formatPrice } from "../../money";
import type {
  BillingInterval,
  BillingOverview,
  Plan,
  SubscriptionChange,
  SubscriptionPreview,
} from "../../types";
import { useApi } from "../../use-api";
import type { Resource } from "../../use-resource";
import { intervalLabel, PLAN_RANK, planName, useBillingPaths, useFormatDay } from "./billing-data";
import { InvoiceLinesTable } from "./invoice-lines-table";

type Choice = { plan: Plan; interval: BillingInterval };

type Props = {
  overview: BillingOverview | undefined;
  plans: Resource<{ data: Plan[] }>;
  manage: boolean;
  hasPaymentMethod: boolean;
  /** A plan change went through; the text says what happened. */
  onChanged: (text: string) => void;
};

/** Plan cards with a monthly/annual switch; choosing one previews the invoice before it is confirmed. */
export function BillingPlansCard({ overview, plans, manage, hasPaymentMethod, onChanged }: Props) {
  const [interval, setBillingInterval] = useState<BillingInterval>(overview?.interval ?? "month");
  const [choice, setChoice] = useState<Choice | null>(null);
  const [contact, setContact] = useState(false);
  const catalog = plans.data?.data;
  const current = overview?.plan;

  // Show the account's own interval once the overview arrives.
  const accountInterval = overview?.interval ?? null;
  useEffect(() => {
    if (accountInterval) setBillingInterval(accountInterval);
  }, [accountInterval]);

  function action(plan: Plan): { label: string; disabled: boolean } | null {
    if (plan.custom) return null;
    if (!overview) return { label: "Choose", disabled: true };
    const isCurrent = plan.id === current && (plan.id === "free" || overview.interval === interval);
    if (isCurrent) return { label: "Current plan", disabled: true };
    if (plan.id === "free") {
      return {
        label: overview.ends_with === "free" ? "Downgrade scheduled" : "Downgrade to Free",
        disabled: !manage || overview.ends_with === "free",
      };
    }
    const rank = PLAN_RANK[plan.id] - PLAN_RANK[overview.plan];
    const label =
      plan.id === overview.plan
        ? `Switch to ${intervalLabel(interval).toLowerCase()}`
        : rank > 0
          ? `Upgrade to ${plan.name}`
          : `Switch to ${plan.name}`;
    return { label, disabled: !manage };
  }

  return (
    <section className="card" aria-labelledby="billing-plans-heading" data-testid="billing-plans">
      <div className="card-header">
        <h2 id="billing-plans-heading">Plans</h2>
        <fieldset className="segmented" data-testid="billing-interval-toggle">
          <legend className="visually-hidden">Billing interval</legend>
          {(["month", "year"] as const).map((value) => (
            <label key={value} className={`segmented-option${interval === value ? " is-selected" : ""}`}>
              <input
                type="radio"
                name="billing-interval"
                value={value}
                checked={interval === value}
                onChange={() => setBillingInterval(value)}
                data-testid={`billing-interval-${value}`}
              />
              {value === "month" ? "Monthly" : "Annual"}
            </label>
          ))}
        </fieldset>
      </div>
      <p className="muted">
        Prices are per seat per month, in US dollars. Annual plans are billed for 12 months at once.
      </p>
      {!manage ? (
        <p className="muted" data-testid="billing-read-only">
          Your role can see billing but not change it.
        </p>
      ) : null}
      {catalog ? (
        <ul className="plan-grid" aria-label="Plans">
          {catalog.map((plan) => {
            const button = action(plan);
            const price = interval === "year" ? plan.prices.year_per_month : plan.prices.month;
            return (
              <li
                key={plan.id}
                className={`plan-card${plan.id === current ? " is-current" : ""}`}
                data-testid="plan-card"
                data-plan={plan.id}
                data-current={plan.id === current ? "true" : "false"}
              >
                <h3 className="plan-name">
                  {plan.name}
                  {plan.id === current ? <span className="badge badge-success">Current</span> : null}
                </h3>
                {plan.custom ? (
                  <p className="plan-price">
                    <span className="plan-amount">Custom</span>
                  </p>
                ) : (
                  <p className="plan-price" data-testid="plan-price" data-cents={price}>
                    <span className="plan-amount">{formatPrice(price)}</span>
                    <span className="muted"> / seat / month</span>
                  </p>
                )}
                <p className="plan-note">
                  {plan.custom ? (
                    "Price and limits agreed for your organisation."
                  ) : plan.prices.month === 0 ? (
                    "Free forever."
                  ) : interval === "year" ? (
                    <>
                      {formatPrice(plan.prices.year_per_month * 12)} per seat per year
                      {plan.annual_saving_percent ? (
                        <>
                          {" "}
                          <span className="badge badge-success" data-testid="plan-saving">
                            Save {plan.annual_saving_percent}%
                          </span>
                        </>
                      ) : null}
                    </>
                  ) : (
                    <>
                      or {formatPrice(plan.prices.year_per_month)} billed annually
                      {plan.annual_saving_percent ? (
                        <>
                          {" "}
                          <span className="badge badge-success" data-testid="plan-saving">
                            Save {plan.annual_saving_percent}%
                          </span>
                        </>
                      ) : null}
                    </>
                  )}
                </p>
                <p className="plan-seats" data-testid="plan-seat-limit">
                  {plan.custom
                    ? "Custom seat limits"
                    : plan.seat_limit === null
                      ? "Unlimited seats"
                      : `Up to ${plan.seat_limit} seats`}
                </p>
                {plan.id === "free" &&
                overview &&
                plan.seat_limit !== null &&
                overview.seats.used > plan.seat_limit ? (
                  <p className="field-hint" data-testid="plan-free-too-many">
                    You use {overview.seats.used} seats: remove {overview.seats.used - plan.seat_limit} to
                    downgrade.
                  </p>
                ) : null}
                <div className="plan-action">
                  {button ? (
                    <button
                      type="button"
                      className={`button button-block${button.disabled || plan.id === "free" ? " button-secondary" : ""}`}
                      disabled={button.disabled}
                      onClick={() => setChoice({ plan, interval })}
                      data-testid="plan-choose"
                    >
                      {button.label}
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="button button-secondary button-block"
                      aria-expanded={contact}
                      onClick={() => setContact((open) => !open)}
                      data-testid="plan-contact"
                    >
                      Contact us
                    </button>
                  )}
                </div>
                {plan.custom && contact ? (
                  <p className="field-hint" data-testid="plan-contact-note">
                    Enterprise prices and limits are set for your account by the people who run this Gatehouse
                    installation. Ask them to set up an Enterprise plan.
                  </p>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : plans.error ? (
        <FormAlert testId="billing-load-error">
          <p>The plans could not be loaded: {plans.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={plans.reload}>
            Try again
          </button>
        </FormAlert>
      ) : (
        <LoadingBlock label="Loading plans…" lines={3} />
      )}
      {choice && overview ? (
        <PlanChangeDialog
          choice={choice}
          overview={overview}
          plans={catalog}
          hasPaymentMethod={hasPaymentMethod}
          onDone={(text) => {
            setChoice(null);
            onChanged(text);
          }}
          onClose={() => setChoice(null)}
        />
      ) : null}
    </section>
  );
}

type PreviewState =
  | { status: "loading" }
  | { status: "ready"; preview: SubscriptionPreview }
  | { status: "failed"; text: string; code: string | null };

/** Loads the preview of the change (nothing changes), shows its lines and total, then confirms it. */
function PlanChangeDialog({
  choice,
  overview,
  plans,
  hasPaymentMethod,
  onDone,
  onClose,
}: {
  choice: Choice;
  overview: BillingOverview;
  plans: readonly Plan[] | undefined;
  hasPaymentMethod: boolean;
  onDone: (text: string) => void;
  onClose: () => void;
}) {
  const api = useApi();
  const paths = useBillingPaths();
  const formatDay = useFormatDay();
  const [state, setState] = useState<PreviewState>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; code: string | null } | null>(null);
  const { plan, interval } = choice;
  const planId = plan.id;
  const toFree = planId === "free";

  useEffect(() => {
    void attempt;
    let cancelled = false;
    setState({ status: "loading" });
    api.post<SubscriptionPreview>(paths.subscription, { plan: planId, interval, preview: true }).then(
      (preview) => {
        if (!cancelled) setState({ status: "ready", preview });
      },
      (caught: unknown) => {
        if (!cancelled) setState({ status: "failed", text: explainError(caught), code: errorCode(caught) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, paths.subscription, attempt, planId, interval]);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      const result = await api.post<SubscriptionChange>(paths.subscription, { plan: planId, interval });
      const name = planName(plans, plan.id);
      const invoice = result.invoice
        ? ` Invoice ${result.invoice.number} for ${formatCents(result.invoice.total)} was created.`
        : "";
      onDone(
        result.billing.ends_with || toFree
          ? `The account moves to ${name} at the end of the current period.${invoice}`
          : `The account is on ${name} (${intervalLabel(interval).toLowerCase()}) now.${invoice}`,
      );
    } catch (caught) {
      setError({ text: explainError(caught), code: errorCode(caught) });
      setBusy(false);
    }
  }

  const title = toFree
    ? "Downgrade to Free?"
    : `Change to ${planName(plans, plan.id)}, ${intervalLabel(interval).toLowerCase()}?`;
  const preview = state.status === "ready" ? state.preview : null;
  const needsMethod = (code: string | null) => code === "payment_method_required";

  return (
    <Dialog title={title} onClose={onClose} busy={busy} wide testId="plan-change-dialog">
      {error ? (
        <FormAlert testId="dialog-error" code={error.code}>
          {error.text}
          {needsMethod(error.code) ? <AddMethodHint /> : null}
        </FormAlert>
      ) : null}
      {toFree ? (
        <p data-testid="plan-change-downgrade-note">
          The downgrade takes effect at the end of the current period
          {overview.current_period ? ` (${formatDay(overview.current_period.end)})` : ""}: until then the
          account keeps {planName(plans, overview.plan)}, already paid for, and nothing is refunded. Free
          allows at most {plan.seat_limit ?? 3} seats, so remove people first if more are in use.
        </p>
      ) : !hasPaymentMethod && plan.prices.month > 0 ? (
        <FormAlert tone="info" testId="plan-change-no-method">
          This plan is paid: add a payment method first.
          <AddMethodHint />
        </FormAlert>
      ) : null}
      {state.status === "loading" ? (
        <p role="status" className="muted" data-testid="plan-preview-loading">
          Calculating the price…
        </p>
      ) : null}
      {state.status === "failed" ? (
        <FormAlert testId="plan-preview-error" code={state.code}>
          <p>{state.text}</p>
          {needsMethod(state.code) ? (
            <AddMethodHint />
          ) : (
            <button
              type="button"
              className="button button-secondary button-small"
              onClick={() => setAttempt((count) => count + 1)}
            >
              Try again
            </button>
          )}
        </FormAlert>
      ) : null}
      {preview ? (
        <div data-testid="plan-preview" data-effective={preview.effective} data-total={preview.total}>
          <p>
            {preview.effective === "now"
              ? `Takes effect now. The new period runs ${formatDay(preview.period.start)} – ${formatDay(preview.period.end)}.`
              : `Takes effect at the end of the current period, on ${formatDay(preview.period.start)}.`}
          </p>
          {preview.lines.length > 0 ? (
            <InvoiceLinesTable
              lines={preview.lines}
              subtotal={preview.subtotal}
              total={preview.total}
              currency={preview.currency}
              totalLabel={preview.effective === "now" ? "Total due now" : "Total due then"}
              lineTestId="plan-preview-line"
              totalTestId="plan-preview-total"
            />
          ) : (
            <p data-testid="plan-preview-total" className="muted">
              Nothing is charged for this change.
            </p>
          )}
        </div>
      ) : null}
      <DialogActions>
        <button
          type="button"
          className={toFree ? "button button-danger-solid" : "button"}
          disabled={busy || !preview}
          onClick={confirm}
          data-testid="plan-change-confirm"
        >
          {busy ? "Changing…" : toFree ? "Downgrade at period end" : "Confirm change"}
        </button>
        <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
          {/* Beside a downgrade, "Cancel" could read as cancelling the plan: say what it keeps. */}
          {toFree ? `Keep ${planName(plans, overview.plan)}` : "Cancel"}
        </button>
      </DialogActions>
    </Dialog>
  );
}

function AddMethodHint() {
  return <p className="field-hint">Close this and add one under “Payment methods” further down this page.</p>;
}
