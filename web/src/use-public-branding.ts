import { useEffect, useState } from "react";
import { withQuery } from "./api";
import { useSearchParam } from "./router";
import type { PublicBranding } from "./types";
import { useApi } from "./use-api";

export type LoginBranding = { status: "loading" } | { status: "ready"; branding: PublicBranding | null };

/**
 * What the login page shows for the account it is for: `GET /branding`, always asked (on a custom
 * domain the server decides from the Host), with `?account=<slug>` when the address names one. An
 * unbranded answer, or none at all, is the default page (`branding: null`).
 */
export function usePublicBranding(): LoginBranding {
  const api = useApi();
  const account = useSearchParam("account");
  const [state, setState] = useState<{ account: string | null; value: LoginBranding }>({
    account,
    value: { status: "loading" },
  });

  useEffect(() => {
    let live = true;
    api.get<PublicBranding>(withQuery("/branding", { account })).then(
      (branding) => live && setState({ account, value: { status: "ready", branding } }),
      // Without an answer the page is Gatehouse's own: logging in still works.
      () => live && setState({ account, value: { status: "ready", branding: null } }),
    );
    return () => {
      live = false;
    };
  }, [api, account]);

  return state.account === account ? state.value : { status: "loading" };
}

/** The page's own brand when the answer says the account is branded; else null (the default page). */
export function brandedOrNull(state: LoginBranding): PublicBranding | null {
  return state.status === "ready" && state.branding?.branded ? state.branding : null;
}

/** Hidden only when the server says passkeys do not work here (a custom domain without related origins). */
export function passkeysOffered(state: LoginBranding): boolean {
  return !(state.status === "ready" && state.branding?.passkeys === false);
}
