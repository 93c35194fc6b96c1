import { sql } from "kysely";
import { openDatabase } from "../src/db/database.js";

const url = process.argv[2] as string;
const d = openDatabase(url);
const acct = (
  await d.db
    .selectFrom("memberships")
    .select("account_id")
    .groupBy("account_id")
    .orderBy(sql`count(*)`, "desc")
    .executeTakeFirstOrThrow()
).account_id;
async function time(label: string, q: () => Promise<unknown>) {
  await q();
  const t = performance.now();
  for (let i = 0; i < 5; i++) await q();
  console.log(label, ((performance.now() - t) / 5).toFixed(1), "ms");
}
const { createMembersRepository } = await import("../src/members/members.repository.js");
const repo = createMembersRepository();
await time("list by name", () => repo.list(d.db, acct, { sort: "name", order: "asc", limit: 51 }));
await time("counts", () => repo.counts(d.db, acct));
await time("list last login desc", () =>
  repo.list(d.db, acct, { sort: "last_login_at", order: "desc", limit: 51 }),
);
await d.close();
