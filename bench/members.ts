// Member list with 50,000 members in one account, against a bare Fastify route measured in the same run.
// Usage: npm run bench:members [-- --seconds 5]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { measure as load, startServer } from "./lib.js";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, members: { type: "string", default: "50000" } },
});
const seconds = Number(values.seconds);

const measure = (url: string, headers: Record<string, string> = {}) => load({ url, headers }, seconds, 4);

const rows: string[] = [];
const bare = await startServer(["bare"]);
const baseline = await measure(`${bare.url}/bare`);
bare.child.kill();
rows.push(
  `| bare Fastify route (baseline) | – | ${baseline.rps.toFixed(0)} | ${baseline.p50} | ${baseline.p99} |`,
);

const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);
for (const [name, extra] of databases) {
  const started = Date.now();
  const server = await startServer(["gatehouse", ...extra], { BENCH_MEMBERS: values.members as string });
  const seeded = ((Date.now() - started) / 1000).toFixed(0);
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
  const base = `${server.url}/api/v1/accounts/${server.accountId}/members`;
  const first = (await (await fetch(`${base}?limit=50&status=active`, { headers: { cookie } })).json()) as {
    next_cursor: string;
  };
  for (const [label, path] of [
    ["first page (50, by name)", "?limit=50"],
    ["next page via cursor", `?limit=50&status=active&cursor=${first.next_cursor}`],
    ["search q=hopper", "?limit=50&q=hopper"],
    ["status=suspended", "?limit=50&status=suspended"],
    ["no login for 30 days", "?limit=50&inactive_days=30"],
    ["sorted by last login, desc", "?limit=50&sort=last_login_at&order=desc"],
  ] as const) {
    const m = await measure(`${base}${path}`, { cookie });
    rows.push(`| members: ${label} | ${name} | ${m.rps.toFixed(0)} | ${m.p50} | ${m.p99} |`);
  }
  console.error(`${name}: seeded ${values.members} members in ${seeded} s`);
  server.child.kill();
}

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ${values.members} members in one account, ${seconds} s per row, 4 connections.`,
    "",
    "| what | database | requests/s | p50 ms | p99 ms |",
    "| --- | --- | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
process.exit(0);
