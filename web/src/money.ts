// Money arrives as integer cents (USD); it is only ever turned into text here, never into float arithmetic.

const GROUPING = /\B(?=(\d{3})+(?!\d))/g;

/** `formatCents(123456)` → "$1,234.56"; negative amounts (credits) → "−$12.00". */
export function formatCents(cents: number, currency = "USD"): string {
  const whole = Math.trunc(Math.abs(cents));
  const dollars = String(Math.floor(whole / 100)).replace(GROUPING, ",");
  const rest = String(whole % 100).padStart(2, "0");
  const symbol = currency === "USD" ? "$" : `${currency} `;
  return `${cents < 0 ? "−" : ""}${symbol}${dollars}.${rest}`;
}

/** Whole-dollar prices read better on plan cards: "$19" rather than "$19.00"; "$19.50" stays. */
export function formatPrice(cents: number, currency = "USD"): string {
  const text = formatCents(cents, currency);
  return text.endsWith(".00") ? text.slice(0, -3) : text;
}

const BYTE_UNITS = ["bytes", "KB", "MB", "GB", "TB"] as const;

/** Storage in binary units, one decimal from KB up: 1536 → "1.5 KB". */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${value} ${value === 1 ? "byte" : "bytes"}`
    : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

export function formatCount(count: number): string {
  return String(Math.trunc(count)).replace(GROUPING, ",");
}
