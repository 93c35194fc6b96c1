// Live-update latency of in-app notifications: from sending an invitation (its commit, fan-out included) to
// the admin's open Server-Sent Events stream receiving its notification, over a real HTTP connection.
// Same process (SQLite, and PostgreSQL), and across processes on PostgreSQL (the change made through a
// second app with its own pool and LISTEN connection: the notification travels by NOTIFY).
// Usage: npm run bench:notifications [-- --runs 50]   (PostgreSQL rows when TEST_DATABASE_URL is set)
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  type Dialect,
  onPaidPlan,
  signUpAndLogin,
} from "../src/testing/harness.js";
import { openStream } from "../src/testing/sse.js";

const { values } = parseArgs({ options: { runs: { type: "string", default: "50" } } });
const RUNS = Number(values.runs);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function measure(dialect: Dialect, acrossProcesses: boolean) {
  const t = await createTestApp(dialect);
  try {
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const root = await signUpAndLogin(t, { email: "bench-root@example.com", account: "Bench Co" });
    await onPaidPlan(t, root.accountId, { plan: "team" });
    const admin = await addMember(t, root, { email: "bench-admin@example.com", roleKey: "admin" });
    let writer: Client = root.client;
    if (acrossProcesses) {
      const other = await t.sibling({ applicationName: "bench-other" });
      writer = createClient(other.app);
      writer.cookie = root.client.cookie;
      writer.csrf = root.client.csrf;
    }
    const roleId = admin.roleId;
    const stream = await openStream(base, admin.client.cookie as string);
    const latencies: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const email = `bench-${i}-${Date.now()}@example.com`;
      const started = performance.now();
      const received = stream.next((e) => e.data.includes(email)).then(() => performance.now());
      const response = await writer.post(`/api/v1/accounts/${root.accountId}/invitations`, {
        emails: [email],
        role_id: roleId,
      });
      if (response.statusCode !== 201) throw new Error(response.payload);
      // The harness's answer waits for the fan-out (as tests need), so the commit has no moment of its own
      // here: measured is request sent → notification received, an upper bound of commit → received.
      latencies.push((await received) - started);
    }
    stream.close();
    const sorted = [...latencies].sort((a, b) => a - b);
    return { median: pct(sorted, 0.5), p95: pct(sorted, 0.95), max: sorted.at(-1) ?? 0 };
  } finally {
    await t.close();
  }
}

const rows: string[] = [];
const cases: Array<[Dialect, boolean]> = [["sqlite", false]];
if (process.env.TEST_DATABASE_URL) cases.push(["postgres", false], ["postgres", true]);
for (const [dialect, across] of cases) {
  const r = await measure(dialect, across);
  rows.push(
    `| ${dialect} | ${across ? "another process" : "same process"} | ${RUNS} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.max.toFixed(2)} |`,
  );
}
console.log("| database | change made in | runs | median ms | p95 ms | max ms |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
process.exit(0);
