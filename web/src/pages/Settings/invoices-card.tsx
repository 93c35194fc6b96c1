import { Fragment, useState } from "react";
import { withQuery } from "../../api";
import { SelectField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LinkedItemMissing } from "../../components/linked-item-missing";
import { LoadingBlock } from "../../components/skeleton";
import { errorNotice, type Notice } from "../../error-messages";
import { formatCents } from "../../money";
import {
  INVOICE_FILTER_STATUSES,
  type Invoice,
  type InvoiceDetail,
  type InvoiceFilterStatus,
  type InvoiceStatus,
} from "../../types";
import { useApi } from "../../use-api";
import { usePreferences } from "../../use-preferences";
import { type Resource, useResource } from "../../use-resource";
import { linkedItemMark, useRevealLinkedItem } from "../../use-reveal-linked-item";
import { useBillingPaths, useFormatDay } from "./billing-data";
import { InvoiceLinesTable } from "./invoice-lines-table";

const STATUS: Record<InvoiceStatus, { label: string; badge: string }> = {
  draft: { label: "Draft", badge: "badge" },
  open: { label: "Open", badge: "badge badge-warning" },
  paid: { label: "Paid", badge: "badge badge-success" },
  void: { label: "Void", badge: "badge" },
};

type Props = {
  invoices: Resource<{ data: Invoice[] }>;
  manage: boolean;
  /** An invoice was paid: the overview and list change. */
  onChanged: () => void;
  /** A deep link's invoice (/settings/billing/invoices/{id}): shown open, marked and scrolled to. */
  linkedInvoiceId?: string | null;
};

const FILTER_LABELS: Record<InvoiceFilterStatus, string> = {
  all: "All invoices",
  open: "Open",
  paid: "Paid",
  failed: "Payment failed",
  void: "Void",
};

