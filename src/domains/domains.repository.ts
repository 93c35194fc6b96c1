import type { Selectable } from "kysely";
import type { Executor } from "../db/database.js";
import type { AccountDomainsTable } from "../db/tables.js";

export type DomainStatus = AccountDomainsTable["status"];

/** A custom domain as the rest of the code sees it. */
export type Domain = {
  id: string;
  accountId: string;
  hostname: string;
  /** Published in DNS as `gatehouse-verification=<token>`: proof of control, not a secret. */
  token: string;
  status: DomainStatus;
  verifiedAt: string | null;
  lastCheckedAt: string | null;
  failureReason: string | null;
  createdAt: string;
};

function toDomain(row: Selectable<AccountDomainsTable>): Domain {
  return {
    id: row.id,
    accountId: row.account_id,
    hostname: row.hostname,
    token: row.verification_token,
    status: row.status,
    verifiedAt: row.verified_at,
    lastCheckedAt: row.last_checked_at,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
  };
}

export type CheckResult = {
  status: DomainStatus;
  verifiedAt: string | null;
  failureReason: string | null;
  checkedAt: string;
};

export function createDomainsRepository() {
  return {
    async insert(
      executor: Executor,
      domain: { id: string; accountId: string; hostname: string; token: string },
      now: string,
    ): Promise<void> {
      await executor
        .insertInto("account_domains")
        .values({
          id: domain.id,
          account_id: domain.accountId,
          hostname: domain.hostname,
          verification_token: domain.token,
          status: "pending",
          verified_at: null,
          last_checked_at: null,
          failure_reason: null,
          created_at: now,
        })
        .execute();
    },

    async find(executor: Executor, accountId: string, id: string): Promise<Domain | undefined> {
      const row = await executor
        .selectFrom("account_domains")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toDomain(row);
    },

    /** Oldest first: the first verified one is the account's link base (stable across calls). */
    async listOfAccount(executor: Executor, accountId: string): Promise<Domain[]> {
      const rows = await executor
        .selectFrom("account_domains")
        .selectAll()
        .where("account_id", "=", accountId)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      return rows.map(toDomain);
    },

    async countOfAccount(executor: Executor, accountId: string): Promise<number> {
      const row = await executor
        .selectFrom("account_domains")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("account_id", "=", accountId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async findByHostname(
      executor: Executor,
      accountId: string,
      hostname: string,
    ): Promise<Domain | undefined> {
      const row = await executor
        .selectFrom("account_domains")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("hostname", "=", hostname)
        .executeTakeFirst();
      return row && toDomain(row);
    },

    /** The verified domain of this host name (in whichever account verified it). */
    async findVerified(executor: Executor, hostname: string): Promise<Domain | undefined> {
      const row = await executor
        .selectFrom("account_domains")
        .selectAll()
        .where("hostname", "=", hostname)
        .where("status", "=", "verified")
        .executeTakeFirst();
      return row && toDomain(row);
    },

    /** Every verified domain, oldest first (`/.well-known/webauthn`, the daily re-check). */
    async listVerified(executor: Executor, limit: number): Promise<Domain[]> {
      const rows = await executor
        .selectFrom("account_domains")
        .selectAll()
        .where("status", "=", "verified")
        .orderBy("verified_at")
        .orderBy("id")
        .limit(limit)
        .execute();
      return rows.map(toDomain);
    },

    /** Verified domains not checked since `before`, oldest check first. */
    async listDueForRecheck(executor: Executor, before: string, limit: number): Promise<Domain[]> {
      const rows = await executor
        .selectFrom("account_domains")
        .selectAll()
        .where("status", "=", "verified")
        .where((eb) => eb.or([eb("last_checked_at", "is", null), eb("last_checked_at", "<=", before)]))
        .orderBy("last_checked_at")
        .orderBy("id")
        .limit(limit)
        .execute();
      return rows.map(toDomain);
    },

    async recordCheck(executor: Executor, accountId: string, id: string, result: CheckResult): Promise<void> {
      await executor
        .updateTable("account_domains")
        .set({
          status: result.status,
          verified_at: result.verifiedAt,
          failure_reason: result.failureReason,
          last_checked_at: result.checkedAt,
        })
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },

    async remove(executor: Executor, accountId: string, id: string): Promise<boolean> {
      const result = await executor
        .deleteFrom("account_domains")
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Who hears that a domain broke: active Roots and holders of account:update, with a live login. */
    async admins(
      executor: Executor,
      accountId: string,
    ): Promise<Array<{ email: string; firstName: string }>> {
      const rows = await executor
        .selectFrom("memberships as m")
        .innerJoin("roles as r", (j) =>
          j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
        )
        .innerJoin("users as u", "u.id", "m.user_id")
        .select(["u.email", "u.first_name", "r.key", "r.permissions"])
        .where("m.account_id", "=", accountId)
        .where("m.status", "=", "active")
        .where("u.deactivated_at", "is", null)
        .orderBy("u.email")
        .execute();
      return rows
        .filter((r) => r.key === "root" || (JSON.parse(r.permissions) as string[]).includes("account:update"))
        .map((r) => ({ email: r.email, firstName: r.first_name }));
    },
  };
}

export type DomainsRepository = ReturnType<typeof createDomainsRepository>;
