/** What to say about a time zone that is not one. */
export const TIMEZONE_MESSAGE = "Use an IANA time zone such as Europe/Paris";

const TIMEZONES = new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]);

/** Canonical IANA names, plus the aliases ICU still resolves (America/Argentina/Buenos_Aires…). */
export function isTimezone(value: string): boolean {
  if (TIMEZONES.has(value)) return true;
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
