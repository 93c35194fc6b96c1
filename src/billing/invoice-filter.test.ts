import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccountsRepository } from "../accounts/accounts.repository.js";
import { transact } from "../db/database.js";
import {
  addMember,
  type Client,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { createInvoice, type InvoiceRecord } from "./invoices.repository.js";

const P_START = "2026-01-15T10:00:00.000Z";
const P_END = "2026-02-15T10:00:00.000Z";

describe.each(testDialects())("the invoice list's status filter on %s", (dialect) => {
  let t: TestApp;
  let owner: { client: Client; accountId: string };
  let other: { client: Client; accountId: string };
  let billing: Client;
  let developer: Client;
  const ids: Record<string, string> = {};

  const url = (accountId: string, query = "") =>
    `/api/v1/accounts/${accountId}/invoices${query ? `?${query}` : ""}`;

  async function invoice(accountId: string): Promise<InvoiceRecord> {
    return transact(t.services.db, async (trx) => {
      await createAccountsRepository().lock(trx, accountId);
      return createInvoice(trx, {
        accountId,
        periodStart: P_START,
        periodEnd: P_END,
        now: t.services.clock.now().toISOString(),
        lines: [
          {
            kind: "seats",
            description: "Pro × 2 seats",
            quantity: 2,
            unit_amount: 1900,
            amount: 3800,
            period_start: P_START,
            period_end: P_END,
          },
        ],
      });
    });
  }

  beforeAll(async () => {
    t = await createTestApp(dialect);
    owner = await signUpAndLogin(t, { email: "inv-filter@example.com", account: "Filter Co" });
    other = await signUpAndLogin(t, { email: "inv-filter-other@example.com", account: "Other Co" });
    billing = (await addMember(t, owner, { email: "inv-bill@example.com", roleKey: "billing" })).client;
    developer = (await addMember(t, owner, { email: "inv-dev@example.com", roleKey: "developer" })).client;
    const db = t.services.db;
    for (const name of ["open", "failed", "paid", "void"]) ids[name] = (await invoice(owner.accountId)).id;
    await db
      .updateTable("invoices")
      .set({ last_payment_error: "Your card was declined", payment_attempts: 1 })
      .where("id", "=", ids.failed as string)
      .execute();
    await db
      .updateTable("invoices")
      .set({ status: "paid", paid_at: t.services.clock.now().toISOString() })
      .where("id", "=", ids.paid as string)
      .execute();
    await db
      .updateTable("invoices")
      .set({ status: "void" })
      .where("id", "=", ids.void as string)
      .execute();
    await invoice(other.accountId);
  });
  afterAll(() => t?.close());

  const listed = async (client: Client, accountId: string, query: string) => {
    const response = await client.get(url(accountId, query));
    expect(response.statusCode).toBe(200);
    return (response.body.data as Array<{ id: string }>).map((i) => i.id).sort();
  };

  it("narrows the list to one status; failed is open after a failed payment", async () => {
    expect(await listed(owner.client, owner.accountId, "")).toEqual(Object.values(ids).sort());
    expect(await listed(owner.client, owner.accountId, "status=open")).toEqual([ids.open, ids.failed].sort());
    expect(await listed(owner.client, owner.accountId, "status=failed")).toEqual([ids.failed]);
    expect(await listed(billing, owner.accountId, "status=paid")).toEqual([ids.paid]);
    expect(await listed(owner.client, owner.accountId, "status=void")).toEqual([ids.void]);
    expect(await listed(owner.client, owner.accountId, "status=draft")).toEqual([]);
  });

  it("refuses a status it does not know with 400", async () => {
    for (const bad of ["all", "PAID", "paid,open", ""]) {
      const response = await owner.client.get(url(owner.accountId, `status=${encodeURIComponent(bad)}`));
      expect(response.statusCode, bad).toBe(400);
      expect(response.headers["content-type"]).toContain("application/problem+json");
    }
  });

  it("lets billing readers filter, keeps Developer out and other accounts apart", async () => {
    expect((await developer.get(url(owner.accountId, "status=paid"))).statusCode).toBe(403);
    expect((await other.client.get(url(owner.accountId, "status=paid"))).statusCode).toBe(404);
    const theirs = await listed(other.client, other.accountId, "status=open");
    expect(theirs).toHaveLength(1);
    expect(theirs).not.toContain(ids.open);
  });
});