/** The account's invoices, newest first: details with their lines, PDF, paying open ones, CSV export. */
export function InvoicesCard({ invoices: all, manage, onChanged, linkedInvoiceId = null }: Props) {
  const api = useApi();
  const paths = useBillingPaths();
  const formatDay = useFormatDay();
  const { preferences } = usePreferences();
  // Opens on the saved default invoices filter; a deep link to one invoice shows them all.
  // (Until the user picks one: the preferences may arrive after the card mounts.)
  const [picked, setPicked] = useState<InvoiceFilterStatus | null>(null);
  const statusFilter: InvoiceFilterStatus =
    picked ?? (linkedInvoiceId === null ? (preferences?.default_invoices_filter.status ?? "all") : "all");
  const filteredInvoices = useResource<{ data: Invoice[] }>(
    statusFilter === "all" ? null : withQuery(paths.invoices, { status: statusFilter }),
  );
  const invoices = statusFilter === "all" ? all : filteredInvoices;
  const [expanded, setExpanded] = useState<string[]>(linkedInvoiceId === null ? [] : [linkedInvoiceId]);
  const [paying, setPaying] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const list = invoices.data?.data;
  const anyInvoices = (all.data?.data.length ?? 0) > 0;
  const linked = list?.find((invoice) => invoice.id === linkedInvoiceId);
  useRevealLinkedItem(linkedInvoiceId, linked !== undefined);

  async function pay(invoice: Invoice) {
    setPaying(invoice.id);
    setNotice(null);
    try {
      const paid = await api.post<Invoice>(paths.invoicePay(invoice.id));
      setNotice(
        paid?.status === "paid" || paid === undefined
          ? { tone: "success", text: `Invoice ${invoice.number} is paid.` }
          : { tone: "error", text: `Invoice ${invoice.number} is still ${paid.status}.` },
      );
      onChanged();
      filteredInvoices.reload();
    } catch (caught) {
      setNotice(errorNotice(caught, `Invoice ${invoice.number} could not be paid`));
      onChanged();
      filteredInvoices.reload();
    } finally {
      setPaying(null);
    }
  }

  function toggle(id: string) {
    setExpanded((current) =>
      current.includes(id) ? current.filter((open) => open !== id) : [...current, id],
    );
  }

  return (
    <section className="card" aria-labelledby="invoices-heading" data-testid="invoices-card">
      <div className="card-header">
        <h2 id="invoices-heading">Invoices</h2>
        {anyInvoices ? (
          <a
            className="button button-secondary button-small"
            href={paths.invoicesCsvUrl}
            download="invoices.csv"
            data-testid="invoices-csv"
          >
            Export CSV
          </a>
        ) : null}
      </div>
      {anyInvoices || statusFilter !== "all" ? (
        <search className="filters" aria-label="Filter invoices">
          <SelectField
            label="Status"
            name="invoice_status"
            value={statusFilter}
            onValueChange={(value) => setPicked(value as InvoiceFilterStatus)}
            options={INVOICE_FILTER_STATUSES.map((value) => ({ value, label: FILTER_LABELS[value] }))}
            data-testid="invoice-status-filter"
          />
        </search>
      ) : null}
      {notice ? (
        <FormAlert tone={notice.tone} code={notice.code} testId="invoice-notice">
          {notice.text}
        </FormAlert>
      ) : null}
      {invoices.error ? (
        <FormAlert testId="billing-load-error">
          <p>The invoices could not be loaded: {invoices.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={invoices.reload}>
            Try again
          </button>
        </FormAlert>
      ) : null}
      {linkedInvoiceId !== null && list && !linked ? <LinkedItemMissing what="invoice" /> : null}
      {!list && !invoices.error ? (
        <LoadingBlock label="Loading invoices…" table={{ columns: 5, rows: 3 }} />
      ) : null}
      {list && list.length === 0 ? (
        <p className="muted" data-testid="invoices-empty">
          {statusFilter === "all"
            ? "No invoices yet."
            : `No invoices with the status “${FILTER_LABELS[statusFilter]}”.`}
        </p>
      ) : null}
      {list && list.length > 0 ? (
        <table className="table responsive-table invoices-table">
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Date</th>
              <th scope="col">Period</th>
              <th scope="col">Status</th>
              <th scope="col" className="cell-number">
                Total
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((invoice) => {
              const open = expanded.includes(invoice.id);
              const status = STATUS[invoice.status] ?? { label: invoice.status, badge: "badge" };
              return (
                <Fragment key={invoice.id}>
                  <tr
                    data-testid="invoice-row"
                    data-invoice-id={invoice.id}
                    data-number={invoice.number}
                    data-status={invoice.status}
                    data-total={invoice.total}
                    data-highlighted={linkedItemMark(linkedInvoiceId, invoice.id)}
                  >
                    <td className="cell-primary">
                      <button
                        type="button"
                        className="link-button"
                        aria-expanded={open}
                        onClick={() => toggle(invoice.id)}
                        data-testid="invoice-toggle"
                      >
                        {invoice.number}
                      </button>
                    </td>
                    <td data-label="Date">{formatDay(invoice.created_at)}</td>
                    <td data-label="Period">
                      {formatDay(invoice.period.start)} – {formatDay(invoice.period.end)}
                    </td>
                    <td data-label="Status">
                      <span className={status.badge} data-testid="invoice-status">
                        {status.label}
                      </span>
                    </td>
                    <td data-label="Total" className="cell-number">
                      {formatCents(invoice.total, invoice.currency)}
                    </td>
                    <td className="cell-actions">
                      <span className="button-row">
                        <a
                          className="button button-secondary button-small"
                          href={paths.invoicePdfUrl(invoice.id)}
                          download={`${invoice.number}.pdf`}
                          data-testid="invoice-pdf"
                          aria-label={`Download invoice ${invoice.number} as PDF`}
                        >
                          PDF
                        </a>
                        {manage && invoice.status === "open" ? (
                          <button
                            type="button"
                            className="button button-small"
                            onClick={() => pay(invoice)}
                            disabled={paying !== null}
                            data-testid="invoice-pay"
                            aria-label={`Pay invoice ${invoice.number} now`}
                          >
                            {paying === invoice.id ? "Paying…" : "Pay now"}
                          </button>
                        ) : null}
                      </span>
                    </td>
                  </tr>
                  {open ? (
                    <tr className="invoice-details-row">
                      <td colSpan={6}>
                        <InvoiceLines id={invoice.id} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function InvoiceLines({ id }: { id: string }) {
  const paths = useBillingPaths();
  const detail = useResource<InvoiceDetail>(paths.invoice(id));
  if (detail.error) {
    return (
      <FormAlert testId="invoice-lines-error">
        <p>The invoice could not be loaded: {detail.error}</p>
        <button type="button" className="button button-secondary button-small" onClick={detail.reload}>
          Try again
        </button>
      </FormAlert>
    );
  }
  if (!detail.data) {
    return (
      <p role="status" className="muted">
        Loading the invoice…
      </p>
    );
  }
  const invoice = detail.data;
  return (
    <div data-testid="invoice-lines" data-invoice-id={invoice.id}>
      <InvoiceLinesTable
        lines={invoice.lines}
        subtotal={invoice.subtotal}
        total={invoice.total}
        currency={invoice.currency}
        totalLabel="Total"
        lineTestId="invoice-line"
      />
    </div>
  );
}
