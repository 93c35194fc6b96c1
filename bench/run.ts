// The request path against baselines measured in the same rounds (issue 17). Every server starts once
// and stays up; then R rounds, each going through every target with its baseline measured just before
// it (bare, target, bare, target…; the raw argon2id pool before log-ins and sign-ups). A target's
// ratio is taken against that baseline, and the report gives the median over rounds and the spread
// (min–max) of that ratio.
//  - GET /api/v1/session, GET /api/v1/me (cookie), POST /api/v1/authz/check (one check; a batch of 100)
//    and better-auth 1.7's GET /api/auth/get-session: against the bare route;
//  - POST /api/v1/auth/login: against raw argon2id verifications; POST /api/v1/auth/signup (a new
//    address each request): against raw argon2id hashes.
// Load: wrk (one thread) when on PATH, else autocannon in this process; servers in child processes.
// Usage: npm run bench [-- --rounds 5 --seconds 5 --connections 10 --warmup 1 --write --label "…"]
//   [--only "login|signup"] (a subset of the targets, for a quick look; never written to RESULTS.md)
//        (PostgreSQL too when TEST_DATABASE_URL is set)
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  type LoadGenerator,
  type LoadTarget,
  loadGenerator,
  type Measured,
  NoRequestsError,
  type PoolRate,
  postgresCpuMicros,
  processCpuMicros,
  runArgon2,
  runArgon2Hash,
  runLoad,
  startServer,
} from "./lib.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "10" },
    warmup: { type: "string", default: "1" },
    write: { type: "boolean" },
    /** The line above the table in bench/RESULTS.md; a table with the same label is replaced. */
    label: { type: "string", default: "run" },
    /** Only the targets whose name matches this regular expression (e.g. "login|signup"); never --write. */
    only: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const WARMUP = Number(values.warmup);
const PASSWORD = "orchid-Lantern-Harbor-1";
const generator: LoadGenerator = loadGenerator();

type Baseline = "bare" | "argon2-verify" | "argon2-hash";
type Target = {
  name: string;
  database: string;
  load: LoadTarget;
  status: number;
  baseline: Baseline;
  /** Checks per request: the row reports µs per check instead of a ratio. */
  checksPerRequest?: number;
  /** The server process, whose CPU time per request the table reports (Linux). */
  pid: number | undefined;
  /** Whether PostgreSQL serves it: the database server's CPU per request is reported too. */
  postgres: boolean;
};
/** cpuUs: the server's CPU per request; dbUs: PostgreSQL's (all its processes), in µs. */
type Cpu = { cpuUs?: number; dbUs?: number };
type Sample = Measured & Cpu & { ratio: number; round: number };

const json = { "content-type": "application/json" };

async function expectStatus(response: Response, status: number, what: string) {
  if (response.status !== status)
    throw new Error(`${what}: ${response.status}, expected ${status}: ${await response.text()}`);
}

/** Gatehouse's session cookie and CSRF token for the benchmark user, and who they are. */
async function gatehouseSession(url: string) {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email: "bench@example.com", password: PASSWORD }),
  });
  await expectStatus(login, 200, "Gatehouse log-in");
  const cookie = login.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error("Gatehouse log-in: no session cookie");
  const session = await fetch(`${url}/api/v1/session`, { headers: { cookie } });
  await expectStatus(session, 200, "Gatehouse session");
  const body = (await session.json()) as { csrf_token: string; account_id: string; user: { id: string } };
  return { cookie, csrf: body.csrf_token, accountId: body.account_id, userId: body.user.id };
}

/** better-auth's session cookie for a user signed up through its own endpoint, checked by get-session. */
async function betterAuthSession(url: string) {
  const signup = await fetch(`${url}/api/auth/sign-up/email`, {
    method: "POST",
    // Its origin check refuses a cookie-setting POST without an Origin, as a browser would send.
    headers: { ...json, origin: url },
    body: JSON.stringify({ email: "bench@example.com", password: PASSWORD, name: "Bench User" }),
  });
  await expectStatus(signup, 200, "better-auth sign-up");
  const cookie = signup.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const session = await fetch(`${url}/api/auth/get-session`, { headers: { cookie } });
  await expectStatus(session, 200, "better-auth get-session");
  const body = (await session.json()) as { user?: { email?: string } } | null;
  if (body?.user?.email !== "bench@example.com")
    throw new Error(`better-auth get-session: ${JSON.stringify(body)}`);
  return cookie;
}

