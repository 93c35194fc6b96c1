// Purge of N audit events of one account (SQLite, or PostgreSQL with TEST_DATABASE_URL and --postgres):
// chain-verified deletion in batches with a signed checkpoint, then `audit verify` from the checkpoint.
// Run: npx tsx bench/retention-purge.ts [events] [--postgres]
import { randomBytes } from "node:crypto";
import { verifyChains } from "../src/audit/audit.service.js";
import { type ChainedFields, chainHash, GENESIS_HASH } from "../src/audit/audit-chain.js";
import { checkpointKey } from "../src/audit/audit-checkpoints.js";
import { createAuditPurge } from "../src/retention/audit-purge.js";
import { createRetentionRepository } from "../src/retention/retention.repository.js";
import { openTestDatabase } from "../src/testing/harness.js";

const total = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const dialect = process.argv.includes("--postgres") ? "postgres" : "sqlite";
const { database, drop } = await openTestDatabase(dialect);
const db = database.db;
const accountId = "acct_bench";
const now = new Date("2027-01-01T00:00:00.000Z");
await db
  .insertInto("accounts")
  .values({
    id: accountId,
    name: "Bench",
    slug: "bench",
    settings: "{}",
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
  })
  .execute();

let prev = GENESIS_HASH;
const started = Date.now();
const BATCH = 500;
for (let seq = 1; seq <= total; seq += BATCH) {
  const rows: Array<ChainedFields & { prev_hash: string; hash: string }> = [];
  for (let s = seq; s < Math.min(seq + BATCH, total + 1); s++) {
    const fields: ChainedFields = {
      id: `evt_${s.toString().padStart(9, "0")}`,
      account_id: accountId,
      seq: s,
      actor_type: "system",
      actor_id: null,
      action: "bench.event",
      target_type: "account",
      target_id: accountId,
      changes: JSON.stringify({ i: s }),
      ip: "198.51.100.7",
      user_agent: "bench",
      request_id: null,
      created_at: new Date(now.getTime() - (total - s) * 1000 - 86_400_000 * 400).toISOString(),
    };
    const hash = chainHash(prev, fields);
    rows.push({ ...fields, prev_hash: prev, hash, actor_user_id: null });
    prev = hash;
  }
  await db.transaction().execute((trx) => trx.insertInto("audit_events").values(rows).execute());
}
await db.insertInto("audit_chain_heads").values({ chain_key: accountId, seq: total, hash: prev }).execute();
const seeded = Date.now();
console.log(`${dialect}: seeded ${total} chained events in ${((seeded - started) / 1000).toFixed(1)} s`);

const key = checkpointKey(randomBytes(32));
const purge = createAuditPurge({ db, repository: createRetentionRepository(), checkpointKey: key });
const rssBefore = process.memoryUsage().rss;
let peak = rssBefore;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50);
const t0 = Date.now();
const purged = await purge.purge(accountId, new Date(now.getTime() - 30 * 86_400_000), now);
const seconds = (Date.now() - t0) / 1000;
clearInterval(sampler);
console.log(
  `purged ${purged} events in ${seconds.toFixed(1)} s (${Math.round(purged / seconds)} events/s), peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (from ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`,
);
const [result] = await verifyChains(db, accountId, { checkpointKey: key });
console.log(`verify after purge: ${JSON.stringify(result)}`);
await drop();
