import { useEffect, useRef, useState } from "react";
import { describeError } from "./api";
import { useSearchParam } from "./router";
import { useApi } from "./use-api";
import { useSession } from "./use-session";

export type TokenLinkOutcome<T> =
  | { status: "working" }
  | { status: "ok"; result: T }
  | { status: "failed"; message: string };

/**
 * The page of an emailed action link (`?token=…`): posts the token once to `path` and reports how it
 * went. A logged-in session is re-read afterwards, since the action may have changed what it shows.
 */
export function useTokenLink<T>(
  path: string,
  messages: { noToken: string; explain?: (error: unknown) => string | undefined },
): { outcome: TokenLinkOutcome<T>; loggedIn: boolean } {
  const api = useApi();
  const { state, reload } = useSession();
  const token = useSearchParam("token");
  const [outcome, setOutcome] = useState<TokenLinkOutcome<T>>(
    token ? { status: "working" } : { status: "failed", message: messages.noToken },
  );
  // The token is single-use: StrictMode's second effect run must not spend it again.
  const postedFor = useRef<string | null>(null);
  const loggedIn = state.status === "authenticated";
  const explain = messages.explain;

  useEffect(() => {
    if (!token || postedFor.current === token) return;
    postedFor.current = token;
    api.post<T>(path, { token }).then(
      (result) => {
        setOutcome({ status: "ok", result });
        if (loggedIn) void reload();
      },
      (error: unknown) => setOutcome({ status: "failed", message: explain?.(error) ?? describeError(error) }),
    );
  }, [api, path, token, loggedIn, reload, explain]);

  return { outcome, loggedIn };
}
