import { useEffect, useState } from "react";
import type { PasswordPolicy } from "./types";
import { useApi } from "./use-api";

/**
 * Loads a policy document: `/auth/password-policy` before sign-in,
 * `/me/password-policy` (strictest over the user's accounts) after.
 * Null until loaded or if it fails; the server still enforces the policy on submit.
 */
export function usePasswordPolicy(
  path: "/auth/password-policy" | "/me/password-policy",
): PasswordPolicy | null {
  const api = useApi();
  const [policy, setPolicy] = useState<PasswordPolicy | null>(null);
  useEffect(() => {
    let cancelled = false;
    api.get<PasswordPolicy>(path).then(
      (loaded) => {
        if (!cancelled) setPolicy(loaded);
      },
      () => {},
    );
    return () => {
      cancelled = true;
    };
  }, [api, path]);
  return policy;
}
