import { once } from "node:events";
import type { Writable } from "node:stream";
import { csvCell, formatAmount } from "../billing/invoice-documents.js";
import type { Column, ExportRow } from "./export-data.repository.js";

export const EXPORT_FORMATS = ["csv", "json", "pdf"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const FILE_TYPES: Record<ExportFormat | "zip", { extension: string; contentType: string }> = {
  csv: { extension: "csv", contentType: "text/csv; charset=utf-8" },
  json: { extension: "jsonl", contentType: "application/x-ndjson; charset=utf-8" },
  pdf: { extension: "pdf", contentType: "application/pdf" },
  zip: { extension: "zip", contentType: "application/zip" },
};

/** Rows go in batch by batch; `end` finishes (and closes) the output. It never holds more than a batch. */
export type RowWriter = {
  write(rows: readonly ExportRow[]): Promise<void>;
  end(): Promise<void>;
};

/** Waits for the stream to take more when it asks to (backpressure): memory stays flat. */
async function push(out: Writable, chunk: string | Buffer): Promise<void> {
  if (!out.write(chunk)) await once(out, "drain");
}

async function finish(out: Writable): Promise<void> {
  const finished = once(out, "finish");
  out.end();
  await finished;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-CA", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
        timeZoneName: "longOffset",
      });
    } catch {
      // A stored zone this runtime's tz data no longer knows: UTC, which the offset then states.
      format = zoneFormat("UTC");
    }
    zoneFormats.set(timeZone, format);
  }
  return format;
}

/**
 * An instant in a time zone, ISO 8601 with its offset: "2026-12-01T10:30:00+01:00". The offset is the
 * zone's at that instant (summer and winter time differ), so the text names one instant exactly.
 */
