import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, testDialects } from "../testing/harness.js";
import type { DatabaseHandle } from "./database.js";
import { prepared } from "./prepared.js";

describe.each(testDialects())("prepared queries on %s", (dialect) => {
  let database: DatabaseHandle;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase(dialect));
    await database.db.schema.dropTable("prepared_probe").ifExists().execute();
    await database.db.schema
      .createTable("prepared_probe")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("name", "text")
      .addColumn("kind", "text")
      .execute();
    await database.db
      .insertInto("prepared_probe" as never)
      .values([
        { id: 1, name: "a", kind: "x" },
        { id: 2, name: "b", kind: "x" },
        { id: 3, name: "c", kind: "y" },
      ] as never)
      .execute();
  });
  afterAll(() => drop?.());

  // A constant parameter ("x") between the two arguments: each call swaps in only the arguments.
  const probe = prepared(2, (db, minId: number, name: string) =>
    db
      .selectFrom("prepared_probe" as never)
      .select(["id" as never])
      .where("id" as never, ">=", minId as never)
      .where("kind" as never, "=", "x" as never)
      .where("name" as never, "!=", name as never),
  );

  it("answers like the query built each time, with each call's arguments", async () => {
    expect(await probe.all(database.db, 1, "a")).toEqual([{ id: 2 }]);
    expect(await probe.all(database.db, 0, "z")).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await probe.first(database.db, 3, "a")).toBeUndefined();
    await database.db.transaction().execute(async (trx) => {
      expect(await probe.first(trx, 2, "a")).toEqual({ id: 2 });
    });
  });

  it("compiles once per dialect: the same SQL string object every call, in the dialect's syntax", async () => {
    const first = probe.compiled(database.db);
    await probe.all(database.db, 1, "b");
    expect(probe.compiled(database.db).sql).toBe(first.sql);
    expect(Object.is(probe.compiled(database.db), first)).toBe(true);
    expect(first.sql).toContain(dialect === "postgres" ? "$3" : "?");
    const statements = database.statements ?? [];
    const before = statements.length;
    await probe.all(database.db, 1, "b");
    expect(statements.slice(before)).toEqual([first.sql]);
  });

  it("refuses a query that does not use an argument as a parameter", () => {
    const broken = prepared(1, (db, _unused: string) => db.selectFrom("prepared_probe" as never).selectAll());
    expect(() => broken.compiled(database.db)).toThrow(/argument 0/);
  });
});
