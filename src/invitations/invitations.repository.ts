import { type Selectable, sql } from "kysely";
import type { Executor } from "../db/database.js";
import type { InvitationsTable } from "../db/tables.js";
import { escapeLike } from "../lib/sql.js";

export type InvitationStatus = "pending" | "accepted" | "revoked" | "expired";

export type InvitationRecord = {
  id: string;
  accountId: string;
  email: string;
  emailNormalized: string;
  firstName: string;
  lastName: string;
  role: { id: string; key: string; name: string };
  teamIds: string[];
  status: InvitationStatus;
  expiresAt: string;
  invitedBy: { userId: string | null; name: string };
  sendCount: number;
  lastSentAt: string;
  createdAt: string;
};

type Row = Selectable<InvitationsTable> & {
  role_key: string;
  role_name: string;
  inviter_first: string | null;
  inviter_last: string | null;
};

function toInvitation(r: Row, now: string): InvitationRecord {
  const status = r.status === "pending" && r.expires_at <= now ? "expired" : (r.status as InvitationStatus);
  return {
    id: r.id,
    accountId: r.account_id,
    email: r.email,
    emailNormalized: r.email_normalized,
    firstName: r.first_name,
    lastName: r.last_name,
    role: { id: r.role_id, key: r.role_key, name: r.role_name },
    teamIds: JSON.parse(r.team_ids) as string[],
    status,
    expiresAt: r.expires_at,
    invitedBy: { userId: r.invited_by, name: [r.inviter_first, r.inviter_last].filter(Boolean).join(" ") },
    sendCount: r.send_count,
    lastSentAt: r.last_sent_at,
    createdAt: r.created_at,
  };
}

