import { sql } from "kysely";
import { CHAIN_EVENT_COLUMNS, type StoredChainEvent } from "../audit/audit.repository.js";
import type { PlanId } from "../billing/plans.js";
import type { Executor } from "../db/database.js";
import { escapeLike } from "../lib/sql.js";
import type { Days, LimitState, RetentionSetting } from "./retention-limits.js";

/** What an account chose; null counts are the defaults. `auditLogDays` "plan": the plan's maximum. */
export type RetentionChoices = {
  auditLogDays: Days | "plan";
  exportFilesDays: number | null;
  deletedMemberDays: number | null;
};

export const NO_CHOICES: RetentionChoices = {
  auditLogDays: "plan",
  exportFilesDays: null,
  deletedMemberDays: null,
};

/** Invitation addresses become this once anonymised: unique, and never deliverable (RFC 2606). */
export const ANONYMISED_DOMAIN = "anonymised.invalid";

const PERSONAL_FIELDS = ["email", "first_name", "last_name", "full_name"] as const;

/**
 * Blanks the personal fields of every object in `value` that is about one of `ids` (its `id` or
 * `user_id`); returns whether anything changed. Iterative: payloads may nest deeply.
 */
export function scrubPersonal(value: unknown, ids: ReadonlySet<string>): boolean {
  let changed = false;
  const pending: unknown[] = [value];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (item === null || typeof item !== "object") continue;
    const record = item as Record<string, unknown>;
    const about =
      (typeof record.id === "string" && ids.has(record.id)) ||
      (typeof record.user_id === "string" && ids.has(record.user_id));
    for (const [key, child] of Object.entries(record)) {
      if (about && (PERSONAL_FIELDS as readonly string[]).includes(key) && child !== null) {
        record[key] = null;
        changed = true;
      } else if (child !== null && typeof child === "object") pending.push(child);
    }
  }
  return changed;
}

