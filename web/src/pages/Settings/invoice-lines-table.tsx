import { formatCents } from "../../money";
import type { InvoiceLine } from "../../types";
import { useFormatDay } from "./billing-data";

type Props = {
  lines: readonly InvoiceLine[];
  subtotal: number;
  total: number;
  currency: string;
  totalLabel: string;
  /** `data-testid` of each line row: "invoice-line" in the invoices list, "plan-preview-line" in a preview. */
  lineTestId: string;
  totalTestId?: string;
};

/** Invoice lines (seats, proration, credits) with the dates they cover, and the totals. */
export function InvoiceLinesTable({
  lines,
  subtotal,
  total,
  currency,
  totalLabel,
  lineTestId,
  totalTestId,
}: Props) {
  const formatDay = useFormatDay();
  return (
    <table className="table invoice-lines">
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col">Covers</th>
          <th scope="col" className="cell-number">
            Qty
          </th>
          <th scope="col" className="cell-number">
            Unit
          </th>
          <th scope="col" className="cell-number">
            Amount
          </th>
        </tr>
      </thead>
      <tbody>
        {lines.map((line, index) => (
          <tr
            // biome-ignore lint/suspicious/noArrayIndexKey: lines have no ids and never reorder
            key={index}
            data-testid={lineTestId}
            data-kind={line.kind}
            data-quantity={line.quantity}
            data-unit-amount={line.unit_amount}
            data-amount={line.amount}
          >
            <td>
              {line.description}
              {line.kind !== "seats" ? (
                <>
                  {" "}
                  <span className={`badge${line.kind === "credit" ? " badge-success" : ""}`}>
                    {line.kind === "credit" ? "Credit" : "Proration"}
                  </span>
                </>
              ) : null}
            </td>
            <td>{line.period ? `${formatDay(line.period.start)} – ${formatDay(line.period.end)}` : "—"}</td>
            <td className="cell-number">{line.quantity}</td>
            <td className="cell-number">{formatCents(line.unit_amount, currency)}</td>
            <td className="cell-number">{formatCents(line.amount, currency)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        {subtotal !== total ? (
          <tr>
            <th scope="row" colSpan={4}>
              Subtotal
            </th>
            <td className="cell-number">{formatCents(subtotal, currency)}</td>
          </tr>
        ) : null}
        <tr>
          <th scope="row" colSpan={4}>
            {totalLabel}
          </th>
          <td className="cell-number" data-testid={totalTestId} data-total={total}>
            <strong>{formatCents(total, currency)}</strong>
          </td>
        </tr>
      </tfoot>
    </table>
  );
}