export function createInvitationsRepository() {
  const base = (db: Executor, accountId: string) =>
    db
      .selectFrom("invitations as i")
      .innerJoin("roles as r", (j) =>
        j.onRef("r.id", "=", "i.role_id").onRef("r.account_id", "=", "i.account_id"),
      )
      .leftJoin("users as u", "u.id", "i.invited_by")
      .selectAll("i")
      .select([
        "r.key as role_key",
        "r.name as role_name",
        "u.first_name as inviter_first",
        "u.last_name as inviter_last",
      ])
      .where("i.account_id", "=", accountId);

  return {
    async insert(
      db: Executor,
      inv: {
        id: string;
        accountId: string;
        email: string;
        firstName: string;
        lastName: string;
        roleId: string;
        teamIds: string[];
        tokenHash: string;
        expiresAt: string;
        invitedBy: string;
        now: string;
      },
    ) {
      await db
        .insertInto("invitations")
        .values({
          id: inv.id,
          account_id: inv.accountId,
          email: inv.email,
          email_normalized: inv.email.toLowerCase(),
          first_name: inv.firstName,
          last_name: inv.lastName,
          role_id: inv.roleId,
          team_ids: JSON.stringify(inv.teamIds),
          status: "pending",
          token_hash: inv.tokenHash,
          expires_at: inv.expiresAt,
          invited_by: inv.invitedBy,
          accepted_user_id: null,
          send_count: 1,
          last_sent_at: inv.now,
          created_at: inv.now,
          updated_at: inv.now,
        })
        .execute();
    },

    /** An expired invitation stops blocking a new one for the same address. */
    async expireStale(db: Executor, accountId: string, emails: string[], now: string) {
      if (emails.length === 0) return;
      await db
        .updateTable("invitations")
        .set({ status: "expired", updated_at: now })
        .where("account_id", "=", accountId)
        .where("status", "=", "pending")
        .where("expires_at", "<=", now)
        .where("email_normalized", "in", emails)
        .execute();
    },

    async pendingEmails(
      db: Executor,
      accountId: string,
      emails: string[],
      now: string,
    ): Promise<Set<string>> {
      if (emails.length === 0) return new Set();
      const rows = await db
        .selectFrom("invitations")
        .select("email_normalized")
        .where("account_id", "=", accountId)
        .where("status", "=", "pending")
        .where("expires_at", ">", now)
        .where("email_normalized", "in", emails)
        .execute();
      return new Set(rows.map((r) => r.email_normalized));
    },

    async memberEmails(db: Executor, accountId: string, emails: string[]): Promise<Set<string>> {
      if (emails.length === 0) return new Set();
      const rows = await db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select("u.email_normalized")
        .where("m.account_id", "=", accountId)
        .where("u.email_normalized", "in", emails)
        .execute();
      return new Set(rows.map((r) => r.email_normalized));
    },

    async find(
      db: Executor,
      accountId: string,
      id: string,
      now: string,
    ): Promise<InvitationRecord | undefined> {
      const row = await base(db, accountId).where("i.id", "=", id).executeTakeFirst();
      return row && toInvitation(row as Row, now);
    },

    async findByTokenHash(
      db: Executor,
      tokenHash: string,
      now: string,
    ): Promise<InvitationRecord | undefined> {
      const found = await db
        .selectFrom("invitations")
        .select("account_id")
        .where("token_hash", "=", tokenHash)
        .executeTakeFirst();
      if (!found) return undefined;
      const row = await base(db, found.account_id).where("i.token_hash", "=", tokenHash).executeTakeFirst();
      return row && toInvitation(row as Row, now);
    },

    async list(
      db: Executor,
      accountId: string,
      opts: {
        status?: InvitationStatus;
        limit: number;
        after?: { createdAt: string; id: string };
        now: string;
      },
    ) {
      let query = base(db, accountId);
      if (opts.status === "pending")
        query = query.where("i.status", "=", "pending").where("i.expires_at", ">", opts.now);
      else if (opts.status === "expired")
        query = query.where((eb) =>
          eb.or([
            eb("i.status", "=", "expired"),
            eb.and([eb("i.status", "=", "pending"), eb("i.expires_at", "<=", opts.now)]),
          ]),
        );
      else if (opts.status) query = query.where("i.status", "=", opts.status);
      if (opts.after) {
        const { createdAt, id } = opts.after;
        query = query.where((eb) =>
          eb.or([
            eb("i.created_at", "<", createdAt),
            eb.and([eb("i.created_at", "=", createdAt), eb("i.id", "<", id)]),
          ]),
        );
      }
      const rows = await query
        .orderBy("i.created_at", "desc")
        .orderBy("i.id", "desc")
        .limit(opts.limit)
        .execute();
      return rows.map((r) => toInvitation(r as Row, opts.now));
    },

    /** Open invitations as "Invitation pending" rows of the member list, by email. */
    async listPending(
      db: Executor,
      accountId: string,
      opts: {
        limit: number;
        roleId?: string;
        q?: string;
        afterEmail?: string;
        afterId?: string;
        now: string;
      },
    ): Promise<InvitationRecord[]> {
      let query = base(db, accountId).where("i.status", "=", "pending").where("i.expires_at", ">", opts.now);
      if (opts.roleId) query = query.where("i.role_id", "=", opts.roleId);
      if (opts.q) {
        const pattern = `%${escapeLike(opts.q.toLowerCase())}%`;
        query = query.where((eb) =>
          eb.or([
            eb(sql`i.email_normalized`, "like", sql`${pattern} escape '\\'`),
            eb(sql`lower(i.first_name || ' ' || i.last_name)`, "like", sql`${pattern} escape '\\'`),
          ]),
        );
      }
      if (opts.afterEmail !== undefined && opts.afterId !== undefined) {
        const { afterEmail, afterId } = opts;
        query = query.where((eb) =>
          eb.or([
            eb("i.email_normalized", ">", afterEmail),
            eb.and([eb("i.email_normalized", "=", afterEmail), eb("i.id", ">", afterId)]),
          ]),
        );
      }
      const rows = await query.orderBy("i.email_normalized").orderBy("i.id").limit(opts.limit).execute();
      return rows.map((r) => toInvitation(r as Row, opts.now));
    },

    async setStatus(db: Executor, accountId: string, id: string, status: "revoked", now: string) {
      await db
        .updateTable("invitations")
        .set({ status, updated_at: now })
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },

    /** Claims a pending, unexpired invitation; only one of two concurrent acceptances gets it. */
    async claim(
      db: Executor,
      tokenHash: string,
      userId: string,
      now: string,
    ): Promise<{ id: string; accountId: string } | undefined> {
      const row = await db
        .updateTable("invitations")
        .set({ status: "accepted", accepted_user_id: userId, updated_at: now })
        .where("token_hash", "=", tokenHash)
        .where("status", "=", "pending")
        .where("expires_at", ">", now)
        .returning(["id", "account_id"])
        .executeTakeFirst();
      return row && { id: row.id, accountId: row.account_id };
    },

    async renew(
      db: Executor,
      accountId: string,
      id: string,
      tokenHash: string,
      expiresAt: string,
      now: string,
    ) {
      await db
        .updateTable("invitations")
        .set((eb) => ({
          token_hash: tokenHash,
          expires_at: expiresAt,
          send_count: eb("send_count", "+", 1),
          last_sent_at: now,
          updated_at: now,
        }))
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },

    async sendsSince(
      db: Executor,
      accountId: string,
      id: string,
    ): Promise<{ sendCount: number; lastSentAt: string; createdAt: string } | undefined> {
      const row = await db
        .selectFrom("invitations")
        .select(["send_count", "last_sent_at", "created_at"])
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && { sendCount: row.send_count, lastSentAt: row.last_sent_at, createdAt: row.created_at };
    },
  };
}

export type InvitationsRepository = ReturnType<typeof createInvitationsRepository>;
