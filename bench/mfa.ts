// MFA and account security, against baselines measured in the same run:
//  - GET /api/v1/me on an account with a 100-entry IP allowlist vs the same account without one
//    (the per-request allowlist check) and vs a bare Fastify route;
//  - the password step of a log-in for a user with TOTP (argon2id + a stored mfa_token) vs raw argon2id;
//  - GET /api/v1/me/mfa (factor status) vs a bare Fastify route.
// Usage: npm run bench:mfa [-- --seconds 5]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { newTotp } from "../src/mfa/totp.js";
import { measure, runArgon2, startServer } from "./lib.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" } } });
const seconds = Number(values.seconds);
const CONNECTIONS = 10;
const PASSWORD = "orchid-Lantern-Harbor-1";

const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
const row = (what: string, db: string, m: { rps: number; p50: number; p99: number }, ratio: string) =>
  `| ${what} | ${db} | ${m.rps.toFixed(m.rps >= 100 ? 0 : 1)} | ${m.p50} | ${m.p99} | ${ratio} |`;

/** 99 ranges that do not hold 127.0.0.1, half IPv4 and half IPv6, and then the loopback address. */
function allowlist(): string[] {
  const entries: string[] = [];
  for (let i = 0; i < 99; i++) {
    entries.push(i % 2 ? `10.${i}.0.0/16` : `2001:db8:${i.toString(16)}::/48`);
  }
  return [...entries, "127.0.0.1"];
}

const rows: string[] = [];
const bare = await startServer(["bare"]);
const baseline = await measure({ url: `${bare.url}/bare` }, seconds, CONNECTIONS);
bare.child.kill();
rows.push(row("bare Fastify route (baseline)", "–", baseline, "100%"));
const argon = await runArgon2(seconds);
rows.push(
  row(
    "raw argon2id verify (baseline, 4 at a time)",
    "–",
    { rps: argon.per_second, p50: Number(argon.p50.toFixed(1)), p99: Number(argon.p99.toFixed(1)) },
    "100%",
  ),
);

const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);
for (const [name, extra] of databases) {
  const server = await startServer(["gatehouse", ...extra]);
  const loginBody = JSON.stringify({ email: "bench@example.com", password: PASSWORD });
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: loginBody,
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  const write = (method: string, path: string, body: unknown) =>
    fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { cookie, "x-csrf-token": csrf_token, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  // A, B, A: the allowlist run sits between two runs without it, so warm-up and drift do not favour either.
  const me = () => measure({ url: `${server.url}/api/v1/me`, headers: { cookie } }, seconds, CONNECTIONS);
  const setList = async (list: string[]) => {
    const patched = await write("PATCH", `/accounts/${server.accountId}/security`, { ip_allowlist: list });
    if (patched.status !== 200) throw new Error(`allowlist: ${patched.status} ${await patched.text()}`);
  };
  const before = await me();
  await setList(allowlist());
  const listed = await me();
  await setList([]);
  const after = await me();
  const open = {
    rps: (before.rps + after.rps) / 2,
    p50: Math.max(before.p50, after.p50),
    p99: Math.max(before.p99, after.p99),
  };
  rows.push(
    row(
      "GET /api/v1/me, no IP allowlist (mean of a run before and after)",
      name,
      open,
      `${pct(open.rps, baseline.rps)} of bare`,
    ),
  );
  rows.push(
    row(
      "GET /api/v1/me, 100-entry IP allowlist",
      name,
      listed,
      `${pct(listed.rps, open.rps)} of no allowlist`,
    ),
  );

  const started = (await (await write("POST", "/me/mfa/totp", {})).json()) as {
    factor_id: string;
    secret: string;
  };
  const confirmed = await write("POST", `/me/mfa/totp/${started.factor_id}/verify`, {
    code: newTotp(started.secret).generate(),
  });
  if (confirmed.status !== 200) throw new Error(`TOTP enrollment: ${confirmed.status}`);
  const status = await measure(
    { url: `${server.url}/api/v1/me/mfa`, headers: { cookie } },
    seconds,
    CONNECTIONS,
  );
  rows.push(
    row("GET /api/v1/me/mfa (factor status)", name, status, `${pct(status.rps, baseline.rps)} of bare`),
  );

  const passwordStep = await measure(
    {
      url: `${server.url}/api/v1/auth/login`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: loginBody,
    },
    seconds,
    CONNECTIONS,
  );
  rows.push(
    row(
      "POST /api/v1/auth/login, user with TOTP (→ mfa_token)",
      name,
      passwordStep,
      `${pct(passwordStep.rps, argon.per_second)} of raw argon2id`,
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
