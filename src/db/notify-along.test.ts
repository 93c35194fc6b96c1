import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../audit/audit.repository.js";
import { createPostgresInvalidator, type Invalidator } from "../auth/session-cache.js";
import { openTestDatabase } from "../testing/harness.js";
import { type DatabaseHandle, transact } from "./database.js";

/**
 * Cache notifications inside transact() on PostgreSQL are held back and sent with the next audit event
 * (or in one statement before the commit): they must still reach every listener exactly when the
 * transaction commits, and never for one that rolls back.
 */
describe.runIf(process.env.TEST_DATABASE_URL)("notifications sent along on postgres", () => {
  let database: DatabaseHandle;
  let drop: () => Promise<void>;
  let invalidator: Invalidator;
  let other: Invalidator;
  const heard: string[] = [];
  const actor = { type: "system" as const, id: null, ip: null, userAgent: null, requestId: null };

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase("postgres"));
    const events = { error: () => {}, restored: () => {} };
    invalidator = await createPostgresInvalidator(database.pgConfig ?? {}, events, database.schema);
    // Another process on the same schema: it hears only what PostgreSQL delivers.
    other = await createPostgresInvalidator(database.pgConfig ?? {}, events, database.schema);
    other.onInvalidate((message) => heard.push(message));
  });
  afterAll(async () => {
    await invalidator?.close();
    await other?.close();
    await drop?.();
  });

  const statementsOf = async (work: () => Promise<unknown>) => {
    const statements = database.statements ?? [];
    const start = statements.length;
    await work();
    return statements.slice(start);
  };

  it("with the audit event: no statement of their own, heard after the commit", async () => {
    const statements = await statementsOf(() =>
      transact(database.db, async (trx) => {
        await invalidator.publish(trx, "usr_along_1");
        await invalidator.publish(trx, "me:usr_along_1");
        await recordAudit(trx, actor, { accountId: null, action: "test.along" }, new Date());
      }),
    );
    expect(statements.filter((s) => s.includes("pg_notify"))).toHaveLength(1);
    expect(statements.find((s) => s.includes("pg_notify"))).toMatch(/insert into "audit_chain_heads"/);
    expect(statements).toHaveLength(4); // begin, head with the notes, event, commit
    await expect.poll(() => heard.includes("me:usr_along_1")).toBe(true);
    expect(heard).toContain("usr_along_1");
  });

  it("without an audit event: in one statement before the commit", async () => {
    const statements = await statementsOf(() =>
      transact(database.db, async (trx) => {
        await invalidator.publish(trx, "usr_along_2");
        await invalidator.publish(trx, "usr_along_3");
      }),
    );
    expect(statements).toHaveLength(3);
    expect(statements[1]).toMatch(/pg_notify.*pg_notify/);
    await expect.poll(() => heard.includes("usr_along_3")).toBe(true);
    expect(heard).toContain("usr_along_2");
  });

  it("never for a transaction that rolls back", async () => {
    await expect(
      transact(database.db, async (trx) => {
        await invalidator.publish(trx, "usr_rolled_back");
        await recordAudit(trx, actor, { accountId: null, action: "test.along" }, new Date());
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    // A later notification from the same connection pool arrives after any earlier one would have.
    await transact(database.db, (trx) => invalidator.publish(trx, "usr_after_rollback"));
    await expect.poll(() => heard.includes("usr_after_rollback")).toBe(true);
    expect(heard).not.toContain("usr_rolled_back");
  });
});
