// Kept free of React so that test/web can check it. ".js": test/web imports this with Node's resolution.
import { ApiError } from "./api.js";

/** `GET /accounts/{id}/closure` (docs/api-data.md, "Account closure"). */
export type AccountClosure =
  | { status: "none" }
  | { status: "scheduled"; delete_at: string; requested_by: string; requested_at: string };

/** Whether the typed confirmation matches the account's name: exactly, as the server compares it. */
export function closureNameMatches(typed: string, accountName: string): boolean {
  return accountName.length > 0 && typed === accountName;
}

export type SoleRootAccount = { id: string; name: string };

/** The accounts a `sole_root` refusal of DELETE /me lists, or null for any other error. */
export function soleRootAccounts(error: unknown): SoleRootAccount[] | null {
  if (!(error instanceof ApiError) || error.code !== "sole_root") return null;
  const accounts = error.body?.accounts;
  if (!Array.isArray(accounts)) return [];
  return accounts.filter((a: unknown): a is SoleRootAccount => {
    const entry = a as Partial<Record<"id" | "name", unknown>> | null;
    return typeof entry?.id === "string" && typeof entry.name === "string";
  });
}
