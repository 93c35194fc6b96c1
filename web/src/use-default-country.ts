import { useMemo } from "react";
import type { CountryCode } from "./phone";
import type { PhoneKit } from "./use-phone-kit";
import { useSession } from "./use-session";

/**
 * The country a phone field starts with, from the profile's locale and time zone, then the browser's
 * (phone.ts, `defaultCountry`); "US" until the phone kit has loaded.
 */
export function useDefaultCountry(kit: PhoneKit | null): CountryCode {
  const { state } = useSession();
  const user = state.status === "authenticated" ? state.info.user : null;
  const locale = user?.locale ?? null;
  const timeZone = user?.timezone ?? null;
  return useMemo(
    () =>
      kit
        ? kit.defaultCountry({
            locale,
            timeZone,
            languages: navigator.languages,
            browserTimeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
          })
        : "US",
    [kit, locale, timeZone],
  );
}
