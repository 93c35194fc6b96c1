// Mail on the request path: the response time of a log-in that mails a sign-in notice (a device the
// user has not used before) against one that mails nothing (a known device), with a real SMTP server
// as slow as a relay across a network: smtp-server greets 100 ms after each connection (its check for
// clients that talk too soon), and --smtp-ms more are added before it accepts a message's data (0 by
// default). Both kinds are shuffled into one
// order and sent one at a time, each as its own user and from its own client address. Also reported:
// how long after the last response the last mail arrived, and whether every mail arrived.
// Usage: npm run bench:mail [-- --requests 200 --smtp-ms 0 --db sqlite|postgres]
//        (PostgreSQL too when TEST_DATABASE_URL is set)
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { SMTPServer } from "smtp-server";
import { startServer } from "./lib.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "200" },
    warmup: { type: "string", default: "10" },
    "smtp-ms": { type: "string", default: "0" },
    db: { type: "string" },
  },
});
const REQUESTS = Number(values.requests);
const WARMUP = Number(values.warmup);
const SMTP_MS = Number(values["smtp-ms"]);
const PASSWORD = "orchid-Lantern-Harbor-1";

type Kind = "new device" | "known device";

let received = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, _session, callback) {
    stream.on("data", () => {});
    stream.on("end", () => {
      setTimeout(() => {
        received++;
        callback();
      }, SMTP_MS);
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
const smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}`;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
let ipCounter = 0;
const nextIp = () => {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
};

const rows: string[] = [];
const databases: Array<[string, string[]]> = [];
if (values.db !== "postgres") databases.push(["SQLite", []]);
if (process.env.TEST_DATABASE_URL && values.db !== "sqlite")
  databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);

for (const [dbName, extra] of databases) {
  const total = 2 * (REQUESTS + WARMUP);
  const server = await startServer(["gatehouse", ...extra], {
    TRUST_PROXY: "true",
    BENCH_USERS: String(total),
    SMTP_URL: smtpUrl,
  });
  const login = async (user: number, device: string | null) => {
    const start = performance.now();
    const response = await fetch(`${server.url}/api/v1/auth/login`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-for": nextIp(),
        ...(device ? { cookie: `gatehouse_device=${device}` } : {}),
      },
      body: JSON.stringify({ email: `user${user}@bench.example`, password: PASSWORD }),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`log-in: ${response.status}`);
    return performance.now() - start;
  };
  // Every user's first log-in, from the device they keep: the first device is never announced.
  const devices = Array.from({ length: total }, () => randomBytes(24).toString("base64url"));
  for (let user = 0; user < total; user++) await login(user, devices[user] as string);

  let user = 0;
  const send = (kind: Kind) => {
    const u = user++;
    return login(u, kind === "known device" ? (devices[u] as string) : null);
  };
  const order = (n: number): Kind[] =>
    Array.from({ length: 2 * n }, (_, i) => (i % 2 ? "new device" : "known device") as Kind).sort(
      () => Math.random() - 0.5,
    );
  for (const kind of order(WARMUP)) await send(kind);
  const times: Record<Kind, number[]> = { "new device": [], "known device": [] };
  for (const kind of order(REQUESTS)) times[kind].push(await send(kind));
  const lastAnswer = performance.now();
  // Every new-device log-in (warm-up included) mails one notice.
  const wanted = WARMUP + REQUESTS;
  for (let i = 0; i < 6000 && received < wanted; i++) await new Promise((r) => setTimeout(r, 10));
  const drained = performance.now() - lastAnswer;

  const f = (n: number) => n.toFixed(1);
  for (const kind of ["known device", "new device"] as const) {
    const xs = times[kind];
    rows.push(
      `| ${dbName} | log-in, ${kind}${kind === "new device" ? " (mails a notice)" : " (no mail)"} | ${xs.length} | ${f(mean(xs))} | ${f(quantile(xs, 0.5))} | ${f(quantile(xs, 0.99))} |`,
    );
    console.error(rows.at(-1));
  }
  rows.push(
    `| ${dbName} | mails received / sent | ${received} / ${wanted} | last ${(drained / 1000).toFixed(1)} s after the last answer | | |`,
  );
  console.error(rows.at(-1));
  received = 0;
  server.child.kill();
}

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ${REQUESTS} log-ins of each kind after ${WARMUP} of warm-up, shuffled, one at a time; the SMTP server greets 100 ms after each connection and accepts a message ${SMTP_MS} ms after its data.`,
    "",
    "| database | request | requests | mean ms | p50 ms | p99 ms |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
smtp.close();
process.exit(0);
