import { useMemo } from "react";
import { useSession } from "./use-session";

function createFormatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const options: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short", timeZone };
  try {
    return new Intl.DateTimeFormat(undefined, options);
  } catch {
    // An unknown zone name throws RangeError; the browser's own zone beats a blank page.
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone: undefined });
  }
}

/** Formats API timestamps in the signed-in user's timezone (me.timezone). */
export function useFormatDate(): (iso: string | null | undefined) => string {
  const { state } = useSession();
  const timeZone = state.status === "authenticated" ? (state.info.user.timezone ?? undefined) : undefined;
  return useMemo(() => {
    const formatter = createFormatter(timeZone);
    return (iso) => {
      if (!iso) return "—";
      const date = new Date(iso);
      return Number.isNaN(date.getTime()) ? iso : formatter.format(date);
    };
  }, [timeZone]);
}
