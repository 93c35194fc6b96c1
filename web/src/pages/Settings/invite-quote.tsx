import { explainItemError } from "../../error-messages";
import { formatCents } from "../../money";
import type { InvitePreview } from "../../types";
import { useFormatDay } from "./billing-data";

/**
 * What each address would cost once accepted, before anything is sent (paid plans): one seat for the
 * rest of the billing period, prorated as of today.
 */
export function InviteQuote({ items }: { items: ReadonlyArray<InvitePreview & { key: string }> }) {
  const formatDay = useFormatDay();
  const costs = items.flatMap((item) => (item.preview ? [item.preview] : []));
  const total = costs.reduce((sum, cost) => sum + cost.amount, 0);
  const currency = costs[0]?.currency ?? "USD";
  const periodEnd = costs.flatMap((cost) => cost.lines)[0]?.period?.end;
  const charged = total > 0;
  return (
    <div className="invite-quote" data-testid="invite-quote" data-total={total}>
      <p className="muted">
        Sending is free. Each invitation is charged when it is accepted: one seat for the rest of the billing
        period{periodEnd ? ` (to ${formatDay(periodEnd)})` : ""}, prorated. The amounts below are for
        acceptance today; later costs less.
      </p>
      <ul className="result-list" aria-label="Cost when accepted">
        {items.map((item) => (
          <li
            key={item.key}
            className={item.error ? "result-fail" : undefined}
            data-testid="invite-quote-item"
            data-email={item.email}
            data-amount={item.preview?.amount}
            data-code={item.error?.code}
          >
            <span className="result-icon" aria-hidden="true">
              {item.error ? "✗" : "•"}
            </span>
            <span className="break">
              <strong>{item.email}</strong>
              {" — "}
              {item.error ? (
                explainItemError(item.error)
              ) : item.preview && item.preview.amount > 0 ? (
                <>
                  {formatCents(item.preview.amount, item.preview.currency)} when accepted{" "}
                  <span className="muted">({item.preview.lines[0]?.description})</span>
                </>
              ) : charged ? (
                // Others cost something: this one fits into a seat already paid for this period.
                "No charge when accepted (a seat already paid for this period)"
              ) : (
                "No charge when accepted"
              )}
            </span>
          </li>
        ))}
      </ul>
      <p data-testid="invite-quote-total">
        <strong>
          If {costs.length === 1 ? "it is" : `all ${costs.length} are`} accepted today:{" "}
          {formatCents(total, currency)}
        </strong>
      </p>
    </div>
  );
}
