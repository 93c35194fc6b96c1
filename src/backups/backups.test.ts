import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import yauzl from "yauzl";
import yazl from "yazl";
import type { Actor } from "../audit/audit.repository.js";
import { verifyChains } from "../audit/audit.service.js";
import { ConfigError, loadConfig, parseDuration } from "../config.js";
import { type DatabaseHandle, type Db, openDatabase } from "../db/database.js";
import { migrateToLatest, migrateUpTo, migrationNames } from "../db/migrate.js";
import { createLocalStorage } from "../storage/local-storage.js";
import type { FileStorage } from "../storage/storage.js";
import {
  createTestApp,
  type Dialect,
  STRONG_PASSWORD,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { pngImage } from "../testing/images.js";
import { createScratchDatabase } from "../testing/server-process.js";
import { BackupError } from "./backup-error.js";
import { BACKUP_JOB } from "./backup-job.js";
import { type Manifest, parseManifest } from "./backup-manifest.js";
import { createBackup } from "./create-backup.js";
import { tablesWithRows } from "./database-dump.js";
import { findPgTool, parseToolVersion } from "./pg-tools.js";
import { restoreBackup } from "./restore-backup.js";

const KEY_TABLES = ["users", "accounts", "memberships", "audit_events", "stored_files"] as const;

async function counts(db: Db): Promise<Record<(typeof KEY_TABLES)[number], number>> {
  const result = {} as Record<(typeof KEY_TABLES)[number], number>;
  for (const table of KEY_TABLES) {
    const row = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
    result[table] = Number(row.rows[0]?.n);
  }
  return result;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function storedFiles(storage: FileStorage): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for await (const key of storage.list()) {
    const found = await storage.get(key);
    files.set(key, found?.bytes ?? (await readAll(found?.body as Readable)));
  }
  return files;
}

/** The ZIP's entries, to inspect or to write back changed. */
async function zipEntries(file: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      zip
        .openReadStreamPromise(entry)
        .then(readAll)
        .then((body) => {
          entries.set(entry.fileName, body);
          zip.readEntry();
        }, reject);
    });
    zip.on("end", resolve);
    zip.on("error", reject);
    zip.readEntry();
  });
  return entries;
}

async function writeZip(file: string, entries: Map<string, Buffer>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, body] of entries) zip.addBuffer(body, name);
  zip.end();
  const { createWriteStream } = await import("node:fs");
  const { pipeline } = await import("node:stream/promises");
  await pipeline(zip.outputStream as Readable, createWriteStream(file));
}

async function manifestOf(file: string): Promise<Manifest> {
  return parseManifest(((await zipEntries(file)).get("manifest.json") as Buffer).toString("utf8"));
}

/** An empty database to restore into (a new SQLite file; a new PostgreSQL database, same schema name). */
async function emptyTarget(
  dialect: Dialect,
  schema?: string,
): Promise<{ database: DatabaseHandle; storage: FileStorage; drop(): Promise<void> }> {
  const files = mkdtempSync(join(tmpdir(), "gatehouse-restored-files-"));
  const storage = createLocalStorage(files);
  const scratch = await createScratchDatabase(dialect);
  const database = openDatabase(scratch.url, schema ? { schema } : {});
  return {
    database,
    storage,
    drop: async () => {
      await database.close();
      await scratch.drop();
      rmSync(files, { recursive: true, force: true });
    },
  };
}

describe("backup settings", () => {
  const base = { NODE_ENV: "test", SECRET_KEY: "k".repeat(40), DATABASE_URL: "sqlite::memory:" };

  it("reads BACKUP_DIR, BACKUP_INTERVAL (30m, 6h, 1d, seconds) and BACKUP_KEEP, with defaults", () => {
    expect(loadConfig(base).backups).toBeUndefined();
    expect(loadConfig({ ...base, BACKUP_DIR: "/srv/backups" }).backups).toEqual({
      dir: "/srv/backups",
      intervalSeconds: 86_400,
      keep: 7,
    });
    expect(
      loadConfig({ ...base, BACKUP_DIR: "/srv/b", BACKUP_INTERVAL: "6h", BACKUP_KEEP: "30" }).backups,
    ).toEqual({ dir: "/srv/b", intervalSeconds: 21_600, keep: 30 });
    expect([parseDuration("30m"), parseDuration("1d"), parseDuration("90"), parseDuration("90s")]).toEqual([
      1800, 86_400, 90, 90,
    ]);
  });

  it("stops start-up on a bad interval or count, naming the variable", () => {
    for (const bad of ["", "soon", "10s", "0", "-1h", "2w", "367d", "1.5h"]) {
      if (bad === "") continue;
      expect(() => loadConfig({ ...base, BACKUP_INTERVAL: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, BACKUP_INTERVAL: bad })).toThrow(/^BACKUP_INTERVAL must be/);
    }
    for (const bad of ["0", "-2", "three", "1.5", "10001"])
      expect(() => loadConfig({ ...base, BACKUP_DIR: "/b", BACKUP_KEEP: bad })).toThrow(
        /^BACKUP_KEEP must be/,
      );
  });
});