/** Gatehouse's bench schema on PostgreSQL, found by the account it holds (other runs may share the database). */
async function dropGatehouseSchema(databaseUrl: string, accountId: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const schemas = await client.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname like 'bench\\_%'",
    );
    for (const { nspname } of schemas.rows) {
      const found = await client
        .query(`select 1 from "${nspname}".accounts where id = $1`, [accountId])
        .catch(() => ({ rowCount: 0 }));
      if (found.rowCount) await client.query(`drop schema if exists "${nspname}" cascade`);
    }
  } finally {
    await client.end();
  }
}

const stops: Array<() => Promise<void>> = [];
async function stopAll() {
  for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(String(error)));
}
function stopper(child: import("node:child_process").ChildProcess) {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
}

/** Starts every server of one database kind and returns its targets. */
async function prepare(database: string, databaseUrl: string | undefined): Promise<Target[]> {
  const extra = databaseUrl ? [databaseUrl] : [];
  // TRUST_PROXY: each sign-up comes from its own X-Forwarded-For address, so the per-address sign-up
  // limit (50 an hour) is never reached and every request takes the full path (as bench/enumeration.ts).
  const gatehouse = await startServer(["gatehouse", ...extra], { TRUST_PROXY: "true" });
  stops.push(async () => {
    await stopper(gatehouse.child)();
    if (databaseUrl) await dropGatehouseSchema(databaseUrl, gatehouse.accountId);
  });
  const betterAuth = await startServer(extra, {}, "bench/better-auth-server.ts");
  stops.push(stopper(betterAuth.child));
  const g = await gatehouseSession(gatehouse.url);
  const baCookie = await betterAuthSession(betterAuth.url);
  const withCsrf = { ...json, cookie: g.cookie, "x-csrf-token": g.csrf };
  const check = (permission: string) => ({ account_id: g.accountId, user_id: g.userId, permission });
  const checks = Array.from({ length: 100 }, (_, i) => check(i % 2 ? "members:read" : "flows:deploy"));
  const at = (path: string) => `${gatehouse.url}${path}`;
  const ours = { pid: gatehouse.child.pid, postgres: databaseUrl !== undefined };
  return [
    {
      name: "GET /healthz (no session: every request's fixed cost)",
      database,
      ...ours,
      load: { url: at("/healthz") },
      status: 200,
      baseline: "bare",
    },
    {
      name: "GET /api/v1/session (cookie)",
      database,
      ...ours,
      load: { url: at("/api/v1/session"), headers: { cookie: g.cookie } },
      status: 200,
      baseline: "bare",
    },
    {
      name: "better-auth 1.7 GET /api/auth/get-session (cookie)",
      database,
      pid: betterAuth.child.pid,
      postgres: databaseUrl !== undefined,
      load: { url: `${betterAuth.url}/api/auth/get-session`, headers: { cookie: baCookie } },
      status: 200,
      baseline: "bare",
    },
    {
      name: "GET /api/v1/me (cookie)",
      database,
      ...ours,
      load: { url: at("/api/v1/me"), headers: { cookie: g.cookie } },
      status: 200,
      baseline: "bare",
    },
    {
      name: "POST /api/v1/authz/check, one check",
      database,
      ...ours,
      load: {
        url: at("/api/v1/authz/check"),
        method: "POST",
        headers: withCsrf,
        body: JSON.stringify(check("members:read")),
      },
      status: 200,
      baseline: "bare",
    },
    {
      name: "POST /api/v1/authz/check, batch of 100",
      database,
      ...ours,
      load: {
        url: at("/api/v1/authz/check"),
        method: "POST",
        headers: withCsrf,
        body: JSON.stringify({ checks }),
      },
      status: 200,
      baseline: "bare",
      checksPerRequest: 100,
    },
    {
      name: "POST /api/v1/auth/login",
      database,
      ...ours,
      load: {
        url: at("/api/v1/auth/login"),
        method: "POST",
        headers: json,
        body: JSON.stringify({ email: "bench@example.com", password: PASSWORD }),
      },
      status: 200,
      baseline: "argon2-verify",
    },
    {
      name: "POST /api/v1/auth/signup (new address each)",
      database,
      ...ours,
      load: {
        url: at("/api/v1/auth/signup"),
        method: "POST",
        headers: { ...json, "x-forwarded-for": "{{ip}}" },
        body: JSON.stringify({
          email: "signup-{{n}}@bench.example",
          password: PASSWORD,
          name: "Bench Person",
          account_name: "Bench Co",
        }),
      },
      status: 201,
      baseline: "argon2-hash",
    },
  ];
}