export function createRetentionRepository() {
  return {
    async planOf(db: Executor, accountId: string): Promise<PlanId> {
      const row = await db
        .selectFrom("subscriptions")
        .select("plan")
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      return (row?.plan ?? "free") as PlanId;
    },

    async accountExists(db: Executor, accountId: string): Promise<boolean> {
      return (
        (await db.selectFrom("accounts").select("id").where("id", "=", accountId).executeTakeFirst()) !==
        undefined
      );
    },

    /** Account ids in order, a page after `after`. */
    async accountIds(db: Executor, after: string, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom("accounts")
        .select("id")
        .where("id", ">", after)
        .orderBy("id")
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },

    async findChoices(db: Executor, accountId: string): Promise<RetentionChoices> {
      const row = await db
        .selectFrom("account_retention")
        .selectAll()
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      if (!row) return NO_CHOICES;
      const auditDays = row.audit_log_days === null ? null : Number(row.audit_log_days);
      return {
        auditLogDays: Number(row.audit_log_forever) === 1 ? null : (auditDays ?? "plan"),
        exportFilesDays: row.export_files_days === null ? null : Number(row.export_files_days),
        deletedMemberDays: row.deleted_member_days === null ? null : Number(row.deleted_member_days),
      };
    },

    async saveChoices(db: Executor, accountId: string, choices: RetentionChoices, now: string) {
      const values = {
        audit_log_days: typeof choices.auditLogDays === "number" ? choices.auditLogDays : null,
        audit_log_forever: choices.auditLogDays === null ? 1 : 0,
        export_files_days: choices.exportFilesDays,
        deleted_member_days: choices.deletedMemberDays,
        updated_at: now,
      };
      await db
        .insertInto("account_retention")
        .values({ account_id: accountId, ...values })
        .onConflict((oc) => oc.column("account_id").doUpdateSet(values))
        .execute();
    },

    async findLimits(
      db: Executor,
      accountId: string,
    ): Promise<Partial<Record<RetentionSetting, LimitState>>> {
      const rows = await db
        .selectFrom("retention_limits")
        .selectAll()
        .where("account_id", "=", accountId)
        .execute();
      return Object.fromEntries(
        rows.map((r) => [
          r.setting,
          {
            days: r.days === null ? null : Number(r.days),
            since: r.since,
            graceUntil: r.grace_until,
            daysBefore: r.days_before === null ? null : Number(r.days_before),
          },
        ]),
      );
    },

    async saveLimit(db: Executor, accountId: string, setting: RetentionSetting, state: LimitState) {
      const values = {
        days: state.days,
        since: state.since,
        grace_until: state.graceUntil,
        days_before: state.daysBefore,
      };
      await db
        .insertInto("retention_limits")
        .values({ account_id: accountId, setting, ...values })
        .onConflict((oc) => oc.columns(["account_id", "setting"]).doUpdateSet(values))
        .execute();
    },

    /** The account's audit events after `afterSeq`, in chain order, with what verifying them needs. */
    async chainEventsAfter(
      db: Executor,
      accountId: string,
      afterSeq: number,
      limit: number,
    ): Promise<StoredChainEvent[]> {
      const rows = await db
        .selectFrom("audit_events")
        .select(CHAIN_EVENT_COLUMNS)
        .where("account_id", "=", accountId)
        .where("seq", ">", afterSeq)
        .orderBy("seq")
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
    },

    async deleteEventsThrough(db: Executor, accountId: string, seq: number): Promise<number> {
      const result = await db
        .deleteFrom("audit_events")
        .where("account_id", "=", accountId)
        .where("seq", "<=", seq)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Someone left the account at `at` (again: the clock restarts). */
    async recordDeparture(db: Executor, accountId: string, userId: string, at: string) {
      await db
        .insertInto("retention_departures")
        .values({ account_id: accountId, user_id: userId, left_at: at, anonymised_at: null })
        .onConflict((oc) =>
          oc.columns(["account_id", "user_id"]).doUpdateSet({ left_at: at, anonymised_at: null }),
        )
        .execute();
    },

    /**
     * People who accepted an invitation to the account and are no longer members, without a departure
     * on record (they left before retention existed): their clock starts now.
     */
    async recordUnnoticedDepartures(db: Executor, accountId: string, now: string): Promise<void> {
      const rows = await db
        .selectFrom("invitations as i")
        .select("i.accepted_user_id")
        .distinct()
        .where("i.account_id", "=", accountId)
        .where("i.status", "=", "accepted")
        .where("i.accepted_user_id", "is not", null)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom("memberships as m")
                .select("m.id")
                .whereRef("m.account_id", "=", "i.account_id")
                .whereRef("m.user_id", "=", "i.accepted_user_id"),
            ),
          ),
        )
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom("retention_departures as d")
                .select("d.user_id")
                .whereRef("d.account_id", "=", "i.account_id")
                .whereRef("d.user_id", "=", "i.accepted_user_id"),
            ),
          ),
        )
        .execute();
      for (const row of rows) {
        if (!row.accepted_user_id) continue;
        await db
          .insertInto("retention_departures")
          .values({ account_id: accountId, user_id: row.accepted_user_id, left_at: now, anonymised_at: null })
          .onConflict((oc) => oc.columns(["account_id", "user_id"]).doNothing())
          .execute();
      }
    },

    /** Departures of people who are members again: nothing of theirs is to be anonymised. */
    async forgetReturned(db: Executor, accountId: string): Promise<void> {
      await db
        .deleteFrom("retention_departures")
        .where("account_id", "=", accountId)
        .where("user_id", "in", (eb) =>
          eb.selectFrom("memberships").select("user_id").where("account_id", "=", accountId),
        )
        .execute();
    },

    /** People who left before `cutoff` and are not anonymised yet. */
    async departuresBefore(db: Executor, accountId: string, cutoff: string): Promise<string[]> {
      const rows = await db
        .selectFrom("retention_departures")
        .select("user_id")
        .where("account_id", "=", accountId)
        .where("left_at", "<", cutoff)
        .where("anonymised_at", "is", null)
        .execute();
      return rows.map((r) => r.user_id);
    },

    async markAnonymised(db: Executor, accountId: string, userIds: string[], now: string) {
      if (userIds.length === 0) return;
      await db
        .updateTable("retention_departures")
        .set({ anonymised_at: now })
        .where("account_id", "=", accountId)
        .where("user_id", "in", userIds)
        .execute();
    },

    /**
     * Invitations that name someone who is not (or no longer) a member, ended before `cutoff`: revoked,
     * expired, or accepted by someone whose departure is among `departedIds`.
     */
    async endedInvitations(
      db: Executor,
      accountId: string,
      cutoff: string,
      departedIds: string[],
    ): Promise<string[]> {
      const rows = await db
        .selectFrom("invitations")
        .select("id")
        .where("account_id", "=", accountId)
        .where("email_normalized", "not like", `%@${ANONYMISED_DOMAIN}`)
        .where((eb) =>
          eb.or([
            eb.and([eb("status", "in", ["revoked", "expired"]), eb("updated_at", "<", cutoff)]),
            eb.and([eb("status", "=", "pending"), eb("expires_at", "<", cutoff)]),
            ...(departedIds.length
              ? [eb.and([eb("status", "=", "accepted"), eb("accepted_user_id", "in", departedIds)])]
              : []),
          ]),
        )
        .execute();
      return rows.map((r) => r.id);
    },

    /** Replaces the address and names of these invitations; a pending (expired) one becomes expired. */
    async anonymiseInvitations(db: Executor, accountId: string, ids: string[], now: string) {
      for (const id of ids) {
        const address = `${id}@${ANONYMISED_DOMAIN}`;
        await db
          .updateTable("invitations")
          .set({
            email: address,
            email_normalized: address,
            first_name: "",
            last_name: "",
            status: sql<string>`case when status = 'pending' then 'expired' else status end`,
            updated_at: now,
          })
          .where("account_id", "=", accountId)
          .where("id", "=", id)
          .execute();
      }
    },

    /**
     * Blanks what the account's event stream and its webhook deliveries' stored copies say about these
     * people and invitations (emails, names); the ids stay.
     */
    async scrubEventCopies(db: Executor, accountId: string, ids: string[]): Promise<number> {
      if (ids.length === 0) return 0;
      const wanted = new Set(ids);
      let scrubbed = 0;
      for (let i = 0; i < ids.length; i += 50) {
        const slice = ids.slice(i, i + 50);
        const mentions = (column: string) =>
          sql<boolean>`(${sql.join(
            slice.map((id) => sql`${sql.ref(column)} like ${`%${escapeLike(id)}%`} escape '\\'`),
            sql` or `,
          )})`;
        const events = await db
          .selectFrom("events")
          .select(["id", "data"])
          .where("account_id", "=", accountId)
          .where(mentions("data"))
          .execute();
        for (const row of events) {
          const data: unknown = JSON.parse(row.data);
          if (!scrubPersonal(data, wanted)) continue;
          await db
            .updateTable("events")
            .set({ data: JSON.stringify(data) })
            .where("id", "=", row.id)
            .execute();
          scrubbed += 1;
        }
        const deliveries = await db
          .selectFrom("webhook_deliveries")
          .select(["id", "payload"])
          .where("account_id", "=", accountId)
          .where(mentions("payload"))
          .execute();
        for (const row of deliveries) {
          const payload: unknown = JSON.parse(row.payload);
          if (!scrubPersonal(payload, wanted)) continue;
          await db
            .updateTable("webhook_deliveries")
            .set({ payload: JSON.stringify(payload) })
            .where("id", "=", row.id)
            .execute();
          scrubbed += 1;
        }
      }
      return scrubbed;
    },

    /** Erases the personal part (outside the hash) of the account's audit events about these targets. */
    async erasePersonal(db: Executor, accountId: string, targetIds: string[]): Promise<number> {
      let erased = 0;
      for (let i = 0; i < targetIds.length; i += 500) {
        const result = await db
          .updateTable("audit_events")
          .set({ personal: null })
          .where("account_id", "=", accountId)
          .where("target_id", "in", targetIds.slice(i, i + 500))
          .where("personal", "is not", null)
          .executeTakeFirst();
        erased += Number(result.numUpdatedRows);
      }
      return erased;
    },
  };
}

export type RetentionRepository = ReturnType<typeof createRetentionRepository>;
