import type { CSSProperties } from "react";

/**
 * Loading placeholders in the shape of what is coming, instead of a blank screen or a bare
 * "Loading…". Each loading region is one `role="status"` with a spoken label; the grey shapes
 * themselves are hidden from assistive technology.
 */

/** One grey bar. `width`/`height` take any CSS length ("60%", "2rem"); it pulses unless motion is off. */
export function Skeleton({
  width = "100%",
  height = "0.9em",
  className,
}: {
  width?: CSSProperties["width"];
  height?: CSSProperties["height"];
  className?: string;
}) {
  return (
    <span
      className={`skeleton${className ? ` ${className}` : ""}`}
      style={{ width, height }}
      aria-hidden="true"
    />
  );
}

/** Lines of text, the last one shorter, as a paragraph would be. */
export function SkeletonText({ lines = 3 }: { lines?: number }) {
  return (
    <span className="skeleton-text" aria-hidden="true">
      {Array.from({ length: lines }, (_, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
        <Skeleton key={index} width={index === lines - 1 && lines > 1 ? "60%" : "100%"} />
      ))}
    </span>
  );
}

/** A table's rows: the columns of the real table, so the page does not jump when it arrives. */
export function SkeletonTable({ rows = 5, columns = 4 }: { rows?: number; columns?: number }) {
  return (
    <span className="skeleton-table" aria-hidden="true" style={{ "--columns": columns } as CSSProperties}>
      {Array.from({ length: rows * columns }, (_, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
        <Skeleton key={index} width={index % columns === 0 ? "80%" : "60%"} />
      ))}
    </span>
  );
}

/**
 * The standard loading state of a page section: a card with a heading bar and lines or table rows.
 * `label` is what a screen reader hears ("Loading teams…").
 */
export function LoadingCard({
  label,
  lines = 3,
  table,
}: {
  label: string;
  lines?: number;
  /** Draw table rows instead of text lines. */
  table?: { rows?: number; columns: number };
}) {
  return (
    <div className="card skeleton-card" role="status" data-testid="loading">
      <span className="visually-hidden">{label}</span>
      <Skeleton width="30%" height="1.2rem" className="skeleton-heading" />
      {table ? <SkeletonTable rows={table.rows} columns={table.columns} /> : <SkeletonText lines={lines} />}
    </div>
  );
}

/** Inside a card that is already drawn (its heading shown): just the body's placeholder. */
export function LoadingBlock({ label, lines = 3, table }: Parameters<typeof LoadingCard>[0]) {
  return (
    <div className="skeleton-block" role="status" data-testid="loading">
      <span className="visually-hidden">{label}</span>
      {table ? <SkeletonTable rows={table.rows} columns={table.columns} /> : <SkeletonText lines={lines} />}
    </div>
  );
}
