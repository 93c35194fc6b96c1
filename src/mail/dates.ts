/** Whose clock and language a mail's dates are written for (the recipient's profile). */
export type MailReader = { timezone?: string | null; locale?: string | null };

/** Building a formatter costs about a millisecond (ICU data); readers share a few zones and locales. */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 500;

function formatter(reader: MailReader): Intl.DateTimeFormat {
  const key = `${reader.locale ?? ""}\u0000${reader.timezone ?? ""}`;
  let found = formatters.get(key);
  if (!found) {
    found = newFormatter(reader);
    if (formatters.size >= MAX_FORMATTERS) formatters.delete(formatters.keys().next().value as string);
    formatters.set(key, found);
  }
  return found;
}

function newFormatter(reader: MailReader): Intl.DateTimeFormat {
  const options: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "long" };
  // A profile holds validated values, but a stored one can outlive the runtime's tz data or locales.
  for (const [locale, timeZone] of [
    [reader.locale || "en", reader.timezone || "UTC"],
    ["en", reader.timezone || "UTC"],
    ["en", "UTC"],
  ] as const) {
    try {
      return new Intl.DateTimeFormat(locale, { ...options, timeZone });
    } catch {}
  }
  return new Intl.DateTimeFormat("en", { ...options, timeZone: "UTC" });
}

/** An instant as the reader reads it: "Nov 23, 2026, 9:30:00 AM GMT+1" / "23.11.2026, 09:30:00 MEZ". */
export function formatMailDate(at: Date | string, reader: MailReader = {}): string {
  return formatter(reader).format(typeof at === "string" ? new Date(at) : at);
}
