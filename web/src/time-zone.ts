// Turning a calendar day picked in a date input into instants, in the user's timezone (me.timezone)
// rather than the browser's, so "events on 3 March" means the user's 3 March.

function offsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant a `YYYY-MM-DD` day starts in `timeZone` (the browser's zone when unknown or invalid). */
export function startOfDay(day: string, timeZone: string | null | undefined): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (!timeZone) return new Date(year, month - 1, date);
  try {
    const guess = Date.UTC(year, month - 1, date);
    // Two passes settle days on which the offset changes (daylight saving).
    let instant = guess - offsetMs(guess, timeZone);
    instant = guess - offsetMs(instant, timeZone);
    return new Date(instant);
  } catch {
    return new Date(year, month - 1, date);
  }
}

/** The last millisecond of a `YYYY-MM-DD` day in `timeZone`. */
export function endOfDay(day: string, timeZone: string | null | undefined): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const next = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + 1));
  const start = startOfDay(next.toISOString().slice(0, 10), timeZone);
  return start ? new Date(start.getTime() - 1) : null;
}
