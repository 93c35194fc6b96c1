// Billing, against a bare Fastify route measured in the same run:
//  - GET /api/v1/plans (the public catalog), GET /api/v1/accounts/{id}/billing (the overview: seat
//    counts, subscription, usage and payment method), and a plan-change preview (proration computed,
//    nothing written) for an account on Pro with a test card.
// Usage: npm run bench:billing [-- --seconds 5]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { measure, startServer } from "./lib.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" } } });
const seconds = Number(values.seconds);
const CONNECTIONS = 10;

const row = (what: string, db: string, m: { rps: number; p50: number; p99: number }, ratio: string) =>
  `| ${what} | ${db} | ${m.rps.toFixed(0)} | ${m.p50} | ${m.p99} | ${ratio} |`;
const ofBare = (rps: number, bare: number) => `${((rps / bare) * 100).toFixed(0)}% of bare`;

const rows: string[] = [];
const bare = await startServer(["bare"]);
const baseline = await measure({ url: `${bare.url}/bare` }, seconds, CONNECTIONS);
bare.child.kill();
rows.push(row("bare Fastify route (baseline)", "–", baseline, "100%"));

const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);
for (const [name, extra] of databases) {
  const server = await startServer(["gatehouse", ...extra]);
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  const headers = { cookie, "x-csrf-token": csrf_token, "content-type": "application/json" };
  const base = `${server.url}/api/v1/accounts/${server.accountId}`;
  const card = await fetch(`${base}/payment-methods`, {
    method: "POST",
    headers,
    body: JSON.stringify({ type: "card", token: "tok_visa" }),
  });
  const pro = await fetch(`${base}/billing/subscription`, {
    method: "POST",
    headers,
    body: JSON.stringify({ plan: "pro", interval: "month" }),
  });
  if (card.status !== 201 || pro.status !== 200)
    throw new Error(`setup: card ${card.status}, plan ${pro.status}`);

  const plans = await measure({ url: `${server.url}/api/v1/plans` }, seconds, CONNECTIONS);
  rows.push(row("GET /api/v1/plans", name, plans, ofBare(plans.rps, baseline.rps)));
  const overview = await measure({ url: `${base}/billing`, headers: { cookie } }, seconds, CONNECTIONS);
  rows.push(row("GET /api/v1/accounts/{id}/billing", name, overview, ofBare(overview.rps, baseline.rps)));
  const preview = await measure(
    {
      url: `${base}/billing/subscription`,
      method: "POST",
      headers,
      body: JSON.stringify({ plan: "team", interval: "year", preview: true }),
    },
    seconds,
    CONNECTIONS,
  );
  rows.push(
    row(
      "POST …/billing/subscription, preview Pro → Team annual",
      name,
      preview,
      ofBare(preview.rps, baseline.rps),
    ),
  );
  server.child.kill();
}

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ${seconds} s per measurement after a 1 s warm-up, ${CONNECTIONS} connections.`,
    "",
    "| what | database | requests/s | p50 ms | p99 ms | ratio |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
process.exit(0);
