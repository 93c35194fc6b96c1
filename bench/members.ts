// Member list with 50,000 members in one account, against a bare Fastify route measured in the same run.
// Usage: npm run bench:members [-- --seconds 5 --members 50000 --connections 4 --only q]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import { measure as load, startServer } from "./lib.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    members: { type: "string", default: "50000" },
    // Requests in flight at once: 1 gives each page's own latency; 4 (the default) adds queueing.
    connections: { type: "string", default: "4" },
    // A substring of the variant labels to run (while working on one of them).
    only: { type: "string", default: "" },
    // sqlite | postgres: one database only.
    database: { type: "string", default: "" },
  },
});
const seconds = Number(values.seconds);
const memberCount = Number(values.members);

const connections = Number(values.connections);
const measure = (url: string, headers: Record<string, string> = {}) =>
  load({ url, headers }, seconds, connections);

/** The user id seedMembers gives member `i`. */
const seededId = (i: number) => `usr_bench${String(i).padStart(17, "0")}`;

async function api<T>(url: string, cookie: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { cookie, "x-csrf-token": csrf, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
let csrf = "";

/** A team of `size` members spread over the whole account (every n-th seeded member). */
async function seedTeam(accountUrl: string, cookie: string, name: string, size: number) {
  const team = await api<{ id: string }>(`${accountUrl}/teams`, cookie, "POST", { name });
  const step = Math.floor(memberCount / size);
  const ids = Array.from({ length: size }, (_, k) => seededId(k * step + 1));
  // The API sets a team's members in one call of at most 1,000.
  await api(`${accountUrl}/teams/${team.id}/members`, cookie, "PUT", { user_ids: ids });
  return team.id;
}

const rows: string[] = [];
const bare = await startServer(["bare"]);
const baseline = await measure(`${bare.url}/bare`);
bare.child.kill();
rows.push(
  `| bare Fastify route (baseline) | – | ${baseline.rps.toFixed(0)} | ${baseline.p50} | ${baseline.p99} |`,
);

const databases: Array<[string, string[]]> = [];
if (values.database !== "postgres") databases.push(["SQLite", []]);
if (process.env.TEST_DATABASE_URL && values.database !== "sqlite")
  databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);
for (const [name, extra] of databases) {
  const started = Date.now();
  const server = await startServer(["gatehouse", ...extra], { BENCH_MEMBERS: String(memberCount) });
  const seeded = ((Date.now() - started) / 1000).toFixed(0);
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  const cookies = login.headers.getSetCookie().map((c) => c.split(";")[0] as string);
  const cookie = cookies.join("; ");
  csrf = ((await login.json()) as { csrf_token?: string }).csrf_token ?? "";
  const accountUrl = `${server.url}/api/v1/accounts/${server.accountId}`;
  const base = `${accountUrl}/members`;
  const roles = await api<{ data: Array<{ id: string; key: string }> }>(`${accountUrl}/roles`, cookie, "GET");
  const roleId = (key: string) => roles.data.find((r) => r.key === key)?.id ?? "";
  const bigTeam = await seedTeam(accountUrl, cookie, "Big team", 1000);
  const smallTeam = await seedTeam(accountUrl, cookie, "Small team", 10);
  // PostgreSQL: statistics again with the teams in, as autovacuum would gather them within a minute
  // (the server analysed at seed time, when team_members was empty).
  if (server.schema && extra[0]) {
    const client = new pg.Client({ connectionString: extra[0] });
    await client.connect();
    await client.query(`analyze ${server.schema}.team_members, ${server.schema}.teams`);
    await client.end();
  }
  /** The cursor after `pages` pages of `path` (a deep keyset page). */
  async function cursorAfter(path: string, pages: number) {
    let cursor = "";
    for (let p = 0; p < pages; p++) {
      const page = await api<{ next_cursor: string }>(
        `${base}${path}${cursor ? `&cursor=${cursor}` : ""}`,
        cookie,
        "GET",
      );
      cursor = page.next_cursor;
    }
    return cursor;
  }
  const variants: Array<[string, string]> = [
    ["first page (50, by name)", "?limit=50"],
    ["first page, 200 (max limit)", "?limit=200"],
    ["first page, 1", "?limit=1"],
    [
      "next page via cursor",
      `?limit=50&status=active&cursor=${await cursorAfter("?limit=50&status=active", 1)}`,
    ],
    ["page 200 via cursor (by name)", `?limit=50&cursor=${await cursorAfter("?limit=50", 200)}`],
    [
      "page 100 via cursor (last login, desc)",
      `?limit=50&sort=last_login_at&order=desc&cursor=${await cursorAfter("?limit=50&sort=last_login_at&order=desc", 100)}`,
    ],
    ["by name, desc", "?limit=50&order=desc"],
    ["by email", "?limit=50&sort=email"],
    ["by email, desc", "?limit=50&sort=email&order=desc"],
    ["by last login", "?limit=50&sort=last_login_at"],
    ["by last login, desc", "?limit=50&sort=last_login_at&order=desc"],
    ["by joined", "?limit=50&sort=joined_at"],
    ["by joined, desc", "?limit=50&sort=joined_at&order=desc"],
    ["status=active", "?limit=50&status=active"],
    ["status=suspended", "?limit=50&status=suspended"],
    ["status=deactivated (none)", "?limit=50&status=deactivated"],
    ["status=pending (invitations)", "?limit=50&status=pending"],
    ["role=member (common)", `?limit=50&role_id=${roleId("member")}`],
    ["role=root (1 member)", `?limit=50&role_id=${roleId("root")}`],
    ["role=root, by last login", `?limit=50&role_id=${roleId("root")}&sort=last_login_at`],
    ["team of 1,000", `?limit=50&team_id=${bigTeam}`],
    ["team of 10", `?limit=50&team_id=${smallTeam}`],
    ["team of 10, by joined desc", `?limit=50&team_id=${smallTeam}&sort=joined_at&order=desc`],
    ["mfa=enabled (none)", "?limit=50&mfa=enabled"],
    ["mfa=disabled", "?limit=50&mfa=disabled"],
    ["no login for 30 days", "?limit=50&inactive_days=30"],
    ["search q=hopper (5,000 match)", "?limit=50&q=hopper"],
    ["search q=member4711 (1 match)", "?limit=50&q=member4711"],
    ["search q=nobody (no match)", "?limit=50&q=nobody"],
    ["search q=ab (2 characters)", "?limit=50&q=ab"],
    ["search q=ho (2 characters, 10,000 match)", "?limit=50&q=ho"],
    ["search q=a (1 character, all match)", "?limit=50&q=a"],
    ["search q=z (1 character, no match)", "?limit=50&q=z"],
    ["search q=hopper, by email", "?limit=50&q=hopper&sort=email"],
    ["search q=turing 1234 (name + number)", "?limit=50&q=turing%201234"],
  ];
  for (const [label, path] of variants) {
    if (values.only && !label.includes(values.only)) continue;
    const m = await measure(`${base}${path}`, { cookie });
    rows.push(`| members: ${label} | ${name} | ${m.rps.toFixed(0)} | ${m.p50} | ${m.p99} |`);
    console.error(rows.at(-1));
  }
  console.error(`${name}: seeded ${memberCount} members in ${seeded} s`);
  server.child.kill();
}

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ${memberCount} members in one account, ${seconds} s per row after a 1 s warm-up, autocannon with ${connections} connection${connections === 1 ? "" : "s"}; load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}.`,
    "",
    "| what | database | requests/s | p50 ms | p99 ms |",
    "| --- | --- | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
process.exit(0);
