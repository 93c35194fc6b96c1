import { parseArgs } from "node:util";
import { AppError } from "../http/errors.js";
import type { ApiKeysService } from "./api-keys.service.js";

export const API_KEYS_USAGE = `Usage: gatehouse api-keys list --account acct_… [--json]
       gatehouse api-keys revoke --account acct_… key_…

  list      the account's API keys (never their secrets): id, name, prefix, who created it, scopes,
            last use, expiry
  revoke    revoke a key at once (audited as the system); exit 1 when the account has no such key`;

type Out = { log(line: string): void; error(line: string): void };

const when = (value: string | null) => (value ? `${value.slice(0, 19).replace("T", " ")}Z` : "never");

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

/** `gatehouse api-keys …`; returns the exit code (0 done, 1 not found, 2 bad usage). */
export async function runApiKeysCommand(
  args: string[],
  services: { apiKeys: ApiKeysService },
  out: Out = console,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    out.error(`${error instanceof Error ? error.message : String(error)}\n\n${API_KEYS_USAGE}`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  const accountId = parsed.values.account;
  const usage = (problem: string) => {
    out.error(`${problem}\n\n${API_KEYS_USAGE}`);
    return 2;
  };
  if (command !== "list" && command !== "revoke")
    return usage(command ? `Unknown api-keys command: ${command}` : "Missing api-keys command");
  if (!accountId) return usage(`api-keys ${command} needs --account`);

  try {
    if (command === "revoke") {
      const [keyId, ...extra] = rest;
      if (!keyId || extra.length) return usage("api-keys revoke needs exactly one key id");
      await services.apiKeys.revokeAsOperator(accountId, keyId);
      out.log(`Revoked ${keyId}: it stops working at once, in every process.`);
      return 0;
    }
    if (rest.length) return usage(`Unexpected argument: ${rest.join(" ")}`);
    const keys = await services.apiKeys.listForOperator(accountId);
    if (parsed.values.json) {
      out.log(JSON.stringify(keys, null, 2));
      return 0;
    }
    if (keys.length === 0) {
      out.log("No API keys.");
      return 0;
    }
    const header = ["ID", "NAME", "PREFIX", "CREATED BY", "SCOPES", "LAST USED", "EXPIRES"];
    const rows = keys.map((key) => [
      key.id,
      key.name,
      key.prefix,
      key.createdBy,
      key.scopes.join(","),
      key.lastUsedAt ? `${when(key.lastUsedAt)} from ${key.lastUsedIp ?? "?"}` : "never",
      key.expiresAt ? when(key.expiresAt) : "never",
    ]);
    for (const line of table([header, ...rows])) out.log(line);
    return 0;
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== "not_found") throw error;
    out.error(`${error.message}.`);
    return 1;
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: { account: { type: "string" }, json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
}
