// Benchmarks the identity core against baselines measured in the same run:
//  - authenticated read (GET /api/v1/me with a session cookie) vs a bare Fastify route;
//  - login (POST /api/v1/auth/login) vs raw argon2id verifications with the same parameters.
// Usage: npm run bench [-- --seconds 10 --connections 10]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "10" },
    write: { type: "boolean" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

type Measured = { rps: number; p50: number; p99: number; errors: number; non2xx: number };

function startServer(...args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/servers.ts", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      const { address } = JSON.parse(line) as { address: { port: number } };
      resolve({ url: `http://127.0.0.1:${address.port}`, child });
    });
    child.on("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

async function load(options: autocannon.Options): Promise<Measured> {
  await autocannon({ ...options, duration: 2 }); // warm-up
  const result = await autocannon({ ...options, duration: seconds, connections });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

async function runArgon2(): Promise<{ per_second: number; p50: number; p99: number }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bench/servers.ts", "argon2", String(seconds), "4"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  await new Promise((resolve) => child.on("exit", resolve));
  return JSON.parse(out.trim().split("\n").pop() as string);
}

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

const bare = await startServer("bare");
const bareResult = await load({ url: `${bare.url}/bare` });
bare.child.kill();
rows.push(
  `| bare Fastify route (baseline) | – | ${fmt(bareResult.rps)} | ${bareResult.p50} | ${bareResult.p99} | 100% |`,
);

const argon = await runArgon2();

const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);

for (const [name, extra] of databases) {
  const server = await startServer("gatehouse", ...extra);
  const cookie = await login(server.url);
  const me = await load({ url: `${server.url}/api/v1/me`, headers: { cookie } });
  if (me.non2xx || me.errors)
    throw new Error(`GET /api/v1/me had ${me.non2xx} non-2xx and ${me.errors} errors`);
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
  if (authz.non2xx || authz.errors) throw new Error(`authz had ${authz.non2xx} non-2xx responses`);
  rows.push(
    `| POST /api/v1/authz/check, batch of 100 | ${name} | ${fmt(authz.rps)} | ${authz.p50} | ${authz.p99} | ${((1000 / (authz.rps * 100)) * 1000).toFixed(1)} µs server time per check |`,
  );
  const loginResult = await load({
    url: `${server.url}/api/v1/auth/login`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  if (loginResult.non2xx || loginResult.errors)
    throw new Error(`login had ${loginResult.non2xx} non-2xx responses`);
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
  `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}, ${seconds} s per measurement after a 2 s warm-up, ${connections} connections (autocannon in the parent process, each server in its own child process).`,
  "",
  "| what | database | requests/s | p50 ms | p99 ms | ratio |",
  "| --- | --- | ---: | ---: | ---: | ---: |",
  ...rows,
].join("\n");
console.log(table);
if (values.write) writeFileSync("bench/latest.md", `${table}\n`);
process.exit(0);
