import { useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import { errorNotice, type Notice } from "../../error-messages";
import { formatBytes, formatCents, formatCount } from "../../money";
import type { BillingOverview, Invoice, PaymentMethod, Plan } from "../../types";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { type Resource, useResource } from "../../use-resource";
import { useToast } from "../../use-toast";
import { intervalLabel, paymentMethodLabel, planName, useBillingPaths, useFormatDay } from "./billing-data";
import { BillingPlansCard } from "./billing-plans";
import { InvoicesCard } from "./invoices-card";
import type { SettingsPageProps } from "./pages";
import { PaymentMethodsCard } from "./payment-methods-card";

/** Settings → Billing: the plan and seats, plan choice, payment methods, invoices and usage. */
export function BillingTab({ itemId = null }: SettingsPageProps) {
  const paths = useBillingPaths();
  const { can } = usePermissions();
  const manage = can("billing:manage");
  const overview = useResource<BillingOverview>(paths.overview);
  const plans = useResource<{ data: Plan[] }>("/plans");
  const methods = useResource<{ data: PaymentMethod[] }>(paths.paymentMethods);
  const invoices = useResource<{ data: Invoice[] }>(paths.invoices);
  const [notice, setNotice] = useState<Notice | null>(null);

  /** After any change: the plan, invoices and payment methods may all have moved. */
  function refresh() {
    overview.reload();
    invoices.reload();
    methods.reload();
  }

  return (
    <div className="stack billing" data-testid="billing-tab">
      {notice ? (
        <FormAlert tone={notice.tone} code={notice.code} testId="billing-notice">
          {notice.text}
        </FormAlert>
      ) : null}
      <PlanSummaryCard overview={overview} plans={plans.data?.data} manage={manage} onNotice={setNotice} />
      <BillingPlansCard
        overview={overview.data}
        plans={plans}
        manage={manage}
        hasPaymentMethod={(methods.data?.data.length ?? 0) > 0}
        onChanged={(text) => {
          setNotice({ tone: "success", text });
          refresh();
        }}
      />
      <PaymentMethodsCard
        methods={methods}
        autoPay={overview.data?.auto_pay}
        manage={manage}
        onChanged={() => {
          methods.reload();
          overview.reload();
        }}
      />
      <InvoicesCard invoices={invoices} manage={manage} onChanged={refresh} linkedInvoiceId={itemId} />
      <UsageCard overview={overview.data} />
    </div>
  );
}

function LoadError({ what, resource }: { what: string; resource: Resource<unknown> }) {
  return (
    <FormAlert testId="billing-load-error">
      <p>
        {what} could not be loaded: {resource.error}
      </p>
      <button type="button" className="button button-secondary button-small" onClick={resource.reload}>
        Try again
      </button>
    </FormAlert>
  );
}

function PlanSummaryCard({
  overview,
  plans,
  manage,
  onNotice,
}: {
  overview: Resource<BillingOverview>;
  plans: readonly Plan[] | undefined;
  manage: boolean;
  onNotice: (notice: Notice | null) => void;
}) {
  const api = useApi();
  const paths = useBillingPaths();
  const formatDay = useFormatDay();
  const toast = useToast();
  const [cancelling, setCancelling] = useState(false);
  const billing = overview.data;
  const freeLimit = plans?.find((plan) => plan.id === "free")?.seat_limit ?? 3;

  async function cancel() {
    if (!billing) return;
    const { plan, interval } = billing;
    await api.delete<BillingOverview>(paths.subscription);
    toast.show({
      text: `Your ${planName(plans, plan)} subscription ends on ${formatDay(billing.current_period?.end ?? billing.next_billing_date)}; the account then returns to Free.`,
      // Asking for the same plan and interval again undoes a pending cancellation (docs/api-billing.md);
      // an Enterprise plan is an operator's to set, so there it is not offered.
      ...(interval && plan !== "enterprise"
        ? {
            action: {
              label: "Keep subscription",
              run: () => {
                onNotice(null);
                api.post(paths.subscription, { plan, interval }).then(
                  () => {
                    toast.show({ text: `Your ${planName(plans, plan)} subscription continues.` });
                    overview.reload();
                  },
                  (caught: unknown) => onNotice(errorNotice(caught, "Could not keep the subscription")),
                );
              },
            },
          }
        : {}),
    });
    overview.reload();
  }

  return (
    <section className="card" aria-labelledby="billing-plan-heading" data-testid="billing-summary">
      <h2 id="billing-plan-heading">Current plan</h2>
      {billing ? (
        <>
          <div className="billing-plan-line">
            <span className="billing-plan-name" data-testid="billing-plan" data-plan={billing.plan}>
              {planName(plans, billing.plan)}
            </span>{" "}
            {billing.interval ? (
              <span className="badge" data-testid="billing-interval" data-interval={billing.interval}>
                {intervalLabel(billing.interval)}
              </span>
            ) : null}
          </div>
          {billing.ends_with ? (
            <FormAlert tone="info" testId="billing-ends-notice">
              Your {planName(plans, billing.plan)} subscription ends on{" "}
              {formatDay(billing.current_period?.end ?? billing.next_billing_date)}. The account then returns
              to {planName(plans, billing.ends_with)}; nothing more is charged.
            </FormAlert>
          ) : null}
          <SeatUsage seats={billing.seats} />
          <dl className="details">
            <div>
              <dt>Price per seat</dt>
              <dd data-testid="billing-unit-price">
                {formatCents(billing.unit_price)} per seat per month
                {billing.interval === "year" ? ", billed annually" : ""}
              </dd>
            </div>
            <div>
              <dt>Current period</dt>
              <dd data-testid="billing-period">
                {billing.current_period
                  ? `${formatDay(billing.current_period.start)} – ${formatDay(billing.current_period.end)}`
                  : "—"}
              </dd>
            </div>
            <div>
              <dt>Next bill</dt>
              <dd data-testid="billing-next">
                {billing.next_billing_date && !billing.ends_with ? (
                  <>
                    {formatDay(billing.next_billing_date)}
                    {billing.estimated_next_amount !== null ? (
                      <>
                        {", about "}
                        <strong data-testid="billing-next-amount" data-cents={billing.estimated_next_amount}>
                          {formatCents(billing.estimated_next_amount)}
                        </strong>
                      </>
                    ) : null}
                  </>
                ) : (
                  "Nothing to pay"
                )}
              </dd>
            </div>
            {billing.payment_method ? (
              <div>
                <dt>Paid with</dt>
                <dd data-testid="billing-payment-method">
                  {paymentMethodLabel(billing.payment_method)}
                  {billing.auto_pay ? ", automatically" : ", when you pay an invoice"}
                </dd>
              </div>
            ) : null}
            {billing.credit_balance > 0 ? (
              <div>
                <dt>Credit</dt>
                <dd data-testid="billing-credit">
                  {formatCents(billing.credit_balance)}, used first on the next invoices
                </dd>
              </div>
            ) : null}
          </dl>
          {manage && billing.plan !== "free" && !billing.ends_with ? (
            <div className="actions billing-summary-actions">
              <button
                type="button"
                className="button button-danger button-small"
                onClick={() => {
                  onNotice(null);
                  setCancelling(true);
                }}
                data-testid="billing-cancel"
              >
                Cancel subscription
              </button>
            </div>
          ) : null}
        </>
      ) : overview.error ? (
        <LoadError what="The billing overview" resource={overview} />
      ) : (
        <LoadingBlock label="Loading the plan…" lines={4} />
      )}
      {cancelling && billing ? (
        <ConfirmDialog
          title={`Cancel your ${planName(plans, billing.plan)} subscription?`}
          confirmLabel="Cancel subscription"
          busyLabel="Cancelling…"
          dismissLabel="Keep subscription"
          danger
          testId="billing-cancel-dialog"
          confirmTestId="billing-cancel-confirm"
          onConfirm={cancel}
          onClose={() => setCancelling(false)}
        >
          <p>
            {planName(plans, billing.plan)} stays active until{" "}
            {formatDay(billing.current_period?.end ?? billing.next_billing_date)}, already paid for. Then the
            account returns to Free: at most {freeLimit} seats, and nothing more is charged. Nothing is
            refunded.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

/** "5 of 10 seats": the bar fills against the plan's limit, or against the billed seats when unlimited. */
function SeatUsage({ seats }: { seats: BillingOverview["seats"] }) {
  const scale = seats.limit ?? Math.max(seats.billed, seats.used, 1);
  const percent = Math.min(100, Math.round((seats.used / scale) * 100));
  const full = seats.limit !== null && seats.used >= seats.limit;
  return (
    <div
      className="seat-usage"
      data-testid="seat-usage"
      data-used={seats.used}
      data-billed={seats.billed}
      data-limit={seats.limit ?? ""}
    >
      <div className="seat-usage-text">
        <span>
          <strong>{seats.used}</strong>
          {seats.limit !== null ? ` of ${seats.limit}` : ""} seat
          {(seats.limit ?? seats.used) === 1 ? "" : "s"} used
          {seats.limit === null ? " (no limit)" : ""}
        </span>
        <span className="muted">{seats.billed} billed this period</span>
      </div>
      <div className={`seat-bar${full ? " is-full" : ""}`} aria-hidden="true">
        <div className="seat-bar-fill" style={{ width: `${percent}%` }} />
      </div>
      {full ? (
        <p className="field-hint" data-testid="seat-limit-note">
          Every seat is taken: upgrade the plan below to invite more people.
        </p>
      ) : null}
    </div>
  );
}

function UsageCard({ overview }: { overview: BillingOverview | undefined }) {
  return (
    <section className="card" aria-labelledby="billing-usage-heading" data-testid="billing-usage">
      <h2 id="billing-usage-heading">Usage this month</h2>
      {overview ? (
        <dl className="stats">
          <div className="stat">
            <dt>API calls this month</dt>
            <dd>
              <span
                className="stat-value"
                data-testid="usage-api-calls"
                data-count={overview.usage.api_calls}
              >
                {formatCount(overview.usage.api_calls)}
              </span>
              {overview.limits ? (
                <span className="stat-note" data-testid="usage-api-rate-limit">
                  {overview.limits.api_rate_per_minute === null
                    ? "No per-minute limit on this plan"
                    : `Plan limit: ${formatCount(overview.limits.api_rate_per_minute)} requests a minute`}
                </span>
              ) : null}
            </dd>
          </div>
          <div className="stat">
            <dt>Storage</dt>
            <dd>
              <span
                className="stat-value"
                data-testid="usage-storage"
                data-bytes={overview.usage.storage_bytes}
              >
                {formatBytes(overview.usage.storage_bytes)}
              </span>
            </dd>
          </div>
        </dl>
      ) : (
        <p className="muted">Usage shows with the billing overview.</p>
      )}
    </section>
  );
}
