import { useEffect, useState } from "react";

/** phone.ts and libphonenumber-js's metadata (~45 kB gzipped): a chunk of its own, loaded by the pages with a phone field. */
export type PhoneKit = typeof import("./phone");

let loaded: PhoneKit | undefined;
let loading: Promise<PhoneKit> | undefined;

export function loadPhoneKit(): Promise<PhoneKit> {
  loading ??= import("./phone").then(
    (kit) => {
      loaded = kit;
      return kit;
    },
    (error: unknown) => {
      // A failed download (offline, new deployment) may work on the next try.
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/** The phone kit, or null while it downloads (a phone field shows a disabled input meanwhile). */
export function usePhoneKit(): PhoneKit | null {
  const [kit, setKit] = useState<PhoneKit | null>(loaded ?? null);
  useEffect(() => {
    if (kit) return;
    let live = true;
    loadPhoneKit().then(
      (next) => live && setKit(next),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [kit]);
  return kit;
}