describe("PostgreSQL client tools", () => {
  it("reads their versions", () => {
    expect(parseToolVersion("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n")).toEqual({
      major: 15,
      version: "15.20",
    });
    expect(parseToolVersion("pg_restore (PostgreSQL) 17.2\n")).toEqual({ major: 17, version: "17.2" });
    expect(parseToolVersion("pg_dump (PostgreSQL) 9.6.24\n")).toEqual({ major: 9.6, version: "9.6.24" });
    expect(parseToolVersion("bash: pg_dump: command not found")).toBeUndefined();
  });

  it("refuses clearly when pg_dump is missing or older than the server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-pgbin-"));
    try {
      await expect(findPgTool("pg_dump", 15, dir)).rejects.toThrow(
        /^pg_dump was not found in PG_BIN_DIR .*apt-get install postgresql-client-15/,
      );
      writeFileSync(join(dir, "pg_dump"), "#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.3'\n");
      chmodSync(join(dir, "pg_dump"), 0o755);
      await expect(findPgTool("pg_dump", 15, dir)).rejects.toThrow(
        /^pg_dump 15 or newer is needed for this PostgreSQL 15 server, but .*pg_dump is 12\.3/,
      );
      expect(await findPgTool("pg_dump", 12, dir)).toMatchObject({ major: 12, path: join(dir, "pg_dump") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(testDialects())("backups on %s", (dialect) => {
  let t: TestApp;
  let dir: string;
  let root: { userId: string; accountId: string };
  const actor = (id: string): Actor & { id: string } => ({
    type: "user",
    id,
    ip: null,
    userAgent: null,
    requestId: null,
  });
  const signUp = (n: number | string) =>
    t.services.auth.createAccountWithRoot({
      email: `writer-${n}@example.com`,
      password: STRONG_PASSWORD,
      name: "Writer Person",
      accountName: `Writer ${n}`,
    });
  const deps = () => ({
    database: t.services.database,
    storage: t.services.storage,
    secretKey: t.config.secretKey,
    now: () => t.services.clock.now(),
  });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-backups-"));
    root = await signUp("root");
    await t.services.uploads.setLogo(actor(root.userId), root.accountId, () => pngImage(600, 200));
    await t.services.uploads.setAvatar(actor(root.userId), null, await pngImage(300, 300));
    // A file no row names (an export, say) is a stored file too.
    await t.services.storage.put("orphan-export.csv", Buffer.from("a,b\n1,2\n"), "text/csv");
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("takes a consistent snapshot under write load and restores it into an empty database", async () => {
    let stop = false;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        await signUp(`load-${i}`);
        written += 1;
      }
    })();
    const writtenAtLeast = async (n: number) => {
      while (written < n) await new Promise((r) => setTimeout(r, 5));
    };
    await writtenAtLeast(2);

    // The first file read (before the snapshot) waits for more sign-ups and a new avatar: writes, and
    // files stored, while the backup runs.
    let gate: (() => Promise<void>) | undefined = async () => {
      await writtenAtLeast(written + 3);
      await t.services.uploads.setAvatar(actor(root.userId), null, await pngImage(320, 320));
    };
    const storage = t.services.storage;
    const gated: FileStorage = {
      ...storage,
      get: async (key) => {
        const hook = gate;
        gate = undefined;
        if (hook) await hook();
        return storage.get(key);
      },
    };
    const before = await counts(t.services.db);
    const file = join(dir, "under-load.zip");
    const { manifest } = await createBackup({ ...deps(), storage: gated }, file);
    const after = await counts(t.services.db);
    stop = true;
    await writer;

    expect(manifest).toMatchObject({
      format: "gatehouse-backup",
      format_version: 1,
      dialect,
      migration: migrationNames().at(-1),
      missing_files: [],
    });
    const sourceFiles = await storedFiles(t.services.storage);
    const target = await emptyTarget(dialect, t.services.database.schema);
    try {
      const summary = await restoreBackup(
        { database: target.database, storage: target.storage, secretKey: t.config.secretKey },
        file,
      );
      expect(summary.migrated).toEqual([]);
      const restored = await counts(target.database.db);
      // Exactly the snapshot's rows, taken between the two counts, and more than before: the sign-ups
      // committed while the backup ran up to its snapshot are in it.
      for (const table of KEY_TABLES) {
        expect(restored[table]).toBe(manifest.tables[table]);
        expect(restored[table]).toBeGreaterThanOrEqual(before[table]);
        expect(restored[table]).toBeLessThanOrEqual(after[table]);
      }
      expect(restored.users).toBeGreaterThanOrEqual(before.users + 3);
      // Each sign-up is one transaction (a user, an account, a membership): never half of one.
      expect(restored.users - restored.accounts).toBe(before.users - before.accounts);
      expect(restored.memberships - restored.accounts).toBe(before.memberships - before.accounts);
      const chains = await verifyChains(target.database.db);
      expect(chains.length).toBeGreaterThanOrEqual(restored.accounts);
      expect(chains.filter((c) => !c.ok)).toEqual([]);

      // Every file the restored rows name is there, byte for byte; so is every other stored file.
      const named = await target.database.db.selectFrom("stored_files").select("key").execute();
      expect(named.length).toBe(4);
      const restoredFiles = await storedFiles(target.storage);
      for (const { key } of named)
        expect(restoredFiles.get(key)?.equals(sourceFiles.get(key) as Buffer)).toBe(true);
      expect(restoredFiles.get("orphan-export.csv")?.toString()).toBe("a,b\n1,2\n");
      expect(new Set(manifest.files.map((f) => f.key))).toEqual(new Set(restoredFiles.keys()));
      const user = await target.database.db
        .selectFrom("users")
        .select(["avatar_key"])
        .where("id", "=", root.userId)
        .executeTakeFirstOrThrow();
      expect(restoredFiles.has(user.avatar_key as string)).toBe(true);
    } finally {
      await target.drop();
    }
  }, 120_000);

  it("refuses to restore into a database that holds data, changing nothing", async () => {
    const file = join(dir, "refuse-nonempty.zip");
    await createBackup(deps(), file);
    const before = await counts(t.services.db);
    const error = await restoreBackup(
      { database: t.services.database, storage: t.services.storage, secretKey: t.config.secretKey },
      file,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupError);
    expect((error as Error).message).toMatch(
      /^The database is not empty \(accounts: \d+ rows?, .*\)\. A backup restores into an empty database only/,
    );
    expect(await counts(t.services.db)).toEqual(before);
  }, 60_000);

  it("refuses a damaged or foreign backup before writing anything", async () => {
    const file = join(dir, "original.zip");
    await createBackup(deps(), file);
    const entries = await zipEntries(file);
    const manifest = parseManifest((entries.get("manifest.json") as Buffer).toString("utf8"));
    const variant = async (name: string, change: (copy: Map<string, Buffer>) => void) => {
      const copy = new Map([...entries].map(([k, v]) => [k, Buffer.from(v)]));
      change(copy);
      const path = join(dir, name);
      await writeZip(path, copy);
      return path;
    };
    const withManifest = (edit: (m: Manifest) => Manifest) => (copy: Map<string, Buffer>) => {
      copy.set("manifest.json", Buffer.from(JSON.stringify(edit(structuredClone(manifest)))));
    };
    const logo = manifest.files.find((f) => f.content_type === "image/png") as Manifest["files"][number];
    const cases: Array<[string, string, RegExp]> = [
      [
        "flipped-file.zip",
        await variant("flipped-file.zip", (copy) => {
          const body = copy.get(logo.path) as Buffer;
          body[100] = (body[100] ?? 0) ^ 0xff;
        }),
        new RegExp(
          `^Checksum mismatch for ${logo.path.replace(".", "\\.")} .*the backup is damaged\\. Nothing was restored\\.$`,
        ),
      ],
      [
        "flipped-db.zip",
        await variant("flipped-db.zip", (copy) => {
          const body = copy.get(manifest.database.path) as Buffer;
          body[body.length - 10] = (body[body.length - 10] ?? 0) ^ 0x01;
        }),
        /^Checksum mismatch for database\//,
      ],
      [
        "other-dialect.zip",
        await variant(
          "other-dialect.zip",
          withManifest((m) => ({ ...m, dialect: dialect === "sqlite" ? "postgres" : "sqlite" })),
        ),
        /^This backup is of a (PostgreSQL|SQLite) database and DATABASE_URL is (SQLite|PostgreSQL): a backup restores into the same kind/,
      ],
      [
        "newer.zip",
        await variant(
          "newer.zip",
          withManifest((m) => ({
            ...m,
            migration: "9999-future",
            migrations: [...m.migrations, "9999-future"],
          })),
        ),
        /^This backup comes from a newer Gatehouse .* does not know 9999-future/,
      ],
      [
        "extra-entry.zip",
        await variant("extra-entry.zip", (copy) => copy.set("files/extra.png", Buffer.from("x"))),
        /^The backup holds files\/extra\.png, which its manifest does not list\.$/,
      ],
      [
        "no-manifest.zip",
        await variant("no-manifest.zip", (copy) => copy.delete("manifest.json")),
        /^This is not a Gatehouse backup: it has no manifest\.json\.$/,
      ],
    ];
    const notZip = join(dir, "not-a-zip.zip");
    writeFileSync(notZip, "hello");
    cases.push(["not-a-zip.zip", notZip, /^.*not-a-zip\.zip is not a readable backup/]);
    const target = await emptyTarget(dialect, t.services.database.schema);
    try {
      for (const [name, path, message] of cases) {
        const error = await restoreBackup(
          { database: target.database, storage: target.storage, secretKey: t.config.secretKey },
          path,
        ).catch((e: unknown) => e);
        expect(error, name).toBeInstanceOf(BackupError);
        expect((error as Error).message, name).toMatch(message);
      }
      // Another installation's SECRET_KEY: its encrypted secrets would be unreadable.
      await expect(
        restoreBackup(
          { database: target.database, storage: target.storage, secretKey: Buffer.from("x".repeat(40)) },
          file,
        ),
      ).rejects.toThrow(/^SECRET_KEY is not the key of the installation this backup was taken from/);
      expect(await tablesWithRows(target.database)).toEqual({});
      expect((await storedFiles(target.storage)).size).toBe(0);

      // The intact backup restores into that same (still empty) database, also once migrated (a new
      // installation's first start): what the migrations made, tables and function, gives way to the dump's.
      await migrateToLatest(target.database);
      await restoreBackup(
        { database: target.database, storage: target.storage, secretKey: t.config.secretKey },
        file,
      );
      expect((await counts(target.database.db)).users).toBe(manifest.tables.users);
    } finally {
      await target.drop();
    }
  }, 120_000);

  it("migrates an older backup to the latest migration once restored", async () => {
    const source = await createScratchDatabase(dialect);
    const old = openDatabase(source.url);
    const target = await emptyTarget(dialect);
    try {
      await migrateUpTo(old, "0021-notifications");
      const file = join(dir, "older.zip");
      const { manifest } = await createBackup(
        {
          database: old,
          storage: createLocalStorage(join(dir, "no-files")),
          secretKey: t.config.secretKey,
          now: () => new Date(),
        },
        file,
      );
      expect(manifest.migration).toBe("0021-notifications");
      expect(manifest.tables).not.toHaveProperty("stored_files");
      // A database migrated but never used counts as empty.
      await migrateToLatest(target.database);
      const summary = await restoreBackup(
        { database: target.database, storage: target.storage, secretKey: t.config.secretKey },
        file,
      );
      expect(summary.migrated).toEqual(migrationNames().filter((m) => m > "0021-notifications"));
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
        target.database.db,
      );
      expect(applied.rows.map((r) => r.name)).toEqual(migrationNames());
    } finally {
      await old.close();
      await source.drop();
      await target.drop();
    }
  }, 120_000);

  if (dialect === "postgres")
    it("finds pg_dump and pg_restore for this server on the machine", async () => {
      const row = await sql<{ v: string }>`select current_setting('server_version_num') as v`.execute(
        t.services.db,
      );
      const major = Math.floor(Number(row.rows[0]?.v) / 10_000);
      expect(await findPgTool("pg_dump", major)).toMatchObject({ major });
      expect(await findPgTool("pg_restore", major)).toMatchObject({ major });
    });
});