export function zonedIso(at: string | Date, timeZone: string): string {
  const date = typeof at === "string" ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) return String(at);
  const parts = Object.fromEntries(
    zoneFormat(timeZone)
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const offset = (parts.timeZoneName ?? "GMT").replace("GMT", "") || "+00:00";
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

/** The same for people: "2026-12-01 10:30 +01:00". */
export const readableTime = (at: string | Date, timeZone: string) =>
  zonedIso(at, timeZone)
    .replace("T", " ")
    .replace(/:\d\d(?=[+-])/, " ");

/** A value as text for CSV and PDF (dates in the reader's zone; money in units, not cents). */
function text(column: Column, value: unknown, timeZone: string, readable: boolean): string {
  if (value === null || value === undefined) return "";
  switch (column.kind) {
    case "date":
      return readable ? readableTime(String(value), timeZone) : zonedIso(String(value), timeZone);
    case "money":
      return formatAmount(Number(value));
    case "list":
      return (value as unknown[]).map(String).join("; ");
    case "json":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    default:
      return String(value);
  }
}

/** RFC 4180: CRLF line ends, quoted where needed; cells a spreadsheet would run as formulas made text. */
export function createCsvWriter(out: Writable, columns: readonly Column[], timeZone: string): RowWriter {
  let started = false;
  return {
    async write(rows) {
      let chunk = "";
      if (!started) {
        // A byte-order mark so spreadsheet programs read UTF-8 (names are rarely ASCII only).
        chunk = `\uFEFF${columns.map((c) => csvCell(c.key)).join(",")}\r\n`;
        started = true;
      }
      for (const row of rows) {
        chunk += `${columns
          .map((c) => {
            const value = text(c, row[c.key], timeZone, false);
            return csvCell(value, c.kind === "number" || c.kind === "money" ? "number" : "text");
          })
          .join(",")}\r\n`;
      }
      await push(out, chunk);
    },
    async end() {
      if (!started) await this.write([]);
      await finish(out);
    },
  };
}

/** JSON Lines: one object a line, the columns in order; dates ISO 8601 UTC, money in cents. */
export function createJsonLinesWriter(out: Writable, columns: readonly Column[]): RowWriter {
  return {
    async write(rows) {
      let chunk = "";
      for (const row of rows) {
        const object: Record<string, unknown> = {};
        for (const c of columns) object[c.key] = row[c.key] ?? null;
        chunk += `${JSON.stringify(object)}\n`;
      }
      if (chunk) await push(out, chunk);
    },
    end: () => finish(out),
  };
}

export type PdfReport = {
  title: string;
  accountName: string;
  /** The account's logo (PNG), when it has one. */
  logo?: Buffer | undefined;
  /** "status: active", "from: …": what the rows were chosen by. */
  criteria: string[];
  generatedAt: Date;
  timeZone: string;
  rows: number;
};

/**
 * A readable report: logo, title, criteria, generation time in the reader's zone, then one table row
 * per record (landscape A4, built-in Helvetica). Pages are written out as they fill, so a long report
 * holds one page in memory, not the document.
 */
export async function createPdfWriter(
  out: Writable,
  allColumns: readonly Column[],
  report: PdfReport,
): Promise<RowWriter> {
  // Loaded with the first PDF, not when a process starts: most never write one.
  const { default: PDFDocument } = await import("pdfkit");
  const columns = allColumns.filter((c) => c.pdf !== undefined);
  const doc = new PDFDocument({
    size: "A4",
    layout: "landscape",
    margin: 40,
    info: { Title: report.title, Author: "Gatehouse", Subject: report.accountName },
  });
  doc.pipe(out);
  const finished = once(out, "finish");
  const left = 40;
  const width = doc.page.width - 80;
  const bottom = () => doc.page.height - 50;
  const weights = columns.reduce((sum, c) => sum + (c.pdf ?? 0), 0);
  const widths = columns.map((c) => ((c.pdf ?? 0) / weights) * width);
  const rowHeight = 14;

  /** Text cut to fit its cell on one line. */
  const fitted = (value: string, cellWidth: number) => {
    const room = cellWidth - 6;
    const flat = value.replace(/\s+/g, " ");
    if (doc.widthOfString(flat) <= room) return flat;
    let low = 0;
    let high = flat.length;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (doc.widthOfString(`${flat.slice(0, middle)}…`) <= room) low = middle;
      else high = middle - 1;
    }
    return `${flat.slice(0, low)}…`;
  };

  const drawRow = (cells: string[], bold: boolean) => {
    if (doc.y + rowHeight > bottom()) {
      doc.addPage();
      doc.y = 40;
      if (!bold)
        drawRow(
          columns.map((c) => c.title),
          true,
        );
    }
    const y = doc.y;
    doc.font(bold ? "Helvetica-Bold" : "Helvetica").fontSize(8);
    let x = left;
    cells.forEach((cell, i) => {
      const w = widths[i] ?? 0;
      doc.text(fitted(cell, w), x + 2, y + 3, { width: w - 4, lineBreak: false });
      x += w;
    });
    doc.y = y + rowHeight;
    if (bold)
      doc
        .moveTo(left, doc.y)
        .lineTo(left + width, doc.y)
        .strokeColor("#999")
        .stroke();
  };

  // The heading: logo on the right, title and criteria on the left.
  if (report.logo) {
    try {
      doc.image(report.logo, left + width - 80, 36, { fit: [80, 50], align: "right" });
    } catch {
      // A logo pdfkit cannot read leaves the report without it rather than failing it.
    }
  }
  doc
    .font("Helvetica-Bold")
    .fontSize(18)
    .fillColor("#000")
    .text(report.title, left, 40, { width: width - 100 });
  doc.font("Helvetica").fontSize(9).fillColor("#444");
  doc.text(`Account: ${report.accountName}`, { width: width - 100 });
  doc.text(`Generated: ${readableTime(report.generatedAt, report.timeZone)} (${report.timeZone})`);
  doc.text(`Filters: ${report.criteria.length ? report.criteria.join(", ") : "none"}`, {
    width: width - 100,
  });
  doc.text(`Rows: ${report.rows}`);
  doc.fillColor("#000");
  doc.y = Math.max(doc.y, 92) + 10;
  drawRow(
    columns.map((c) => c.title),
    true,
  );

  return {
    async write(rows) {
      for (const row of rows)
        drawRow(
          columns.map((c) => text(c, row[c.key], report.timeZone, true)),
          false,
        );
      // Give the file stream a chance to drain between batches.
      if (out.writableNeedDrain) await once(out, "drain");
    },
    async end() {
      doc.end();
      await finished;
    },
  };
}
