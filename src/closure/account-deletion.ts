import { sql } from "kysely";
import { type Actor, recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import { chainKeyOf } from "../audit/audit-chain.js";
import type { Invalidator, SessionCache } from "../auth/session-cache.js";
import { tablesWithAccountId } from "../db/account-tables.js";
import { type DatabaseHandle, type Trx, transact } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { AccessCache } from "../roles/access.js";
import type { FileStorage } from "../storage/storage.js";
import type { ClosureRepository } from "./closure.repository.js";

/** How long invoices of a deleted account are kept (without any account reference). */
export const INVOICE_RETENTION_YEARS = 7;

/** Accounts deleted per run of the job; the rest wait for the next run. */
const ACCOUNTS_PER_RUN = 20;

/**
 * Tables whose `account_id` is a pointer from something that outlives the account: the pointer is
 * cleared, the row stays (a person's sessions and log-in challenges survive their account).
 */
const POINTERS = ["sessions", "mfa_challenges"] as const;

/**
 * The end of a closure's grace period (the `account-closures` job): everything of the account goes in
 * one transaction. Invoices are first copied, without the account, to `retained_invoices`; the files
 * the account's rows name are deleted from storage once that has committed (a crash in between leaves
 * only unnamed files). The users stay — those who belonged to no other account keep their login.
 */
export function createAccountDeletion(deps: {
  database: DatabaseHandle;
  clock: Clock;
  repository: ClosureRepository;
  storage: FileStorage;
  access: AccessCache;
  invalidator: Invalidator;
  sessionCache: SessionCache;
  log: { warn(object: unknown, message: string): void };
}) {
  const { database, clock } = deps;
  const db = database.db;

  async function retainInvoices(trx: Trx, accountId: string, now: Date): Promise<number> {
    const invoices = await trx
      .selectFrom("invoices")
      .selectAll()
      .where("account_id", "=", accountId)
      .execute();
    const purgeAfter = new Date(now);
    purgeAfter.setUTCFullYear(purgeAfter.getUTCFullYear() + INVOICE_RETENTION_YEARS);
    for (const invoice of invoices) {
      const lines = await trx
        .selectFrom("invoice_lines")
        .select(["description", "quantity", "unit_amount", "amount", "period_start", "period_end"])
        .where("invoice_id", "=", invoice.id)
        .orderBy("position")
        .execute();
      const billTo = invoice.bill_to
        ? (JSON.parse(invoice.bill_to) as { legal_name?: string; address?: unknown; tax_id?: string | null })
        : {};
      await trx
        .insertInto("retained_invoices")
        .values({
          id: newId("invoice"),
          number: invoice.number,
          status: invoice.status,
          issued_at: invoice.created_at,
          period_start: invoice.period_start,
          period_end: invoice.period_end,
          subtotal: invoice.subtotal,
          total: invoice.total,
          currency: invoice.currency,
          paid_at: invoice.paid_at,
          legal_name: billTo.legal_name ?? "",
          address: billTo.address ? JSON.stringify(billTo.address) : null,
          tax_id: billTo.tax_id ?? null,
          lines: JSON.stringify(lines.map((l) => ({ ...l, quantity: Number(l.quantity) }))),
          retained_at: now.toISOString(),
          purge_after: purgeAfter.toISOString(),
        })
        .execute();
    }
    return invoices.length;
  }

  /** Deletes one account whose closure is due; false when it is not (cancelled meanwhile, or gone). */
  async function deleteAccount(accountId: string, actor: Actor = SYSTEM_ACTOR) {
    const now = clock.now();
    const done = await transact(db, async (trx, effects) => {
      // The row lock orders this after a cancellation that got there first.
      await trx
        .updateTable("accounts")
        .set((eb) => ({ updated_at: eb.ref("updated_at") }))
        .where("id", "=", accountId)
        .execute();
      const closure = await deps.repository.find(trx, accountId);
      if (!closure || closure.deleteAt > now.toISOString()) return undefined;

      const invoices = await retainInvoices(trx, accountId, now);
      const files = await trx
        .selectFrom("stored_files")
        .select("key")
        .where("account_id", "=", accountId)
        .execute();
      const keyIds = (
        await trx.selectFrom("api_keys").select("id").where("account_id", "=", accountId).execute()
      ).map((k) => k.id);
      const members = (
        await trx.selectFrom("memberships").select("user_id").where("account_id", "=", accountId).execute()
      ).map((m) => m.user_id);
      const pointed = (
        await trx
          .selectFrom("sessions")
          .select("user_id")
          .distinct()
          .where("account_id", "=", accountId)
          .execute()
      ).map((s) => s.user_id);

      // Pointers from what outlives the account are cleared; the people keep their sessions.
      for (const table of POINTERS)
        await sql`update ${sql.table(table)} set account_id = null where account_id = ${accountId}`.execute(
          trx,
        );
      await trx
        .updateTable("users")
        .set({ last_account_id: null })
        .where("last_account_id", "=", accountId)
        .execute();
      if (keyIds.length) await trx.deleteFrom("api_rate_windows").where("key_id", "in", keyIds).execute();
      await trx.deleteFrom("audit_chain_heads").where("chain_key", "=", chainKeyOf(accountId)).execute();
      // Children before parents for the tables known here; then every other table with an account_id
      // (read from the schema, so tables added later are covered too), and the account row last.
      const ordered = [
        "account_closure_tokens",
        "webhook_delivery_attempts",
        "webhook_deliveries",
        "webhook_endpoints",
        "api_key_request_logs",
        "api_key_usage_days",
        "api_keys",
        "team_members",
        "resources",
        "teams",
        "invitations",
        "memberships",
        "roles",
      ];
      const discovered = await tablesWithAccountId(trx, database.dialect);
      for (const table of [...ordered, ...discovered.filter((t) => !ordered.includes(t))]) {
        if ((POINTERS as readonly string[]).includes(table)) continue;
        await sql`delete from ${sql.table(table)} where account_id = ${accountId}`.execute(trx);
      }
      await trx.deleteFrom("accounts").where("id", "=", accountId).execute();

      // What every process caches about the account and the sessions that pointed at it.
      await deps.access.publishAccountChange(trx, effects.afterCommit, accountId);
      for (const userId of new Set([...pointed, ...members])) {
        await deps.invalidator.publish(trx, userId);
        effects.afterCommit(() => deps.sessionCache.evictUser(userId));
      }
      for (const keyId of keyIds) await deps.invalidator.publish(trx, `key:${keyId}`);
      // The installation's log keeps that the account was deleted (its id only, no name).
      await recordAudit(
        trx,
        actor,
        {
          accountId: null,
          action: "account.deleted",
          targetType: "account",
          targetId: accountId,
          changes: {
            members: members.length,
            invoices_retained: invoices,
            requested_at: closure.requestedAt,
          },
        },
        now,
      );
      return files.map((f) => f.key);
    });
    if (!done) return false;
    for (const key of done)
      await deps.storage
        .delete(key)
        .catch((error: unknown) => deps.log.warn({ err: error, key }, "could not delete a stored file"));
    return true;
  }

  return {
    deleteAccount,

    /** The job: every account whose grace period is over. */
    async deleteDue(): Promise<{ deleted: number }> {
      let deleted = 0;
      for (const accountId of await deps.repository.due(db, clock.now().toISOString(), ACCOUNTS_PER_RUN))
        if (await deleteAccount(accountId)) deleted++;
      return { deleted };
    },

    /** The job: retained invoices past their retention period. */
    async purgeRetainedInvoices(): Promise<{ purged: number }> {
      const result = await db
        .deleteFrom("retained_invoices")
        .where("purge_after", "<=", clock.now().toISOString())
        .executeTakeFirst();
      return { purged: Number(result.numDeletedRows) };
    },
  };
}

export type AccountDeletion = ReturnType<typeof createAccountDeletion>;
