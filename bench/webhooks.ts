// Webhooks: (1) events per second dispatched end to end — recorded in a transaction, fanned out,
// signed and POSTed to a local receiver that answers 204 — and (2) what the outbox adds to a write
// request: `PATCH /teams/{id}` (a rename, which records `team.updated`) with the event stream and a
// subscribed endpoint, against the same server whose `events.record` is a no-op. Requests go through
// Fastify's inject (no sockets) one at a time, the two builds interleaved in rounds.
// Usage: npm run bench:webhooks [-- --events 2000 --requests 400 --db sqlite|postgres]
//        (PostgreSQL when --db postgres and TEST_DATABASE_URL is set)
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import pino from "pino";
import { buildApp } from "../src/app.js";
import { SYSTEM_ACTOR } from "../src/audit/audit.repository.js";
import { loadConfig } from "../src/config.js";
import { transact } from "../src/db/database.js";
import { createClock } from "../src/lib/clock.js";
import { createServices } from "../src/services.js";
import { type Dialect, openTestDatabase } from "../src/testing/harness.js";
import { startWebhookReceiver } from "../src/testing/webhook-receiver.js";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "2000" },
    requests: { type: "string", default: "400" },
    db: { type: "string", default: "sqlite" },
  },
});
const EVENTS = Number(values.events);
const REQUESTS = Number(values.requests);
const dialect = values.db as Dialect;
const PASSWORD = "orchid-Lantern-Harbor-1";

const receiver = await startWebhookReceiver();
const log = pino({ level: "silent" });
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A server (services + app) on its own database, with an account, a session and a webhook on "*". */
async function server(options: { outbox: boolean }) {
  const { database, drop } = await openTestDatabase(dialect);
  const config = loadConfig({
    NODE_ENV: "test",
    PUBLIC_URL: "http://gatehouse.bench",
    DATABASE_URL: "sqlite::memory:",
    SECRET_KEY: randomBytes(32).toString("hex"),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    BILLING_PLANS: JSON.stringify({ free: { seat_limit: null, webhooks_limit: 5 } }),
  });
  const services = await createServices({ config, database, clock: createClock(), log });
  if (!options.outbox) services.events.record = async () => {};
  const app = await buildApp(config, services, { logger: log });
  await app.ready();
  const email = `bench-${randomBytes(4).toString("hex")}@example.com`;
  const { accountId } = await services.auth.createAccountWithRoot({
    email,
    password: PASSWORD,
    name: "Bench Root",
    accountName: "Bench",
  });
  const login = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password: PASSWORD },
  });
  if (login.statusCode !== 200) throw new Error(`login: ${login.payload}`);
  const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const headers = { cookie, "x-csrf-token": login.json().csrf_token as string };
  const api = `/api/v1/accounts/${accountId}`;
  const hook = await app.inject({
    method: "POST",
    url: `${api}/webhooks`,
    headers,
    payload: { url: receiver.url("/bench"), events: ["*"] },
  });
  if (hook.statusCode !== 201) throw new Error(`webhook: ${hook.payload}`);
  const team = await app.inject({
    method: "POST",
    url: `${api}/teams`,
    headers,
    payload: { name: "Bench team" },
  });
  if (team.statusCode !== 201) throw new Error(`team: ${team.payload}`);
  return {
    services,
    accountId,
    rename: async (name: string) => {
      const started = performance.now();
      const answer = await app.inject({
        method: "PATCH",
        url: `${api}/teams/${team.json().id}`,
        headers,
        payload: { name },
      });
      if (answer.statusCode !== 200) throw new Error(`rename: ${answer.payload}`);
      return performance.now() - started;
    },
    async close() {
      await services.jobs.idle();
      await app.close();
      await services.close();
      await drop();
    },
  };
}

const waitFor = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 2));
};

// (1) End to end: EVENTS events, recorded 100 per transaction, until the receiver has them all.
const dispatch = await server({ outbox: true });
// The team.created of the setup first.
await waitFor(() => receiver.at("/bench").length >= 1);
const before = receiver.at("/bench").length;
const started = performance.now();
for (let i = 0; i < EVENTS; i += 100) {
  await transact(dispatch.services.db, async (trx, effects) => {
    const batch = Array.from({ length: Math.min(100, EVENTS - i) }, (_, j) => ({
      accountId: dispatch.accountId,
      type: "team.updated" as const,
      data: { id: `team_${i + j}`, name: `Team ${i + j}` },
    }));
    await dispatch.services.events.record(trx, effects, SYSTEM_ACTOR, ...batch);
  });
}
const recorded = performance.now() - started;
await waitFor(() => receiver.at("/bench").length >= before + EVENTS);
const elapsed = performance.now() - started;
await dispatch.close();
const ids = new Set(receiver.at("/bench").map((r) => r.headers["webhook-id"]));

// (2) The write request with and without the outbox, interleaved in rounds after a warm-up.
receiver.received.length = 0;
const builds = { with: await server({ outbox: true }), without: await server({ outbox: false }) };
const times: Record<"with" | "without", number[]> = { with: [], without: [] };
for (const build of ["with", "without"] as const)
  for (let i = 0; i < 30; i++) await builds[build].rename(`warm ${i}`);
const rounds = 5;
for (let round = 0; round < rounds; round++) {
  for (const build of round % 2 ? (["without", "with"] as const) : (["with", "without"] as const)) {
    for (let i = 0; i < REQUESTS / rounds; i++)
      times[build].push(await builds[build].rename(`${build} ${round} ${i}`));
    // The deliveries of this round go out before the other build is measured.
    await builds[build].services.jobs.idle();
  }
}
await builds.with.close();
await builds.without.close();
await receiver.close();

const row = (what: string, ms: number[]) =>
  `| ${what} | ${(1000 / mean(ms)).toFixed(0)} | ${mean(ms).toFixed(2)} | ${quantile(ms, 0.5).toFixed(2)} | ${quantile(ms, 0.99).toFixed(2)} |`;
console.log(
  `\n${dialect}, ${cpus().length} cores, Node ${process.version}: ${EVENTS} events, ${REQUESTS} requests per build\n`,
);
console.log(
  "| dispatch | events | recorded in ms | delivered (2xx) in ms | events/s end to end | distinct webhook-ids |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
console.log(
  `| record → fan-out → signed POST → 204 | ${EVENTS} | ${recorded.toFixed(0)} | ${elapsed.toFixed(0)} | ${((EVENTS / elapsed) * 1000).toFixed(0)} | ${ids.size} |`,
);
console.log("\n| PATCH /teams/{id} (rename) | requests/s (one at a time) | mean ms | p50 ms | p99 ms |");
console.log("| --- | ---: | ---: | ---: | ---: |");
console.log(row("events.record a no-op (baseline)", times.without));
console.log(row("event recorded + fan-out + delivery", times.with));
console.log(`\nmean ratio with/without: ${(mean(times.with) / mean(times.without)).toFixed(2)}×`);
process.exit(0);
