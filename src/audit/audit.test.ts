import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Migrator, sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "../db/database.js";
import { migrateToLatest } from "../db/migrate.js";
import * as identity from "../db/migrations/0001-identity.js";
import * as members from "../db/migrations/0002-members.js";
import { newId } from "../lib/ids.js";
import {
  createClient,
  createTestApp,
  type Dialect,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  withSchemaLock,
} from "../testing/harness.js";
import { type Actor, recordAudit } from "./audit.repository.js";
import { verifyChain } from "./audit.service.js";
import { runAuditCommand } from "./audit-cli.js";

const ACTOR: Actor = { type: "system", id: null, ip: "198.51.100.1", userAgent: "test", requestId: "req-1" };

type Row = { id: string; seq: number; action: string; changes: string | null; hash: string };

/** Captures what the CLI prints. */
function capture() {
  const lines: string[] = [];
  return { lines, out: { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) } };
}

describe.each(testDialects())("audit log on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const eventsUrl = (accountId: string, query = "") =>
    `/api/v1/accounts/${accountId}/audit-events${query ? `?${query}` : ""}`;

  async function chainRows(accountId: string): Promise<Row[]> {
    const rows = await t.services.db
      .selectFrom("audit_events")
      .select(["id", "seq", "action", "changes", "hash"])
      .where("account_id", "=", accountId)
      .orderBy("seq")
      .execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  it("lists events from real actions newest first, with actor, target and changes", async () => {
    const owner = await signUpAndLogin(t, { email: "audit-owner@example.com", name: "Olive Owner" });
    const failed = await createClient(t.app, { ip: "192.0.2.7" }).post("/api/v1/auth/login", {
      email: "audit-owner@example.com",
      password: "wrong-wrong-wrong",
    });
    expect(failed.statusCode).toBe(401);
    const laptop = createClient(t.app, { ip: "192.0.2.8" });
    const login = await laptop.post("/api/v1/auth/login", {
      email: "audit-owner@example.com",
      password: STRONG_PASSWORD,
    });
    const laptopSession = login.body.session.id as string;
    expect((await owner.client.delete(`/api/v1/me/sessions/${laptopSession}`)).statusCode).toBe(204);
    const change = await owner.client.post("/api/v1/me/password", {
      current_password: STRONG_PASSWORD,
      new_password: "another-Strong-passphrase-77",
    });
    expect(change.statusCode).toBe(200);
    const policy = await owner.client.patch(`/api/v1/accounts/${owner.accountId}/security`, {
      password_policy: { min_length: 14 },
    });
    expect(policy.statusCode).toBe(200);

    const list = await owner.client.get(eventsUrl(owner.accountId));
    expect(list.statusCode).toBe(200);
    const actions = list.body.data.map((e: { action: string }) => e.action);
    expect(actions.slice(0, 5)).toEqual([
      "account.security_updated",
      "user.password_changed",
      "session.revoked",
      "auth.login",
      "auth.login_failed",
    ]);
    expect(actions).toContain("user.signed_up");
    expect(actions.at(-1)).toBe("account.created");
    expect(list.body.next_cursor).toBeNull();

    const [security, , revoked, , loginFailed] = list.body.data;
    expect(security).toMatchObject({
      actor: { type: "user", id: owner.userId, email: "audit-owner@example.com" },
      target: { type: "account", id: owner.accountId },
      changes: { password_policy: { min_length: 14 } },
      ip: "127.0.0.1",
      request_id: expect.any(String),
    });
    expect(Object.keys(security).sort()).toEqual([
      "action",
      "actor",
      "category",
      "change_names",
      "changes",
      "created_at",
      "device",
      "id",
      "ip",
      "request_id",
      "target",
      "user_agent",
    ]);
    expect(revoked).toMatchObject({ target: { type: "session", id: laptopSession }, changes: null });
    expect(loginFailed).toMatchObject({ ip: "192.0.2.7", target: { type: "user", id: owner.userId } });
    const times = list.body.data.map((e: { created_at: string }) => e.created_at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("filters by action (exact and prefix), actor, target and time, and pages stably", async () => {
    const owner = await signUpAndLogin(t, { email: "audit-filter@example.com" });
    const other = createClient(t.app, { ip: "192.0.2.20" });
    t.services.clock.advance(20 * 60);
    const later = t.services.clock.now().toISOString();
    t.services.clock.advance(1);
    const secondLogin = await other.post("/api/v1/auth/login", {
      email: "audit-filter@example.com",
      password: STRONG_PASSWORD,
    });
    await other.post("/api/v1/auth/login", { email: "audit-filter@example.com", password: "nope-nope-nope" });
    const get = async (query: string) => {
      const response = await owner.client.get(eventsUrl(owner.accountId, query));
      expect(response.statusCode).toBe(200);
      return response.body.data.map((e: { action: string }) => e.action) as string[];
    };

    expect(await get("action=auth.login")).toEqual(["auth.login", "auth.login"]);
    expect(await get("action=auth.*")).toEqual(["auth.login_failed", "auth.login", "auth.login"]);
    expect(await get("action=auth.log")).toEqual([]);
    expect(await get("action=user_x.*")).toEqual([]);
    expect(await get(`target_id=${secondLogin.body.session.id}`)).toEqual(["auth.login"]);
    expect(await get(`actor_id=${owner.userId}&action=account.created`)).toEqual(["account.created"]);
    expect(await get("actor_id=usr_nobody")).toEqual([]);
    expect(await get(`from=${encodeURIComponent(later)}`)).toEqual(["auth.login_failed", "auth.login"]);
    const early = await get(`to=${encodeURIComponent(later)}`);
    expect(early).not.toContain("auth.login_failed");
    expect(early[0]).toBe("auth.login");
    const created = (await owner.client.get(eventsUrl(owner.accountId, "action=account.created"))).body
      .data[0];
    const at = encodeURIComponent(created.created_at);
    expect(await get(`from=${at}&to=${at}&action=account.*`)).toEqual(["account.created"]);
    // An offset in the query is the same instant as its UTC form.
    const shifted = new Date(later).getTime() + 2 * 3600_000;
    const withOffset = `${new Date(shifted).toISOString().slice(0, 23)}+02:00`;
    expect(await get(`from=${encodeURIComponent(withOffset)}`)).toEqual(["auth.login_failed", "auth.login"]);

    const all = await owner.client.get(eventsUrl(owner.accountId, "limit=200"));
    const allIds = all.body.data.map((e: { id: string }) => e.id);
    const pages: string[] = [];
    let cursor: string | null = null;
    let first = true;
    do {
      const query: string = `limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await owner.client.get(eventsUrl(owner.accountId, query));
      expect(page.statusCode).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      pages.push(...page.body.data.map((e: { id: string }) => e.id));
      cursor = page.body.next_cursor;
      if (first) {
        // New events while paging land before the first page, never inside later ones.
        await other.post("/api/v1/auth/login", {
          email: "audit-filter@example.com",
          password: STRONG_PASSWORD,
        });
        first = false;
      }
    } while (cursor);
    expect(pages).toEqual(allIds);

    for (let i = 0; i < 60; i++)
      await recordAudit(
        t.services.db,
        ACTOR,
        { accountId: owner.accountId, action: "test.bulk" },
        new Date(),
      );
    const defaultPage = await owner.client.get(eventsUrl(owner.accountId));
    expect(defaultPage.body.data).toHaveLength(50);
    expect(defaultPage.body.next_cursor).toEqual(expect.any(String));
  });

  it("answers bad query values with 400 problem+json", async () => {
    const owner = await signUpAndLogin(t, { email: "audit-bad@example.com" });
    for (const [query, path] of [
      ["limit=0", "limit"],
      ["limit=201", "limit"],
      ["limit=ten", "limit"],
      ["from=yesterday", "from"],
      ["to=2025-13-01T00:00:00Z", "to"],
      ["action=Member.*", "action"],
      ["action=member.*.*", "action"],
      [`actor_id=${"x".repeat(65)}`, "actor_id"],
      ["cursor=not-a-cursor", "cursor"],
      [`cursor=${Buffer.from('{"seq":-1}').toString("base64url")}`, "cursor"],
      ["actor=usr_x", "actor"],
      ["from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", "to"],
    ] as const) {
      const response = await owner.client.get(eventsUrl(owner.accountId, query));
      expect(response.statusCode, query).toBe(400);
      expect(response.headers["content-type"]).toContain("application/problem+json");
      expect(response.body.code).toBe("validation_failed");
      expect(
        response.body.errors.map((e: { path: string }) => e.path),
        query,
      ).toContain(path);
    }
  });

  it("hides other accounts (404) and needs audit:read (403)", async () => {
    const alice = await signUpAndLogin(t, { email: "audit-alice@example.com" });
    const bob = await signUpAndLogin(t, { email: "audit-bob@example.com" });
    const monitor = await signUpAndLogin(t, { email: "audit-monitor@example.com" });
    const monitorRole = await t.services.db
      .selectFrom("roles")
      .select("id")
      .where("account_id", "=", alice.accountId)
      .where("key", "=", "monitor")
      .executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    await t.services.db
      .insertInto("memberships")
      .values({
        id: newId("membership"),
        account_id: alice.accountId,
        user_id: monitor.userId,
        role_id: monitorRole.id,
        status: "active",
        sort_name: "",
        email_normalized: "",
        last_login_at: null,
        created_at: now,
        updated_at: now,
      })
      .execute();

    const forbidden = await monitor.client.get(eventsUrl(alice.accountId));
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.body.code).toBe("forbidden");
    expect((await bob.client.get(eventsUrl(alice.accountId))).statusCode).toBe(404);
    expect((await bob.client.get(eventsUrl("acct_doesnotexist"))).statusCode).toBe(404);
    expect((await createClient(t.app).get(eventsUrl(alice.accountId))).statusCode).toBe(401);

    // Each sees only their own account's events.
    const bobs = await bob.client.get(eventsUrl(bob.accountId, "limit=200"));
    const alices = await alice.client.get(eventsUrl(alice.accountId, "limit=200"));
    const bobIds = new Set(bobs.body.data.map((e: { id: string }) => e.id));
    expect(alices.body.data.some((e: { id: string }) => bobIds.has(e.id))).toBe(false);
    expect(bobs.body.data.every((e: { actor: { id: string } }) => e.actor.id === bob.userId)).toBe(true);
  });

  it("is in the OpenAPI document with its query parameters", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
    const operation = doc.paths["/api/v1/accounts/{account_id}/audit-events"].get;
    const names = operation.parameters.map((p: { name: string }) => p.name).sort();
    expect(names).toEqual([
      "account_id",
      "action",
      "actor_id",
      "category",
      "cursor",
      "from",
      "limit",
      "target_id",
      "to",
    ]);
    expect(operation.parameters.find((p: { name: string }) => p.name === "limit").required).toBe(false);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["200", "400", "403", "404"]));
  });

  it("verifies every chain after real activity, including the installation chain", async () => {
    const owner = await signUpAndLogin(t, { email: "audit-verify@example.com" });
    await recordAudit(t.services.db, ACTOR, { accountId: null, action: "installation.tested" }, new Date());
    const rows = await chainRows(owner.accountId);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const result = await verifyChain(t.services.db);
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.events).toBeGreaterThan(rows.length);
    expect(await verifyChain(t.services.db, owner.accountId)).toEqual({ ok: true, events: rows.length });
  });

  it("detects a changed field, a deleted event, swapped hashes and a cut-off tail, at the right seq", async () => {
    const owner = await signUpAndLogin(t, { email: "audit-tamper@example.com" });
    for (let i = 0; i < 3; i++)
      await recordAudit(
        t.services.db,
        ACTOR,
        { accountId: owner.accountId, action: "test.event", changes: { i } },
        new Date(),
      );
    const db = t.services.db;
    const rows = await chainRows(owner.accountId);
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const [, second, third, fourth] = rows as [Row, Row, Row, Row, ...Row[]];
    const verify = () => verifyChain(db, owner.accountId);
    const clean = await verify();
    expect(clean).toEqual({ ok: true, events: rows.length });

    await db.updateTable("audit_events").set({ changes: '{"i":99}' }).where("id", "=", third.id).execute();
    expect(await verify()).toMatchObject({
      ok: false,
      account_id: owner.accountId,
      seq: 3,
      event_id: third.id,
      reason: expect.stringMatching(/hash/),
    });
    await db.updateTable("audit_events").set({ changes: third.changes }).where("id", "=", third.id).execute();
    expect(await verify()).toEqual(clean);

    await db
      .updateTable("audit_events")
      .set({ action: "audit.erased" })
      .where("id", "=", fourth.id)
      .execute();
    expect(await verify()).toMatchObject({ ok: false, seq: 4, event_id: fourth.id });
    await db.updateTable("audit_events").set({ action: fourth.action }).where("id", "=", fourth.id).execute();

    const deleted = await db
      .selectFrom("audit_events")
      .selectAll()
      .where("id", "=", second.id)
      .executeTakeFirstOrThrow();
    await db.deleteFrom("audit_events").where("id", "=", second.id).execute();
    expect(await verify()).toMatchObject({
      ok: false,
      seq: 2,
      event_id: third.id,
      reason: expect.stringMatching(/missing/),
    });
    await db.insertInto("audit_events").values(deleted).execute();
    expect(await verify()).toEqual(clean);

    const setHashes = async (a: Row, hashOfA: string, b: Row, hashOfB: string) => {
      await db.updateTable("audit_events").set({ hash: hashOfA }).where("id", "=", a.id).execute();
      await db.updateTable("audit_events").set({ hash: hashOfB }).where("id", "=", b.id).execute();
    };
    await setHashes(second, fourth.hash, fourth, second.hash);
    expect(await verify()).toMatchObject({ ok: false, seq: 2, event_id: second.id });
    await setHashes(second, second.hash, fourth, fourth.hash);
    expect(await verify()).toEqual(clean);

    // Reordering: two events trade places in the chain.
    const park = -1;
    await db.updateTable("audit_events").set({ seq: park }).where("id", "=", third.id).execute();
    await db.updateTable("audit_events").set({ seq: 3 }).where("id", "=", fourth.id).execute();
    await db.updateTable("audit_events").set({ seq: 4 }).where("id", "=", third.id).execute();
    expect(await verify()).toMatchObject({ ok: false, seq: 3, event_id: fourth.id });
    await db.updateTable("audit_events").set({ seq: park }).where("id", "=", fourth.id).execute();
    await db.updateTable("audit_events").set({ seq: 3 }).where("id", "=", third.id).execute();
    await db.updateTable("audit_events").set({ seq: 4 }).where("id", "=", fourth.id).execute();
    expect(await verify()).toEqual(clean);

    const last = rows.at(-1) as Row;
    const lastRow = await db
      .selectFrom("audit_events")
      .selectAll()
      .where("id", "=", last.id)
      .executeTakeFirstOrThrow();
    await db.deleteFrom("audit_events").where("id", "=", last.id).execute();
    expect(await verify()).toMatchObject({ ok: false, seq: last.seq, event_id: null });
    await db.insertInto("audit_events").values(lastRow).execute();
    expect(await verify()).toEqual(clean);
  });

  it("never forks a chain under concurrent writers, and a rolled-back event leaves no gap", async () => {
    const accountId = newId("account");
    const writers = 20;
    await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        t.services.db.transaction().execute(async (trx) => {
          await recordAudit(trx, ACTOR, { accountId, action: "test.concurrent", changes: { i } }, new Date());
          // Also append to the installation chain in the same transactions.
          await recordAudit(
            trx,
            ACTOR,
            { accountId: null, action: "test.concurrent", changes: { i } },
            new Date(),
          );
        }),
      ),
    );
    const rows = await chainRows(accountId);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: writers }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => JSON.parse(r.changes as string).i)).size).toBe(writers);
    expect(await verifyChain(t.services.db, accountId)).toEqual({ ok: true, events: writers });

    await expect(
      t.services.db.transaction().execute(async (trx) => {
        await recordAudit(trx, ACTOR, { accountId, action: "test.rolled_back" }, new Date());
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    await recordAudit(t.services.db, ACTOR, { accountId, action: "test.after" }, new Date());
    const after = await chainRows(accountId);
    expect(after.at(-1)).toMatchObject({ seq: writers + 1, action: "test.after" });
    expect(await verifyChain(t.services.db)).toMatchObject({ ok: true });
  });

  it("CLI: audit verify exits 0 on clean chains and 1 with the break on a tampered one", async () => {
    const owner = await signUpAndLogin(t, { email: "audit-cli@example.com" });
    const clean = capture();
    expect(await runAuditCommand(["verify"], t.services, clean.out)).toBe(0);
    expect(clean.lines.some((l) => l.startsWith("ok") && l.includes(owner.accountId))).toBe(true);
    expect(clean.lines.some((l) => l.includes("installation"))).toBe(true);
    const one = capture();
    expect(await runAuditCommand(["verify", "--account", owner.accountId], t.services, one.out)).toBe(0);
    expect(one.lines).toEqual([expect.stringMatching(new RegExp(`^ok .*${owner.accountId}: \\d+ events$`))]);

    const [first] = await chainRows(owner.accountId);
    await t.services.db
      .updateTable("audit_events")
      .set({ action: "account.deleted" })
      .where("id", "=", first!.id)
      .execute();
    const tampered = capture();
    expect(await runAuditCommand(["verify"], t.services, tampered.out)).toBe(1);
    expect(tampered.lines).toContainEqual(
      expect.stringMatching(new RegExp(`^BROKEN .*${owner.accountId}: seq 1 \\(${first!.id}\\)`)),
    );
    expect(await runAuditCommand(["verify", "--account", owner.accountId], t.services, capture().out)).toBe(
      1,
    );
    await t.services.db
      .updateTable("audit_events")
      .set({ action: first!.action })
      .where("id", "=", first!.id)
      .execute();
    expect(await runAuditCommand(["verify"], t.services, capture().out)).toBe(0);

    const usage = capture();
    expect(await runAuditCommand(["check"], t.services, usage.out)).toBe(2);
    expect(usage.lines[0]).toMatch(/Unknown audit command/);
    expect(await runAuditCommand(["verify", "--acount", "x"], t.services, capture().out)).toBe(2);
  });
});

/** A private, empty database (own SQLite file or PostgreSQL schema), not yet migrated. */
async function openEmptyDatabase(
  dialect: Dialect,
): Promise<{ database: DatabaseHandle; drop(): Promise<void> }> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-audit-"));
    const database = openDatabase(`sqlite:${join(dir, "test.db")}`);
    return {
      database,
      drop: async () => {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = process.env.TEST_DATABASE_URL as string;
  const schema = `t_${randomBytes(6).toString("hex")}`;
  await withSchemaLock(url, (client) => client.query(`create schema ${schema}`));
  const database = openDatabase(url, { schema, poolSize: 2 });
  return {
    database,
    drop: async () => {
      await database.close();
      await withSchemaLock(url, (client) => client.query(`drop schema ${schema} cascade`));
    },
  };
}

describe.each(testDialects())("migration 0003 on an upgraded %s database", (dialect) => {
  it("chains the events recorded before it, oldest first, so verify passes", async () => {
    const { database, drop } = await openEmptyDatabase(dialect);
    try {
      const before = new Migrator({
        db: database.db,
        provider: { getMigrations: async () => ({ "0001-identity": identity, "0002-members": members }) },
        ...(database.schema ? { migrationTableSchema: database.schema } : {}),
      });
      // Migrating lists every schema's tables: take turns with other workers' schema drops.
      const locked = <T>(work: () => Promise<T>) =>
        dialect === "postgres" ? withSchemaLock(process.env.TEST_DATABASE_URL as string, work) : work();
      const { error } = await locked(() => before.migrateToLatest());
      expect(error).toBeUndefined();

      // Inserted out of time order; two share a timestamp (then the id decides).
      const legacy = [
        ["evt_c", "acct_a", "2025-01-03T00:00:00.000Z", "member.invited"],
        ["evt_a", "acct_a", "2025-01-01T00:00:00.000Z", "account.created"],
        ["evt_b2", "acct_a", "2025-01-02T00:00:00.000Z", "user.signed_up"],
        ["evt_b1", "acct_a", "2025-01-02T00:00:00.000Z", "auth.login"],
        ["evt_x", null, "2025-01-01T00:00:00.000Z", "system.started"],
        ["evt_y", "acct_b", "2025-01-05T00:00:00.000Z", "account.created"],
      ] as const;
      for (const [id, accountId, at, action] of legacy) {
        await sql`insert into audit_events (id, account_id, actor_type, action, changes, created_at)
          values (${id}, ${accountId}, ${"user"}, ${action}, ${'{"k":"v"}'}, ${at})`.execute(database.db);
      }

      expect(await locked(() => migrateToLatest(database))).toContain("0003-audit-chain");

      const rows = await database.db
        .selectFrom("audit_events")
        .select(["id", "seq"])
        .where("account_id", "=", "acct_a")
        .orderBy("seq")
        .execute();
      expect(rows.map((r) => [r.id, Number(r.seq)])).toEqual([
        ["evt_a", 1],
        ["evt_b1", 2],
        ["evt_b2", 3],
        ["evt_c", 4],
      ]);
      expect(await verifyChain(database.db)).toEqual({ ok: true, events: legacy.length });

      await recordAudit(database.db, ACTOR, { accountId: "acct_a", action: "after.upgrade" }, new Date());
      await recordAudit(database.db, ACTOR, { accountId: null, action: "after.upgrade" }, new Date());
      expect(await verifyChain(database.db)).toEqual({ ok: true, events: legacy.length + 2 });
      const appended = await database.db
        .selectFrom("audit_events")
        .select("seq")
        .where("action", "=", "after.upgrade")
        .orderBy("seq")
        .execute();
      expect(appended.map((r) => Number(r.seq))).toEqual([2, 5]);
    } finally {
      await drop();
    }
  });
});

describe.runIf(testDialects().includes("postgres"))("audit chain across processes (postgres)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("postgres");
  });
  afterAll(() => t?.close());

  it("writers on separate connection pools never fork one account's chain", async () => {
    const schema = t.services.database.schema as string;
    const other = openDatabase(process.env.TEST_DATABASE_URL as string, { schema, poolSize: 5 });
    try {
      const accountId = newId("account");
      const write = (db: typeof t.services.db, i: number) =>
        db.transaction().execute(async (trx) => {
          await sql`select pg_sleep(0.005)`.execute(trx);
          await recordAudit(trx, ACTOR, { accountId, action: "test.pools", changes: { i } }, new Date());
        });
      await Promise.all(Array.from({ length: 40 }, (_, i) => write(i % 2 ? other.db : t.services.db, i)));
      const seqs = await t.services.db
        .selectFrom("audit_events")
        .select("seq")
        .where("account_id", "=", accountId)
        .orderBy("seq")
        .execute();
      expect(seqs.map((r) => Number(r.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await verifyChain(other.db, accountId)).toEqual({ ok: true, events: 40 });
    } finally {
      await other.close();
    }
  });
});
