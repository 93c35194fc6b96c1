import { parseArgs } from "node:util";
import type { Executor } from "../db/database.js";
import { verifyChains } from "./audit.service.js";

export const AUDIT_USAGE = `Usage: gatehouse audit verify [--account acct_…]

  verify    recompute the audit hash chains (every account's and the installation's, or one
            account's) and report the first break of each; exit code 1 when one is broken`;

/**
 * `gatehouse audit …` (args are what follows "audit"). Prints one line per chain; returns the exit
 * code: 0 all chains verify, 1 a chain is broken, 2 bad usage.
 */
export async function runAuditCommand(
  args: string[],
  /** `auditCheckpointKey` (from SECRET_KEY) verifies chains that retention has cut at a checkpoint. */
  services: { db: Executor; auditCheckpointKey?: Buffer },
  out: { log(line: string): void; error(line: string): void } = console,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    out.error(`${error instanceof Error ? error.message : String(error)}\n\n${AUDIT_USAGE}`);
    return 2;
  }
  const [subcommand, ...extra] = parsed.positionals;
  if (subcommand !== "verify" || extra.length > 0) {
    out.error(
      `${subcommand ? `Unknown audit command: ${[subcommand, ...extra].join(" ")}` : "Missing audit command"}\n\n${AUDIT_USAGE}`,
    );
    return 2;
  }

  const results = await verifyChains(services.db, parsed.values.account, {
    checkpointKey: services.auditCheckpointKey,
  });
  let broken = 0;
  for (const result of results) {
    const chain = result.account_id ?? "installation";
    if (result.ok) {
      const cut = result.checkpoint_seq ? ` after the purge checkpoint at seq ${result.checkpoint_seq}` : "";
      out.log(`ok      ${chain}: ${result.events} event${result.events === 1 ? "" : "s"}${cut}`);
    } else {
      broken += 1;
      out.log(
        `BROKEN  ${chain}: seq ${result.seq}${result.event_id ? ` (${result.event_id})` : ""}: ${result.reason}`,
      );
    }
  }
  if (results.length === 0) out.log("No audit events.");
  return broken > 0 ? 1 : 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: { account: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
}
