// Member list with 50,000 members in one account, against a bare Fastify route measured in the same run.
// Usage: npm run bench:members [-- --seconds 5]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { type ChildProcess, spawn } from "node:child_process";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, members: { type: "string", default: "50000" } },
});
const seconds = Number(values.seconds);

function startServer(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; accountId: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/servers.ts", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      const { address } = JSON.parse(line) as { address: { port: number; account_id: string } };
      resolve({ url: `http://127.0.0.1:${address.port}`, accountId: address.account_id, child });
    });
    child.on("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

async function measure(url: string, headers: Record<string, string> = {}) {
  await autocannon({ url, headers, duration: 1, connections: 4 });
  const r = await autocannon({ url, headers, duration: seconds, connections: 4 });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

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
