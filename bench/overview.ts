// The account overview (GET /api/v1/accounts/{id}/overview) on a seeded account, against a bare Fastify
// route served by the same process. Usage: npm run bench:overview [-- --seconds 5 --members 2000 --sign-ins 3000]
// (PostgreSQL too when TEST_DATABASE_URL is set).
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import Fastify from "fastify";
import { type Actor, recordAudit } from "../src/audit/audit.repository.js";
import {
  createTestApp,
  type Dialect,
  onPaidPlan,
  signUpAndLogin,
  testDialects,
} from "../src/testing/harness.js";
import { seedMembers } from "../src/testing/seed.js";
import { measure } from "./lib.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    members: { type: "string", default: "2000" },
    "sign-ins": { type: "string", default: "3000" },
  },
});
const seconds = Number(values.seconds);
const members = Number(values.members);
const signIns = Number(values["sign-ins"]);
const DAY_MS = 86_400_000;

const bare = Fastify({ logger: false });
bare.get("/bare", async () => ({ ok: true }));
const bareUrl = await bare.listen({ port: 0, host: "127.0.0.1" });

const rows: string[] = [];
const row = (what: string, database: string, m: { rps: number; p50: number; p99: number }, ratio: string) =>
  rows.push(`| ${what} | ${database} | ${m.rps.toFixed(0)} | ${m.p50} | ${m.p99} | ${ratio} |`);

async function run(dialect: Dialect) {
  const t = await createTestApp(dialect);
  const root = await signUpAndLogin(t, { email: "bench@example.com", account: "Bench Co" });
  await onPaidPlan(t, root.accountId, { plan: "enterprise", seatLimit: null });
  await seedMembers(t.services.db, root.accountId, members);
  // Sign-ins (one in ten failed) spread over the last 90 days, chained like real ones.
  const now = Date.now();
  for (let i = 0; i < signIns; i++) {
    const actor: Actor = {
      type: "user",
      id: `usr_bench${String(i % members).padStart(17, "0")}`,
      ip: "203.0.113.7",
      userAgent: "bench",
      requestId: null,
    };
    await recordAudit(
      t.services.db,
      actor,
      { accountId: root.accountId, action: i % 10 === 0 ? "auth.login_failed" : "auth.login" },
      new Date(now - Math.floor((i / signIns) * 90 * DAY_MS)),
    );
  }
  const base = await t.app.listen({ port: 0, host: "127.0.0.1" });
  const headers = { cookie: `gatehouse_session=${root.client.cookie}` };
  const baseline = await measure({ url: `${bareUrl}/bare` }, seconds, 4);
  const database = dialect === "sqlite" ? "SQLite" : "PostgreSQL";
  row("bare Fastify route (baseline, same process)", "–", baseline, "100%");
  for (const [label, query] of [
    ["overview, last 30 days, active users", "range=last_30_days&metric=active_users"],
    ["overview, last 90 days, errors", "range=last_90_days&metric=errors"],
    ["overview, last 12 months, sessions", "range=last_12_months&metric=sessions"],
  ] as const) {
    const m = await measure(
      { url: `${base}/api/v1/accounts/${root.accountId}/overview?${query}`, headers },
      seconds,
      4,
    );
    row(label, database, m, `${((m.rps / baseline.rps) * 100).toFixed(1)}% of bare`);
  }
  await t.close();
}

for (const dialect of testDialects()) await run(dialect);
await bare.close();

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ${members} members and ${signIns} sign-ins (90 days) in one account, ${seconds} s per row after a 1 s warm-up, 4 connections, load generator and server in one process.`,
    "",
    "| what | database | requests/s | p50 ms | p99 ms | ratio |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
process.exit(0);
