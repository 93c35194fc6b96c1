// Where a Gatehouse read's fixed cost goes (issue 17): a bare Fastify route, then the same route with
// Gatehouse's per-request parts added one at a time (the logger and request id, the x-request-id
// header, the security headers, the control-character guard, @fastify/cookie, the auth hook's early
// return, the key-usage onResponse hook), then Gatehouse itself (GET /healthz, and GET /api/v1/session
// with a cookie), and last the floor of GET /session: the same hooks with a handler that finds the
// cookie in a Map and answers Gatehouse's own body through the same response schema. Every variant listens in this process; wrk (its own process) loads one at a time, in
// rounds (every variant once per round), and the CPU this process spent over the requests it answered
// is each variant's cost. Usage: npx tsx bench/hooks-ablation.ts [--rounds 3 --seconds 3]
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import fastifyCookie from "@fastify/cookie";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import pino from "pino";
import { authHookDependencies, buildApp, loggerOptions } from "../src/app.js";
import { sessionStateFor } from "../src/auth/session-response.js";
import { AuthzAnswer, AuthzCheckBody } from "../src/authz/authz.routes.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { registerAuthHook } from "../src/http/auth-hook.js";
import { sessionOf } from "../src/http/context.js";
import { lazyChildLoggerFactory } from "../src/http/request-logger.js";
import { MeSchema, SessionStateSchema } from "../src/http/schemas.js";
import { registerSecurityHeaders, securityHeaderSets } from "../src/http/security-headers.js";
import { registerControlCharacterGuard } from "../src/http/validation.js";
import { createClock } from "../src/lib/clock.js";
import { createServices } from "../src/services.js";
import { type LoadTarget, loadGenerator, runLoad } from "./lib.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, seconds: { type: "string", default: "3" } },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

type Step = {
  label: string;
  add: (app: FastifyInstance) => void | Promise<void>;
  /** Server options from this step on. */
  options?: Partial<FastifyServerOptions>;
};
const log = pino({ level: "warn" });
const steps: Step[] = [
  {
    label: "+ pino logger at warn, request ids (Fastify's child logger per request)",
    add: () => {},
  },
  {
    label: "… the request logger made only when written (Gatehouse's childLoggerFactory)",
    add: () => {},
    options: { childLoggerFactory: lazyChildLoggerFactory },
  },
  {
    label: "+ x-request-id on every answer (onSend)",
    add: (app) =>
      app.addHook("onSend", (request, reply, payload, done) => {
        reply.header("x-request-id", request.id);
        done(null, payload);
      }),
  },
  {
    label: "+ security headers for JSON (onRequest)",
    add: (app) => registerSecurityHeaders(app, securityHeaderSets({ https: false })),
  },
  { label: "+ control-character guard (onRequest)", add: (app) => registerControlCharacterGuard(app) },
  { label: "+ @fastify/cookie (onRequest, onSend)", add: (app) => app.register(fastifyCookie) },
  {
    label: "+ an async onRequest that returns at once (the auth hook off /api)",
    add: (app) =>
      app.addHook("onRequest", async (request) => {
        if (!request.url.startsWith("/api/")) return;
      }),
  },
  {
    label: "+ a callback onResponse that finds no key (key usage)",
    add: (app) =>
      app.addHook("onResponse", (request, _reply, done) => {
        if ((request as { apiKey?: unknown }).apiKey) throw new Error("unexpected");
        done();
      }),
  },
];

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

const targets: Array<{ label: string; target: LoadTarget }> = [];
const bare = Fastify({ logger: false });
bare.get("/healthz", async () => ({ status: "ok" }));
targets.push({ label: "bare Fastify route", target: { url: `${await listen(bare)}/healthz` } });
/** Every step up to the n-th (1-based), on a new server. */
async function withSteps(n: number): Promise<FastifyInstance> {
  const options = Object.assign({}, ...steps.slice(0, n).map((step) => step.options ?? {}));
  const app = Fastify({
    loggerInstance: log,
    genReqId: (req) => {
      const header = req.headers["x-request-id"];
      return typeof header === "string" && /^[\w.:-]{1,64}$/.test(header) ? header : randomUUID();
    },
    disableRequestLogging: true,
    ...options,
  }) as unknown as FastifyInstance;
  for (const step of steps.slice(0, n)) await step.add(app);
  return app;
}
for (let n = 1; n <= steps.length; n++) {
  const app = await withSteps(n);
  app.get("/healthz", async () => ({ status: "ok" }));
  targets.push({ label: (steps[n - 1] as Step).label, target: { url: `${await listen(app)}/healthz` } });
}