/** One request of the target answered as expected (placeholders filled), before any load. */
async function preflight(target: Target) {
  const fill = (text: string) =>
    text.replaceAll("{{n}}", `preflight-${Date.now()}`).replaceAll("{{ip}}", "10.255.255.1");
  const headers = Object.fromEntries(Object.entries(target.load.headers ?? {}).map(([k, v]) => [k, fill(v)]));
  const response = await fetch(target.load.url, {
    method: target.load.method ?? "GET",
    headers,
    ...(target.load.body === undefined ? {} : { body: fill(target.load.body) }),
  });
  await expectStatus(response, target.status, `${target.name} (${target.database})`);
}

const load = (target: LoadTarget, seconds = SECONDS) =>
  runLoad(generator, target, { seconds, connections: CONNECTIONS, threads: 1 });

/**
 * A load run with the CPU time the server process (and PostgreSQL, for its targets) spent per answered
 * request: unlike req/s, it does not depend on how the scheduler shares the cores with wrk.
 */
async function loadWithCpu(target: LoadTarget, pid: number | undefined, postgres: boolean) {
  const cpu0 = processCpuMicros(pid);
  const db0 = postgres ? postgresCpuMicros() : undefined;
  const measured = await load(target);
  const cpu1 = processCpuMicros(pid);
  const db1 = postgres ? postgresCpuMicros() : undefined;
  const requests = measured.rps * SECONDS;
  const per = (a: number | undefined, b: number | undefined) =>
    // PostgreSQL's sum can drop when a backend process ends during the run: never below zero.
    a === undefined || b === undefined || requests === 0 ? undefined : Math.max(0, b - a) / requests;
  return { ...measured, cpuUs: per(cpu0, cpu1), dbUs: per(db0, db1) };
}

// ---- the run ----

