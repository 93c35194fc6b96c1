// Exports of 50,000 members: rows/s and peak RSS for CSV, JSON Lines and PDF, against a baseline in
// the same run — the same keyset reads (1,000 rows a batch) serialised as JSON into /dev/null, without
// a writer, a file, storage or progress updates. Each measurement runs in its own process, so its peak
// RSS is its own.
// Usage: npm run bench:exports [-- --members 50000]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { type Cursor, EXPORT_SOURCES } from "../src/exports/export-data.repository.js";
import { createClock } from "../src/lib/clock.js";
import { createServices } from "../src/services.js";
import { seedMembers } from "../src/testing/seed.js";

type Result = { rows: number; seconds: number; rssBeforeMb: number; peakRssMb: number; bytes: number };

function configFor(url: string) {
  return loadConfig({
    NODE_ENV: "production",
    SECRET_KEY: "b".repeat(64),
    DATABASE_URL: url,
    SMTP_URL: "",
    DATA_DIR: mkdtempSync(join(tmpdir(), "gatehouse-bench-data-")),
  });
}

async function open(url: string, schema: string | undefined) {
  const database = openDatabase(url, schema ? { schema } : {});
  const log = pino({ level: "warn" });
  const services = await createServices({ config: configFor(url), database, clock: createClock(), log });
  return { database, services };
}

/** The child: one measurement, printed as a JSON line. */
async function child(mode: string, url: string, schema: string, accountId: string, userId: string) {
  const { database, services } = await open(url, schema || undefined);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  let rows = 0;
  let bytes = 0;
  if (mode === "baseline") {
    const out = createWriteStream("/dev/null");
    const source = EXPORT_SOURCES.members;
    const query = { accountId, range: { from: null, to: null }, filters: {}, now: new Date().toISOString() };
    let after: Cursor | undefined;
    for (;;) {
      const batch = await source.batch(services.db, query, after, 1000);
      let chunk = "";
      for (const row of batch.rows) chunk += `${JSON.stringify(row)}\n`;
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
      rows += batch.rows.length;
      if (batch.rows.length < 1000 || !batch.last) break;
      after = batch.last;
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
  } else {
    const actor = { type: "user" as const, id: userId, ip: null, userAgent: null, requestId: null };
    const { id } = await services.exports.request(actor, accountId, { type: "members", format: mode });
    const outcome = await services.exportRunner.runDue();
    if (outcome.succeeded !== 1)
      throw new Error(`export ${mode} did not succeed: ${JSON.stringify(outcome)}`);
    const row = await services.db
      .selectFrom("exports")
      .select(["rows_done", "file_bytes"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    rows = Number(row.rows_done);
    bytes = Number(row.file_bytes);
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const mb = (n: number) => Math.round(n / 1024 / 1024);
  const result: Result = { rows, seconds, rssBeforeMb: mb(rssBefore), peakRssMb: mb(peak), bytes };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await services.close();
  await database.close();
}

function runChild(args: string[]): Promise<Result> {
  const proc = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", "bench/exports.ts", "child", ...args],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  proc.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  return new Promise((resolve, reject) =>
    proc.on("exit", (code) => {
      const line = out
        .trim()
        .split("\n")
        .findLast((l) => l.startsWith("{"));
      if (code !== 0 || !line) reject(new Error(`child ${args[0]} exited with ${code}`));
      else resolve(JSON.parse(line) as Result);
    }),
  );
}

async function setup(url: string, members: number) {
  let schema = "";
  if (url.startsWith("postgres")) {
    const pg = await import("pg");
    schema = `bench_${randomBytes(4).toString("hex")}`;
    const c = new pg.default.Client({ connectionString: url });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
  }
  const database = openDatabase(url, schema ? { schema } : {});
  await migrateToLatest(database);
  await database.close();
  const { database: db, services } = await open(url, schema || undefined);
  const owner = await services.auth.createAccountWithRoot({
    email: "bench@example.com",
    password: "orchid-Lantern-Harbor-1",
    name: "Bench User",
    accountName: "Bench",
  });
  await seedMembers(services.db, owner.accountId, members);
  // PostgreSQL only, as autovacuum would; SQLite gets no statistics (sqlite_stat4 re-plans per binding).
  if (db.dialect === "postgres") await sql`analyze`.execute(services.db);
  await services.close();
  await db.close();
  return { schema, accountId: owner.accountId, userId: owner.userId };
}

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { members: { type: "string", default: "50000" } },
  });
  const members = Number(values.members);
  const databases: Array<[string, string]> = [
    ["SQLite", `sqlite:${join(mkdtempSync(join(tmpdir(), "gatehouse-bench-")), "bench.db")}`],
  ];
  if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", process.env.TEST_DATABASE_URL]);
  const table: string[] = [];
  for (const [name, url] of databases) {
    const { schema, accountId, userId } = await setup(url, members);
    const results: Array<[string, Result]> = [];
    for (const mode of ["baseline", "csv", "json", "pdf"]) {
      results.push([mode, await runChild([mode, url, schema, accountId, userId])]);
    }
    const base = results[0]?.[1] as Result;
    const rate = (r: Result) => r.rows / r.seconds;
    const labels: Record<string, string> = {
      baseline: "keyset reads → JSON → /dev/null (baseline)",
      csv: "export, CSV",
      json: "export, JSON Lines",
      pdf: "export, PDF",
    };
    for (const [mode, r] of results) {
      table.push(
        `| ${labels[mode]} | ${name} | ${r.rows} | ${rate(r).toFixed(0)} | ${mode === "baseline" ? "100%" : `${((rate(r) / rate(base)) * 100).toFixed(0)}% of baseline`} | ${r.rssBeforeMb} | ${r.peakRssMb} | ${(r.bytes / 1024 / 1024).toFixed(1)} |`,
      );
    }
  }
  console.log(`Node ${process.version}, ${members} members, batches of 1000\n`);
  console.log("| what | database | rows | rows/s | ratio | RSS before (MB) | peak RSS (MB) | file (MB) |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const line of table) console.log(line);
}

const [first, ...rest] = process.argv.slice(2);
if (first === "child") {
  const [mode, url, schema, accountId, userId] = rest as [string, string, string, string, string];
  await child(mode, url, schema, accountId, userId);
} else await main();
