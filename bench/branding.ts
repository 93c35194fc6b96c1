// The branded log-in page's path: the public branding endpoint (GET /api/v1/branding?account=…, the
// branded account and an unknown slug, both answered from the in-process cache after the first
// request) and the log-in page's HTML (GET /login?account=…), against a bare Fastify route measured in
// the same run.
// Usage: npm run bench:branding [-- --seconds 10 --connections 10]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { measure, startServer } from "./lib.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "10" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const load = (options: Parameters<typeof measure>[0]) => measure(options, seconds, connections);
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

// The log-in page is the web app's index.html: build it when this checkout has none.
if (!existsSync("web/dist/index.html")) {
  const built = spawnSync(process.execPath, ["--import", "tsx", "scripts/build-web-if-changed.ts"], {
    stdio: "inherit",
  });
  if (built.status !== 0) throw new Error("web build failed");
}

/** Logs in as the benchmark's Root and brands its account; returns the account's slug. */
async function brand(url: string, accountId: string): Promise<string> {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  const headers = { cookie, "x-csrf-token": csrf_token, "content-type": "application/json" };
  const patched = await fetch(`${url}/api/v1/accounts/${accountId}/branding`, {
    method: "PATCH",
    headers,
    body: JSON.stringify({
      primary_color: "#2563eb",
      login_message: "Welcome to Bench. Use your work email.",
      support_url: "https://help.bench.example",
    }),
  });
  if (patched.status !== 200) throw new Error(`branding failed: ${patched.status} ${await patched.text()}`);
  const account = (await (await fetch(`${url}/api/v1/accounts/${accountId}`, { headers })).json()) as {
    slug: string;
  };
  return account.slug;
}

const rows: string[] = [];
const bare = await startServer(["bare"]);
const bareResult = await load({ url: `${bare.url}/bare` });
bare.child.kill();
rows.push(
  `| bare Fastify route (baseline) | – | ${fmt(bareResult.rps)} | ${bareResult.p50} | ${bareResult.p99} | 100% |`,
);
const ratio = (rps: number) => `${((rps / bareResult.rps) * 100).toFixed(0)}% of bare`;

const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);

for (const [name, extra] of databases) {
  const server = await startServer(["gatehouse", ...extra]);
  const slug = await brand(server.url, server.accountId);
  const branded = await fetch(`${server.url}/api/v1/branding?account=${slug}`);
  const body = (await branded.json()) as { branded: boolean };
  if (!body.branded) throw new Error("the benchmark account is not branded");
  for (const [what, path] of [
    ["GET /api/v1/branding?account=<slug> (branded)", `/api/v1/branding?account=${slug}`],
    ["GET /api/v1/branding?account=<unknown>", "/api/v1/branding?account=no-such-account"],
    ["GET /login?account=<slug> (page HTML)", `/login?account=${slug}`],
  ] as const) {
    const result = await load({ url: `${server.url}${path}` });
    rows.push(
      `| ${what} | ${name} | ${fmt(result.rps)} | ${result.p50} | ${result.p99} | ${ratio(result.rps)} |`,
    );
  }
  server.child.kill();
}

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}, ${seconds} s per measurement after a 1 s warm-up, ${connections} connections (autocannon in the parent process, each server in its own child process).`,
    "",
    "| what | database | requests/s | p50 ms | p99 ms | ratio |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
process.exit(0);