const started = Date.now();
const databases: Array<[string, string | undefined]> = [["SQLite", undefined]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", process.env.TEST_DATABASE_URL]);

let report: string;
try {
  const bare = await startServer(["bare"]);
  stops.push(stopper(bare.child));
  const bareTarget: LoadTarget = { url: `${bare.url}/bare` };
  const targets: Target[] = [];
  const only = values.only === undefined ? undefined : new RegExp(values.only, "i");
  for (const [name, url] of databases)
    targets.push(...(await prepare(name, url)).filter((t) => !only || only.test(t.name)));
  for (const target of targets) await preflight(target);

  // A short warm-up per server and route (JIT, caches, connection pools) before round 1.
  // A warm-up that ends before a slow route's first answer has still warmed it.
  const warm = (target: LoadTarget) =>
    load(target, WARMUP).catch((error: unknown) => {
      if (!(error instanceof NoRequestsError)) throw error;
    });
  await warm(bareTarget);
  for (const target of targets) await warm(target.load);

  const bareRuns: Array<Measured & Cpu> = [];
  const verifyRuns: PoolRate[] = [];
  const hashRuns: PoolRate[] = [];
  const samples = new Map<Target, Sample[]>(targets.map((t) => [t, []]));
  /** The target's own baseline, measured just before it (the machine's load drifts within seconds). */
  const baseline = async (kind: Baseline): Promise<number> => {
    if (kind === "bare") {
      const run = await loadWithCpu(bareTarget, bare.child.pid, false);
      bareRuns.push(run);
      return run.rps;
    }
    const pool = kind === "argon2-verify" ? await runArgon2(SECONDS) : await runArgon2Hash(SECONDS);
    (kind === "argon2-verify" ? verifyRuns : hashRuns).push(pool);
    return pool.per_second;
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const line: string[] = [];
    for (const target of targets) {
      const base = await baseline(target.baseline);
      // On an overloaded machine a slow route can finish no request in a run: that round has no
      // sample for it (the table says how many rounds counted), rather than losing the whole run.
      const m = await loadWithCpu(target.load, target.pid, target.postgres).catch((error: unknown) => {
        if (error instanceof NoRequestsError) return undefined;
        throw error;
      });
      if (!m) {
        line.push(`${target.name} ${target.database} no answer`);
        continue;
      }
      samples.get(target)?.push({ ...m, ratio: m.rps / base, round });
      line.push(`${target.name} ${target.database} ${((m.rps / base) * 100).toFixed(1)}%`);
    }
    console.error(`round ${round}/${ROUNDS}: ${line.join("; ")}`);
  }
  report = render(bareRuns, verifyRuns, hashRuns, targets, samples);
} finally {
  await stopAll();
}
console.log(report);
if (values.write && values.only === undefined) writeResults(report);
process.exit(0);

// ---- statistics and the table ----

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
function num(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
function pct(r: number): string {
  return `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`;
}
function spread(xs: number[], show: (n: number) => string): string {
  return `${show(Math.min(...xs))}–${show(Math.max(...xs))}`;
}

/** "63 µs" per request, with PostgreSQL's share when it served it: "410 µs + PG 380 µs". */
function cpuCell(runs: Cpu[], perOp = false): string {
  const show = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(0)} µs`);
  const own = runs.map((r) => r.cpuUs).filter((x): x is number => x !== undefined);
  if (own.length === 0) return "–";
  const db = runs.map((r) => r.dbUs).filter((x): x is number => x !== undefined);
  return `${show(median(own))}${db.length ? ` + PG ${show(median(db))}` : ""}${perOp ? " per op" : ""}`;
}

function render(
  bareRuns: Array<Measured & Cpu>,
  verifyRuns: PoolRate[],
  hashRuns: PoolRate[],
  targets: Target[],
  samples: Map<Target, Sample[]>,
): string {
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const rps = (runs: Array<{ rps: number }>) => runs.map((r) => r.rps);
  const pool = (runs: PoolRate[]) => runs.map((r) => r.per_second);
  const rows = [
    row([
      "bare Fastify route (baseline)",
      "–",
      num(median(rps(bareRuns))),
      num(median(bareRuns.map((r) => r.p50))),
      num(median(bareRuns.map((r) => r.p99))),
      "100%",
      `${spread(rps(bareRuns), num)} req/s`,
      cpuCell(bareRuns),
    ]),
  ];
  // A subset run (--only) may have measured no log-in or sign-up, hence no pool baseline.
  if (verifyRuns.length > 0)
    rows.push(
      row([
        "raw argon2id verify (log-in baseline, 4 at a time)",
        "–",
        num(median(pool(verifyRuns))),
        num(median(verifyRuns.map((r) => r.p50))),
        num(median(verifyRuns.map((r) => r.p99))),
        "100%",
        `${spread(pool(verifyRuns), num)} /s`,
        cpuCell(verifyRuns.map((r) => ({ ...(r.cpu_us === undefined ? {} : { cpuUs: r.cpu_us }) }))),
      ]),
    );
  if (hashRuns.length > 0)
    rows.push(
      row([
        "raw argon2id hash (sign-up baseline, 4 at a time)",
        "–",
        num(median(pool(hashRuns))),
        num(median(hashRuns.map((r) => r.p50))),
        num(median(hashRuns.map((r) => r.p99))),
        "100%",
        `${spread(pool(hashRuns), num)} /s`,
        cpuCell(hashRuns.map((r) => ({ ...(r.cpu_us === undefined ? {} : { cpuUs: r.cpu_us }) }))),
      ]),
    );
  const of: Record<Baseline, string> = {
    bare: "of bare",
    "argon2-verify": "of raw verify",
    "argon2-hash": "of raw hash",
  };
  for (const target of targets) {
    const s = samples.get(target) ?? [];
    if (s.length === 0) {
      rows.push(row([target.name, target.database, "–", "–", "–", "no answer in any round", "–", "–"]));
      continue;
    }
    const counted = s.length < ROUNDS ? ` (${s.length} of ${ROUNDS} rounds)` : "";
    const ratios = s.map((x) => x.ratio);
    const perCheck = (x: Sample) => 1e6 / (x.rps * (target.checksPerRequest ?? 1));
    const ratioCell = target.checksPerRequest
      ? `${pct(median(ratios))} ${of[target.baseline]}; ${median(s.map(perCheck)).toFixed(1)} µs per check`
      : `${pct(median(ratios))} ${of[target.baseline]}`;
    const spreadCell = target.checksPerRequest
      ? `${spread(ratios, pct)}; ${spread(s.map(perCheck), (n) => n.toFixed(1))} µs${counted}`
      : `${spread(ratios, pct)}${counted}`;
    rows.push(
      row([
        target.name,
        target.database,
        num(median(rps(s))),
        num(median(s.map((x) => x.p50))),
        num(median(s.map((x) => x.p99))),
        ratioCell,
        spreadCell,
        cpuCell(s),
      ]),
    );
  }
  // Gatehouse's session read against better-auth's, round by round.
  for (const [database] of databases) {
    const ours = targets.find((t) => t.database === database && t.name.startsWith("GET /api/v1/session"));
    const peer = targets.find((t) => t.database === database && t.name.startsWith("better-auth"));
    const a = ours ? (samples.get(ours) ?? []) : [];
    const b = peer ? (samples.get(peer) ?? []) : [];
    // Each against its own bare run, so load drifting between the two measurements cancels out.
    const times = a
      .map((x) => x.ratio / (b.find((y) => y.round === x.round)?.ratio ?? Number.NaN))
      .filter((t) => Number.isFinite(t));
    if (times.length === 0) continue;
    const x = (n: number) => `${n.toFixed(1)}×`;
    rows.push(
      row([
        "GET /api/v1/session ÷ better-auth get-session",
        database,
        "–",
        "–",
        "–",
        x(median(times)),
        spread(times, x),
        "–",
      ]),
    );
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const load =
    generator === "wrk"
      ? "wrk 4.1 (one thread, in its own process)"
      : "autocannon (wrk not on PATH; in the parent Node process)";
  return [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores (os.availableParallelism(); ${cpus()[0]?.model ?? "?"}), Node ${process.version}. Load generator: ${load}, ${CONNECTIONS} connections. ${ROUNDS} rounds of ${SECONDS} s per measurement, each target right after its own baseline (bare, target, bare, target…; the argon2id pool before log-ins and sign-ups), after a ${WARMUP} s warm-up per route; ratios against the same round's baseline, median over rounds, spread = min–max over rounds. Every server in its own child process; the load generator, the servers and PostgreSQL share the cores. CPU per request: the server process's CPU time (all its threads, from /proc) over the requests it answered, plus every PostgreSQL process's for PostgreSQL rows; for the argon2id pools, the pool process's CPU per hash or verification. Whole run ${minutes} min.`,
    "",
    row([
      "what",
      "database",
      "req/s (median)",
      "p50 ms",
      "p99 ms",
      "ratio (median)",
      "spread over rounds",
      "CPU per request (median)",
    ]),
    row(["---", "---", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ...rows,
  ].join("\n");
}

/** Puts the table into the request-path section of bench/RESULTS.md, replacing one with the same label. */
function writeResults(table: string) {
  const file = "bench/RESULTS.md";
  const text = readFileSync(file, "utf8");
  const end = "<!-- /request-path -->";
  const open = `<!-- request-path-run: ${values.label} -->`;
  const block = `${open}\n\n**${values.label}**\n\n${table}\n\n<!-- /request-path-run -->`;
  if (!text.includes(end)) throw new Error(`${file}: no "${end}" marker (the request-path section)`);
  const start = text.indexOf(open);
  const next =
    start >= 0
      ? text.slice(0, start) +
        block +
        text.slice(text.indexOf("<!-- /request-path-run -->", start) + "<!-- /request-path-run -->".length)
      : text.replace(end, `${block}\n\n${end}`);
  writeFileSync(file, next);
}