describe.each(testDialects())("scheduled backups on %s", (dialect) => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-scheduled-"));
    t = await createTestApp(dialect, { BACKUP_DIR: dir, BACKUP_INTERVAL: "6h", BACKUP_KEEP: "2" });
    await t.services.auth.createAccountWithRoot({
      email: "scheduled@example.com",
      password: STRONG_PASSWORD,
      name: "Sched Person",
      accountName: "Sched Co",
    });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const backups = () =>
    readdirSync(dir)
      .filter((n) => n.endsWith(".zip"))
      .sort();

  it("runs in the job loop every BACKUP_INTERVAL, keeps the newest BACKUP_KEEP, and retries a failure", async () => {
    writeFileSync(join(dir, "notes.txt"), "not a backup");
    const start = new Date("2026-06-01T00:00:00.000Z");
    t.services.clock.freeze(start);
    try {
      const view = async () => (await t.services.jobs.list()).find((j) => j.name === BACKUP_JOB);
      expect(await view()).toMatchObject({ intervalSeconds: 21_600, registered: true });

      const first = await t.services.jobs.runDue();
      expect(first[BACKUP_JOB]).toMatchObject({
        status: "ok",
        result: { file: "gatehouse-backup-2026-06-01T00-00-00-000Z.zip", deleted: [] },
      });
      // Not due again within the interval.
      t.services.clock.advance(3600);
      expect(await t.services.jobs.runDue()).not.toHaveProperty(BACKUP_JOB);
      t.services.clock.advance(5 * 3600);
      expect((await t.services.jobs.runDue())[BACKUP_JOB]).toMatchObject({ status: "ok" });
      t.services.clock.advance(6 * 3600);
      const third = await t.services.jobs.runDue();
      expect(third[BACKUP_JOB]).toMatchObject({
        status: "ok",
        result: {
          file: "gatehouse-backup-2026-06-01T12-00-00-000Z.zip",
          deleted: ["gatehouse-backup-2026-06-01T00-00-00-000Z.zip"],
        },
      });
      expect(backups()).toEqual([
        "gatehouse-backup-2026-06-01T06-00-00-000Z.zip",
        "gatehouse-backup-2026-06-01T12-00-00-000Z.zip",
      ]);
      expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("not a backup");
      const manifest = await manifestOf(join(dir, "gatehouse-backup-2026-06-01T12-00-00-000Z.zip"));
      expect(manifest).toMatchObject({ dialect, created_at: "2026-06-01T12:00:00.000Z" });
      expect(manifest.tables.users).toBe(1);

      // A backup that cannot be written fails the run, keeps the older backups, and is retried with the
      // loop's backoff.
      const blocked = `${dir}-blocked`;
      writeFileSync(blocked, "a file where the folder should be");
      const failingDir = join(blocked, "inside");
      const other = await createTestApp(dialect, {
        BACKUP_DIR: failingDir,
        BACKUP_INTERVAL: "6h",
        BACKUP_KEEP: "2",
      });
      try {
        other.services.clock.freeze(start);
        const failed = await other.services.jobs.runNow([BACKUP_JOB]);
        expect(failed[BACKUP_JOB]).toMatchObject({
          status: "failed",
          error: expect.stringMatching(/ENOTDIR|EEXIST/),
        });
        expect((await other.services.jobs.list()).find((j) => j.name === BACKUP_JOB)).toMatchObject({
          lastStatus: "failed",
          consecutiveFailures: 1,
          nextRunAt: new Date(start.getTime() + 30_000).toISOString(),
        });
        rmSync(blocked);
        other.services.clock.advance(30);
        expect((await other.services.jobs.runDue())[BACKUP_JOB]).toMatchObject({ status: "ok" });
        expect(existsSync(join(failingDir, "gatehouse-backup-2026-06-01T00-00-30-000Z.zip"))).toBe(true);
      } finally {
        await other.close();
        rmSync(blocked, { recursive: true, force: true });
      }
    } finally {
      t.services.clock.reset();
    }
  }, 120_000);
});
