// Benchmarks the identity core against baselines measured in the same run:
//  - authenticated read (GET /api/v1/me with a session cookie) vs a bare Fastify route;
//  - login (POST /api/v1/auth/login) vs raw argon2id verifications with the same parameters.
// Usage: npm run bench [-- --seconds 10 --connections 10]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { measure, runArgon2, startServer } from "./lib.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "10" },
    write: { type: "boolean" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const load = (options: Parameters<typeof measure>[0]) => measure(options, seconds, connections);

async function login(url: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error("no session cookie");
  return cookie;
}

const rows: string[] = [];
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

const bare = await startServer(["bare"]);
const bareResult = await load({ url: `${bare.url}/bare` });
bare.child.kill();
rows.push(
  `| bare Fastify route (baseline) | – | ${fmt(bareResult.rps)} | ${bareResult.p50} | ${bareResult.p99} | 100% |`,
);

const argon = await runArgon2(seconds);

const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);

for (const [name, extra] of databases) {
  const server = await startServer(["gatehouse", ...extra]);
  const cookie = await login(server.url);
  const me = await load({ url: `${server.url}/api/v1/me`, headers: { cookie } });
  rows.push(
    `| GET /api/v1/me with session cookie | ${name} | ${fmt(me.rps)} | ${me.p50} | ${me.p99} | ${((me.rps / bareResult.rps) * 100).toFixed(0)}% of bare |`,
  );
  // Authorization checks for a host product: a batch of 100 (cached after the first request).
  const session = (await (await fetch(`${server.url}/api/v1/session`, { headers: { cookie } })).json()) as {
    csrf_token: string;
    account_id: string;
    user: { id: string };
  };
  const checks = Array.from({ length: 100 }, (_, i) => ({
    account_id: session.account_id,
    user_id: session.user.id,
    permission: i % 2 ? "members:read" : "flows:deploy",
  }));
  const authz = await load({
    url: `${server.url}/api/v1/authz/check`,
    method: "POST",
    headers: { cookie, "content-type": "application/json", "x-csrf-token": session.csrf_token },
    body: JSON.stringify({ checks }),
  });
  rows.push(
    `| POST /api/v1/authz/check, batch of 100 | ${name} | ${fmt(authz.rps)} | ${authz.p50} | ${authz.p99} | ${((1000 / (authz.rps * 100)) * 1000).toFixed(1)} µs server time per check |`,
  );
  const loginResult = await load({
    url: `${server.url}/api/v1/auth/login`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  rows.push(
    `| POST /api/v1/auth/login | ${name} | ${fmt(loginResult.rps)} | ${loginResult.p50} | ${loginResult.p99} | ${((loginResult.rps / argon.per_second) * 100).toFixed(0)}% of raw argon2id |`,
  );
  server.child.kill();
}
rows.splice(
  1,
  0,
  `| raw argon2id verify (baseline, m=19456 t=2 p=1, 4 at a time) | – | ${fmt(argon.per_second)} | ${fmt(argon.p50)} | ${fmt(argon.p99)} | 100% |`,
);

const table = [
  `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}, ${seconds} s per measurement after a 1 s warm-up, ${connections} connections (autocannon in the parent process, each server in its own child process).`,
  "",
  "| what | database | requests/s | p50 ms | p99 ms | ratio |",
  "| --- | --- | ---: | ---: | ---: | ---: |",
  ...rows,
].join("\n");
console.log(table);
if (values.write) writeFileSync("bench/latest.md", `${table}\n`);
process.exit(0);
