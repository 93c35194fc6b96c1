import type { PostalAddress } from "../accounts/organization.js";
import type { InvoiceLine, InvoiceRecord } from "./invoices.repository.js";

/** Cents as dollars with two decimals: 19000 → "190.00", -950 → "-9.50". */
export function formatAmount(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

const day = (iso: string) => iso.slice(0, 10);

/**
 * One CSV cell (RFC 4180). Text that a spreadsheet would run as a formula (starting with = + - @, a
 * tab or a carriage return) gets a leading apostrophe, so it stays text.
 */
export function csvCell(value: string | number, kind: "text" | "number" = "text"): string {
  let text = String(value);
  if (kind === "text" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(cells: ReadonlyArray<readonly [string | number, "text" | "number"]>): string {
  return cells.map(([value, kind]) => csvCell(value, kind)).join(",");
}

/** The invoice list as CSV: one row per invoice, totals in dollars. */
export function invoicesCsv(invoices: readonly InvoiceRecord[]): string {
  const header = ["number", "date", "period_start", "period_end", "status", "total", "currency"].join(",");
  const rows = invoices.map((i) =>
    csvRow([
      [i.number, "text"],
      [day(i.createdAt), "text"],
      [day(i.periodStart), "text"],
      [day(i.periodEnd), "text"],
      [i.status, "text"],
      [formatAmount(i.total), "number"],
      [i.currency, "text"],
    ]),
  );
  return `${[header, ...rows].join("\r\n")}\r\n`;
}

/** An address as a letter shows it: street lines, "postal code city", region, country code. */
export function addressLines(address: PostalAddress): string[] {
  return [
    address.line1,
    address.line2,
    [address.postal_code, address.city].filter(Boolean).join(" "),
    address.region,
    address.country,
  ].filter((line): line is string => Boolean(line));
}

/**
 * The invoice as a PDF (A4, the built-in Helvetica: no font files needed). The billed-to block is the
 * invoice's own snapshot, so a PDF printed later says what it said when the invoice was issued.
 */
export async function invoicePdf(invoice: InvoiceRecord, lines: readonly InvoiceLine[]): Promise<Buffer> {
  // Loaded with the first PDF, not when a process starts: most never print an invoice.
  const { default: PDFDocument } = await import("pdfkit");
  const billTo = invoice.billTo;
  const doc = new PDFDocument({
    size: "A4",
    margin: 50,
    info: { Title: `Invoice ${invoice.number}`, Author: "Gatehouse", Subject: billTo.legal_name },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("data", (chunk: Buffer) => chunks.push(chunk));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  // "-$98.06" for a credit, as people write it (not "$-98.06").
  const money = (cents: number) => `${cents < 0 ? "-" : ""}$${formatAmount(Math.abs(cents))}`;
  const left = 50;
  const width = doc.page.width - 100;

  doc.font("Helvetica-Bold").fontSize(20).text("Invoice", left, 50);
  doc.font("Helvetica").fontSize(10).fillColor("#444");
  doc.text(`Number: ${invoice.number}`);
  doc.text(`Date: ${day(invoice.createdAt)}`);
  doc.text(`Period: ${day(invoice.periodStart)} to ${day(invoice.periodEnd)}`);
  doc.text(`Status: ${invoice.status}${invoice.paidAt ? ` (paid ${day(invoice.paidAt)})` : ""}`);
  doc.moveDown();
  doc.fillColor("#000").font("Helvetica-Bold").text("Billed to");
  doc.font("Helvetica").text(billTo.legal_name);
  for (const line of billTo.address ? addressLines(billTo.address) : []) doc.text(line);
  if (billTo.tax_id) doc.text(`Tax ID: ${billTo.tax_id}`);
  doc.moveDown();

  const columns = [
    { title: "Description", x: left, w: 250, align: "left" as const },
    { title: "Qty", x: left + 255, w: 40, align: "right" as const },
    { title: "Unit", x: left + 300, w: 90, align: "right" as const },
    { title: "Amount", x: left + 395, w: width - 395, align: "right" as const },
  ];
  const row = (cells: string[], bold = false) => {
    const y = doc.y;
    doc.font(bold ? "Helvetica-Bold" : "Helvetica");
    let bottom = y;
    cells.forEach((cell, i) => {
      const column = columns[i];
      if (!column) return;
      doc.text(cell, column.x, y, { width: column.w, align: column.align });
      bottom = Math.max(bottom, doc.y);
    });
    doc.x = left;
    doc.y = bottom + 4;
  };
  row(
    columns.map((c) => c.title),
    true,
  );
  doc
    .moveTo(left, doc.y)
    .lineTo(left + width, doc.y)
    .strokeColor("#999")
    .stroke();
  doc.y += 4;
  for (const line of lines) {
    row([
      `${line.description}\n${day(line.periodStart)} to ${day(line.periodEnd)}`,
      String(line.quantity),
      money(line.unitAmount),
      money(line.amount),
    ]);
  }
  doc
    .moveTo(left, doc.y)
    .lineTo(left + width, doc.y)
    .strokeColor("#999")
    .stroke();
  doc.y += 4;
  row(["Subtotal", "", "", money(invoice.subtotal)]);
  const credits = invoice.total - invoice.subtotal;
  if (credits !== 0) row(["Credits", "", "", money(credits)]);
  row([`Total (${invoice.currency})`, "", "", money(invoice.total)], true);
  doc.end();
  return done;
}