// Gatehouse itself, production mode, SQLite, as bench/servers.ts starts it.
const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "gatehouse-ablation-")), "bench.db")}`;
const config = loadConfig({
  NODE_ENV: "production",
  SECRET_KEY: randomBytes(32).toString("hex"),
  DATABASE_URL: url,
  PORT: "0",
  LOG_LEVEL: "warn",
  DATA_DIR: mkdtempSync(join(tmpdir(), "gatehouse-ablation-data-")),
});
const database = openDatabase(url);
await migrateToLatest(database);
const services = await createServices({
  config,
  database,
  clock: createClock(),
  log: pino(loggerOptions(config) as pino.LoggerOptions),
});
const gatehouse = await buildApp(config, services, {
  logger: pino(loggerOptions(config) as pino.LoggerOptions),
});
const base = await listen(gatehouse);
services.writeBehind.start();
await services.auth.createAccountWithRoot({
  email: "bench@example.com",
  password: "orchid-Lantern-Harbor-1",
  name: "Bench User",
  accountName: "Bench",
});
const login = await fetch(`${base}/api/v1/auth/login`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
});
const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
targets.push({ label: "Gatehouse GET /healthz", target: { url: `${base}/healthz` } });
targets.push({
  label: "Gatehouse GET /api/v1/session (cookie)",
  target: { url: `${base}/api/v1/session`, headers: { cookie } },
});

// The floor of GET /session: every step's hook, the cookie looked up in a Map, Gatehouse's own answer
// (the same bytes) serialised through the same response schema.
const state = (await (await fetch(`${base}/api/v1/session`, { headers: { cookie } })).json()) as {
  account_id: string;
  csrf_token: string;
  user: { id: string };
};
const floor = await withSteps(steps.length);
floor.addSchema(MeSchema);
const sessionsByToken = new Map([[cookie.split("=")[1] as string, state]]);
floor.get("/api/v1/session", { schema: { response: { 200: SessionStateSchema } } }, async (request) => {
  const found = sessionsByToken.get(request.cookies.gatehouse_session ?? "");
  if (!found) throw new Error("the benchmark's cookie is unknown");
  return found;
});
targets.push({
  label: "floor: the same hooks, a Map lookup and the same answer through its schema",
  target: { url: `${await listen(floor)}/api/v1/session`, headers: { cookie } },
});

// Between the floor and Gatehouse: the floor's server with Gatehouse's own auth hook and handler
// (the session cache, the state built from the cached profile), without Gatehouse's other routes.
const withAuth = await withSteps(steps.length);
withAuth.addSchema(MeSchema);
registerAuthHook(withAuth, authHookDependencies(config, services));
withAuth.get(
  "/api/v1/session",
  {
    config: {
      allowDuringPasswordChange: true,
      allowDuringMfaEnrollment: true,
      allowOutsideIpAllowlist: true,
    },
    schema: { response: { 200: SessionStateSchema } },
  },
  async (request) => sessionStateFor(services, config, sessionOf(request)),
);
targets.push({
  label: "… with Gatehouse's auth hook and GET /session handler instead (no other route)",
  target: { url: `${await listen(withAuth)}/api/v1/session`, headers: { cookie } },
});

// POST /api/v1/authz/check (one check, about the caller) in Gatehouse, and its floor: the same hooks,
// the same JSON body through the route's own body and answer schemas, the CSRF header compared, a
// fixed answer.
const check = JSON.stringify({
  account_id: state.account_id,
  user_id: state.user.id,
  permission: "members:read",
});
const postHeaders = { cookie, "x-csrf-token": state.csrf_token, "content-type": "application/json" };
targets.push({
  label: "Gatehouse POST /api/v1/authz/check, one check (cookie)",
  target: { url: `${base}/api/v1/authz/check`, method: "POST", headers: postHeaders, body: check },
});
const postFloor = await withSteps(steps.length);
postFloor.post(
  "/api/v1/authz/check",
  { schema: { body: AuthzCheckBody, response: { 200: AuthzAnswer } } },
  async (request) => {
    if (!sessionsByToken.has(request.cookies.gatehouse_session ?? "")) throw new Error("unknown cookie");
    if (request.headers["x-csrf-token"] !== state.csrf_token) throw new Error("wrong CSRF token");
    return { allowed: true, reason: "granted" };
  },
);
targets.push({
  label: "floor of the check: the same hooks, the body through its schema, a fixed answer",
  target: {
    url: `${await listen(postFloor)}/api/v1/authz/check`,
    method: "POST",
    headers: postHeaders,
    body: check,
  },
});

const generator = loadGenerator();
const results = new Map<string, Array<{ rps: number; cpu: number }>>();
for (const { target } of targets)
  await runLoad(generator, target, { seconds: 1, connections: 10 }).catch(() => undefined);
for (let round = 1; round <= rounds; round++) {
  for (const { label, target } of targets) {
    const before = process.cpuUsage();
    const measured = await runLoad(generator, target, { seconds, connections: 10 });
    const spent = process.cpuUsage(before);
    const requests = measured.rps * seconds;
    const cpu = (spent.user + spent.system) / requests;
    results.set(label, [...(results.get(label) ?? []), { rps: measured.rps, cpu }]);
  }
  console.error(`round ${round}/${rounds} done`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const bareCpu = median((results.get("bare Fastify route") ?? []).map((r) => r.cpu));
const bareRps = median((results.get("bare Fastify route") ?? []).map((r) => r.rps));
let previous = bareCpu;
const rows = targets.map(({ label }) => {
  const runs = results.get(label) ?? [];
  const cpu = median(runs.map((r) => r.cpu));
  const rps = median(runs.map((r) => r.rps));
  const row = `| ${label} | ${Math.round(rps)} | ${Math.round((100 * rps) / bareRps)}% | ${cpu.toFixed(1)} µs | ${(cpu - previous).toFixed(1)} µs |`;
  previous = cpu;
  return row;
});
console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} cores, Node ${process.version}, ${generator}, 10 connections, ${rounds} rounds of ${seconds} s, medians; load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}.`,
    "",
    "| variant (cumulative) | req/s | of bare | CPU per request | added |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
await Promise.all([
  bare.close(),
  floor.close(),
  withAuth.close(),
  postFloor.close(),
  gatehouse.close(),
  services.jobs.stop(),
]);
await services.close();
await database.close();
process.exit(0);
