import { type FormEvent, useId, useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { Dialog, DialogActions } from "../../components/dialog";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import { errorCode, errorNotice, explainError, type Notice } from "../../error-messages";
import type { PaymentMethod } from "../../types";
import { useApi } from "../../use-api";
import type { Resource } from "../../use-resource";
import {
  paymentMethodLabel,
  providerLabel,
  TEST_TOKENS,
  type TestToken,
  useBillingPaths,
} from "./billing-data";

type Props = {
  methods: Resource<{ data: PaymentMethod[] }>;
  /** From the billing overview; undefined until it is in. */
  autoPay: boolean | undefined;
  manage: boolean;
  onChanged: () => void;
};

/** Cards and bank accounts of the payment provider, the default one, and whether invoices are paid by themselves. */
export function PaymentMethodsCard({ methods, autoPay, manage, onChanged }: Props) {
  const api = useApi();
  const paths = useBillingPaths();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<PaymentMethod | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const list = methods.data?.data;

  async function makeDefault(method: PaymentMethod) {
    setBusyId(method.id);
    setNotice(null);
    try {
      await api.patch(paths.paymentMethod(method.id), { default: true });
      setNotice({
        tone: "success",
        text: `${paymentMethodLabel(method)} is the default payment method now.`,
      });
      onChanged();
    } catch (caught) {
      setNotice(errorNotice(caught, "The default could not be changed"));
    } finally {
      setBusyId(null);
    }
  }

  async function remove(method: PaymentMethod) {
    await api.delete(paths.paymentMethod(method.id));
    setNotice({ tone: "success", text: `Removed ${paymentMethodLabel(method)}.` });
    onChanged();
  }

  return (
    <section
      className="card"
      id="payment-methods"
      aria-labelledby="payment-methods-heading"
      data-testid="payment-methods-card"
    >
      <div className="card-header">
        <h2 id="payment-methods-heading">Payment methods</h2>
        {manage ? (
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={() => {
              setNotice(null);
              setAdding(true);
            }}
            disabled={!list}
            data-testid="payment-method-add"
          >
            Add a payment method
          </button>
        ) : null}
      </div>
      {notice ? (
        <FormAlert tone={notice.tone} code={notice.code} testId="payment-method-notice">
          {notice.text}
        </FormAlert>
      ) : null}
      {methods.error ? (
        <FormAlert testId="billing-load-error">
          <p>The payment methods could not be loaded: {methods.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={methods.reload}>
            Try again
          </button>
        </FormAlert>
      ) : null}
      {!list && !methods.error ? <LoadingBlock label="Loading payment methods…" lines={2} /> : null}
      {list && list.length === 0 ? (
        <p className="muted" data-testid="payment-methods-empty">
          No payment method yet. Paid plans need one.
        </p>
      ) : null}
      {list && list.length > 0 ? (
        <table className="table responsive-table">
          <thead>
            <tr>
              <th scope="col">Method</th>
              <th scope="col">Expires</th>
              <th scope="col">Provider</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((method) => (
              <tr
                key={method.id}
                data-testid="payment-method-row"
                data-payment-method-id={method.id}
                data-type={method.type}
                data-default={method.default ? "true" : "false"}
              >
                <td className="cell-primary">
                  <span className="device">{paymentMethodLabel(method)}</span>
                  {method.default ? (
                    <>
                      {" "}
                      <span className="badge badge-success" data-testid="payment-method-default">
                        Default
                      </span>
                    </>
                  ) : null}
                </td>
                <td data-label="Expires">
                  {method.exp_month && method.exp_year
                    ? `${String(method.exp_month).padStart(2, "0")}/${method.exp_year}`
                    : "—"}
                </td>
                <td data-label="Provider">{providerLabel(method.provider)}</td>
                <td className="cell-actions">
                  {manage ? (
                    <span className="button-row">
                      {method.default ? null : (
                        <button
                          type="button"
                          className="button button-secondary button-small"
                          onClick={() => makeDefault(method)}
                          disabled={busyId !== null}
                          data-testid="payment-method-make-default"
                          aria-label={`Make ${paymentMethodLabel(method)} the default`}
                        >
                          {busyId === method.id ? "Saving…" : "Make default"}
                        </button>
                      )}
                      <button
                        type="button"
                        className="button button-danger button-small"
                        onClick={() => {
                          setNotice(null);
                          setRemoving(method);
                        }}
                        data-testid="payment-method-remove"
                        aria-label={`Remove ${paymentMethodLabel(method)}`}
                      >
                        Remove
                      </button>
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <AutoPaySwitch value={autoPay} manage={manage} onChanged={onChanged} />

      {adding ? (
        <AddPaymentMethodDialog
          isFirst={(list?.length ?? 0) === 0}
          onAdded={(method) => {
            setAdding(false);
            setNotice({ tone: "success", text: `Added ${paymentMethodLabel(method)}.` });
            onChanged();
          }}
          onClose={() => setAdding(false)}
        />
      ) : null}
      {removing ? (
        <ConfirmDialog
          title={`Remove ${paymentMethodLabel(removing)}?`}
          confirmLabel={removing.type === "ach" ? "Remove bank account" : "Remove card"}
          busyLabel="Removing…"
          danger
          testId="payment-method-remove-dialog"
          confirmTestId="payment-method-remove-confirm"
          onConfirm={() => remove(removing)}
          onClose={() => setRemoving(null)}
        >
          <p>
            {removing.default
              ? "It is the default payment method. A paid plan needs one, so make another one the default or add one."
              : "It is no longer charged for anything."}
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function AutoPaySwitch({
  value,
  manage,
  onChanged,
}: {
  value: boolean | undefined;
  manage: boolean;
  onChanged: () => void;
}) {
  const api = useApi();
  const paths = useBillingPaths();
  const id = useId();
  const [pending, setPending] = useState<boolean | null>(null);
  const [error, setError] = useState<{ text: string; code: string | null } | null>(null);
  if (value === undefined) return null;
  const checked = pending ?? value;

  async function toggle(next: boolean) {
    setPending(next);
    setError(null);
    try {
      await api.patch(paths.autoPay, { auto_pay: next });
      onChanged();
    } catch (caught) {
      setError({ text: explainError(caught), code: errorCode(caught) });
    } finally {
      setPending(null);
    }
  }

  return (
    <div className="field field-checkbox auto-pay">
      <input
        id={id}
        type="checkbox"
        role="switch"
        checked={checked}
        aria-checked={checked}
        disabled={!manage || pending !== null}
        onChange={(event) => toggle(event.target.checked)}
        aria-describedby={`${id}-hint`}
        data-testid="auto-pay"
      />
      <label htmlFor={id}>Pay invoices automatically</label>
      <div id={`${id}-hint`} className="field-hint">
        Each new invoice is charged to the default payment method at once. Off: pay open invoices yourself.
      </div>
      {error ? (
        <FormAlert testId="auto-pay-error" code={error.code}>
          {error.text}
        </FormAlert>
      ) : null}
    </div>
  );
}

function AddPaymentMethodDialog({
  isFirst,
  onAdded,
  onClose,
}: {
  isFirst: boolean;
  onAdded: (method: PaymentMethod) => void;
  onClose: () => void;
}) {
  const api = useApi();
  const paths = useBillingPaths();
  const groupId = useId();
  const [token, setToken] = useState<TestToken>("tok_visa");
  const [makeDefault, setMakeDefault] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; code: string | null } | null>(null);
  const chosen = TEST_TOKENS.find((candidate) => candidate.token === token) ?? TEST_TOKENS[0];

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const method = await api.post<PaymentMethod>(paths.paymentMethods, {
        type: chosen.type,
        token: chosen.token,
        default: isFirst || makeDefault,
      });
      onAdded(method);
    } catch (caught) {
      setError({ text: explainError(caught), code: errorCode(caught) });
      setBusy(false);
    }
  }

  return (
    <Dialog title="Add a payment method" onClose={onClose} busy={busy} testId="payment-method-add-dialog">
      <form onSubmit={submit} noValidate>
        {error ? (
          <FormAlert testId="dialog-error" code={error.code}>
            {error.text}
          </FormAlert>
        ) : null}
        <FormAlert tone="info" testId="offline-provider-note">
          <strong>Offline test provider.</strong> This Gatehouse uses the built-in offline provider: no real
          card or bank account is charged and no card numbers are asked for. Pick a test payment method below.
        </FormAlert>
        <fieldset className="field checkbox-list">
          <legend>Test payment method</legend>
          <div className="checkbox-list-options">
            {TEST_TOKENS.map((candidate) => (
              <div key={candidate.token} className="checkbox-option">
                <input
                  id={`${groupId}-${candidate.token}`}
                  type="radio"
                  name="token"
                  value={candidate.token}
                  checked={token === candidate.token}
                  onChange={() => {
                    setToken(candidate.token);
                    // The refusal was about the method picked before.
                    setError(null);
                  }}
                  aria-describedby={`${groupId}-${candidate.token}-note`}
                  data-testid={`payment-token-${candidate.token}`}
                />
                <label htmlFor={`${groupId}-${candidate.token}`}>
                  {candidate.label} <code>{candidate.token}</code>
                </label>
                <div id={`${groupId}-${candidate.token}-note`} className="field-hint">
                  {candidate.note}
                </div>
              </div>
            ))}
          </div>
        </fieldset>
        {isFirst ? (
          <p className="field-hint">The first payment method is the default.</p>
        ) : (
          <div className="field field-checkbox">
            <input
              id={`${groupId}-default`}
              type="checkbox"
              checked={makeDefault}
              onChange={(event) => setMakeDefault(event.target.checked)}
              data-testid="payment-method-default-checkbox"
            />
            <label htmlFor={`${groupId}-default`}>Make it the default</label>
          </div>
        )}
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="payment-method-add-confirm">
            {busy ? "Adding…" : "Add payment method"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
