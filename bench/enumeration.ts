// User enumeration by timing: for sign-up, forgot-password and log-in, the mean response time for an
// address that has a login against one that has none, measured in the same run over interleaved
// requests: both kinds shuffled into one random order, one request at a time, as a prober would send
// them. Each request comes from its own client address (X-Forwarded-For with TRUST_PROXY) and names its
// own address, so no per-IP or per-address limit is reached and every request takes its full path.
// Also reported: whether a request is slower when the one before it named an existing address (work
// left over after the response).
// Usage: npm run bench:enumeration [-- --requests 600 --warmup 20 --only forgot --db sqlite|postgres]
//        (PostgreSQL too when TEST_DATABASE_URL is set)
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { startServer } from "./lib.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "600" },
    warmup: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    /** Only endpoints whose path contains this text. */
    only: { type: "string" },
    /** Only this database: sqlite or postgres. */
    db: { type: "string" },
  },
});
const REQUESTS = Number(values.requests);
const WARMUP = Number(values.warmup);
const PASSWORD = "orchid-Lantern-Harbor-1";

type Kind = "existing" | "unknown";
type Endpoint = {
  name: string;
  path: string;
  status: number;
  body(email: string): unknown;
};

const all: Endpoint[] = [
  {
    name: "POST /auth/signup",
    path: "/api/v1/auth/signup",
    status: 201,
    body: (email: string) => ({
      email,
      password: PASSWORD,
      name: "Bench Person",
      account_name: "Bench Co",
    }),
  },
  {
    name: "POST /auth/password/forgot",
    path: "/api/v1/auth/password/forgot",
    status: 202,
    body: (email: string) => ({ email }),
  },
  {
    name: "POST /auth/login (wrong password)",
    path: "/api/v1/auth/login",
    status: 401,
    body: (email: string) => ({ email, password: "not-the-Password-0" }),
  },
];
const endpoints = all.filter((e) => !values.only || e.path.includes(values.only));

/** A small seeded generator, so a run's interleaving can be repeated. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` requests of each kind in a random order. (Not pairs: in pairs of one of each kind, a request more
 * often follows one of the other kind, so work left over after one kind's responses would be billed to
 * the other.)
 */
function shuffledKinds(n: number, next: () => number): Kind[] {
  const order: Kind[] = [
    ...Array.from({ length: n }, () => "existing" as const),
    ...Array.from({ length: n }, () => "unknown" as const),
  ];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j] as Kind, order[i] as Kind];
  }
  return order;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]) => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
};
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};

let ipCounter = 0;
/** A client address of its own for every request. */
function nextIp(): string {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

const rows: string[] = [];
const users = endpoints.length * (REQUESTS + WARMUP);
const databases: Array<[string, string[]]> = [];
if (values.db !== "postgres") databases.push(["SQLite", []]);
if (process.env.TEST_DATABASE_URL && values.db !== "sqlite")
  databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);
const run = `${Date.now().toString(36)}`;

for (const [dbName, extra] of databases) {
  const started = Date.now();
  const server = await startServer(["gatehouse", ...extra], {
    TRUST_PROXY: "true",
    BENCH_USERS: String(users),
  });
  console.error(`${dbName}: ${users} users seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  let nextUser = 0;
  let nextStranger = 0;
  const next = random(Number(values.seed));

  for (const endpoint of endpoints) {
    const send = async (kind: Kind) => {
      const address =
        kind === "existing"
          ? `user${nextUser++}@bench.example`
          : `nobody${run}x${nextStranger++}@bench.example`;
      const start = performance.now();
      const response = await fetch(`${server.url}${endpoint.path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": nextIp() },
        body: JSON.stringify(endpoint.body(address)),
      });
      await response.arrayBuffer();
      const ms = performance.now() - start;
      if (response.status !== endpoint.status)
        throw new Error(`${endpoint.name} (${kind}): ${response.status}, expected ${endpoint.status}`);
      return ms;
    };
    for (const kind of shuffledKinds(WARMUP, next)) await send(kind);

    const times: Record<Kind, number[]> = { existing: [], unknown: [] };
    const after: Record<Kind, number[]> = { existing: [], unknown: [] };
    let previous: Kind | undefined;
    for (const kind of shuffledKinds(REQUESTS, next)) {
      const ms = await send(kind);
      times[kind].push(ms);
      if (previous) after[previous].push(ms);
      previous = kind;
    }
    // Let work left after the last responses finish before the next endpoint starts.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const e = times.existing;
    const u = times.unknown;
    const diff = (mean(e) / mean(u) - 1) * 100;
    const se = (Math.sqrt(variance(e) / e.length + variance(u) / u.length) / mean(u)) * 100;
    const bleed = (mean(after.existing) / mean(after.unknown) - 1) * 100;
    const f = (n: number) => n.toFixed(1);
    const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)}%`;
    rows.push(
      `| ${endpoint.name} | ${dbName} | ${e.length} | ${f(mean(e))} | ${f(mean(u))} | ${f(quantile(e, 0.5))} | ${f(quantile(u, 0.5))} | ${signed(diff)} ± ${se.toFixed(1)} | ${signed(bleed)} |`,
    );
    console.error(rows.at(-1));
  }
  server.child.kill();
}

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ${REQUESTS} requests per kind and endpoint after ${WARMUP} per kind of warm-up, both kinds shuffled into one order, one at a time, each from its own X-Forwarded-For address (TRUST_PROXY=true).`,
    "",
    "| endpoint | database | requests of each kind | mean ms, existing | mean ms, unknown | p50 ms, existing | p50 ms, unknown | difference of means ± 1 SE | next request: after existing vs after unknown |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
process.exit(0);
