import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { ApiKeysService } from "../api-keys/api-keys.service.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { Invalidator } from "../auth/session-cache.js";
import type { SessionsService } from "../auth/sessions.service.js";
import { type Db, type Effects, type Trx, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, notFound } from "../http/errors.js";
import type { InvitationRecord, InvitationsRepository } from "../invitations/invitations.repository.js";
import { createAccountCache } from "../lib/account-cache.js";
import type { Clock } from "../lib/clock.js";
import {
  type Access,
  type AccessCache,
  assertCanAssign,
  heldGrant,
  loadAccess,
  requirePermission,
} from "../roles/access.js";
import type { RolesRepository } from "../roles/roles.repository.js";
import type {
  MemberQuery,
  MemberRecord,
  MemberSort,
  MemberStatus,
  MembersRepository,
} from "./members.repository.js";
import { memberView } from "./members.views.js";

export type MemberListInput = {
  status?: MemberStatus | "pending";
  roleId?: string;
  teamId?: string;
  q?: string;
  inactiveDays?: number;
  mfa?: "enabled" | "disabled";
  sort?: MemberSort;
  order?: "asc" | "desc";
  limit: number;
  cursor?: string;
};

export type MemberRow = ({ kind: "member" } & MemberRecord) | ({ kind: "invitation" } & InvitationRecord);

type Cursor = { phase: "m" | "i"; key: string; id: string };

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");
function decodeCursor(value: string | undefined): Cursor | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Cursor;
    if (
      (parsed.phase === "m" || parsed.phase === "i") &&
      typeof parsed.key === "string" &&
      typeof parsed.id === "string"
    )
      return parsed;
  } catch {}
  throw new AppError("validation_failed", "Invalid cursor", {
    errors: [{ path: "cursor", code: "invalid", message: "Invalid cursor" }],
  });
}

export function createMembersService(deps: {
  db: Db;
  clock: Clock;
  members: MembersRepository;
  roles: RolesRepository;
  accounts: AccountsRepository;
  invitations: InvitationsRepository;
  access: AccessCache;
  sessions: SessionsService;
  invalidator: Invalidator;
  apiKeys: Pick<ApiKeysService, "deleteForMember">;
  events: Pick<EventLog, "record">;
}) {
  const { db, clock, members, access, sessions, events } = deps;
  const counts = createAccountCache<Awaited<ReturnType<AccountsRepository["seatCounts"]>>>(deps.invalidator);

  /**
   * Opens the transaction every member change runs in: locks the account (so "last Root" checks see
   * each other), re-reads the caller's access and the target inside it, and applies the shared rules.
   */
  async function change<T>(
    actor: Actor & { id: string },
    accountId: string,
    userId: string,
    permission: string,
    work: (ctx: { trx: Trx; effects: Effects; caller: Access; target: MemberRecord }) => Promise<T>,
  ): Promise<T> {
    requirePermission(await access.get(db, accountId, actor.id), permission);
    return transact(db, async (trx, effects) => {
      await deps.accounts.lock(trx, accountId);
      return changeIn(trx, effects, actor, accountId, userId, permission, work);
    });
  }

  async function changeIn<T>(
    trx: Trx,
    effects: Effects,
    actor: Actor & { id: string },
    accountId: string,
    userId: string,
    permission: string,
    work: (ctx: { trx: Trx; effects: Effects; caller: Access; target: MemberRecord }) => Promise<T>,
  ): Promise<T> {
    const caller = requirePermission(await loadAccess(trx, accountId, actor.id), permission);
    const target = await members.find(trx, accountId, userId);
    const held = await loadAccess(trx, accountId, userId);
    if (!target || !held) throw notFound("Member");
    if (target.userId === caller.userId)
      throw new AppError("self_change", "You cannot change your own membership here");
    // Acting on a member takes away what they hold (a role, their sessions, their factors): only
    // someone who could give them all of it may (so Root members, by role or team, only by Root).
    assertCanAssign(caller, [heldGrant(held)]);
    const result = await work({ trx, effects, caller, target });
    await access.publishAccountChange(trx, effects.afterCommit, accountId);
    return result;
  }

  async function assertNotLastRoot(trx: Trx, accountId: string, target: MemberRecord) {
    if (target.role.key !== "root" || target.status !== "active") return;
    if ((await members.activeRootCount(trx, accountId)) <= 1) {
      throw new AppError("last_root", "This is the account's only active Root: make someone else Root first");
    }
  }

  const audit = (
    trx: Trx,
    actor: Actor,
    accountId: string,
    action: string,
    userId: string,
    changes?: Record<string, unknown>,
  ) =>
    recordAudit(
      trx,
      actor,
      { accountId, action, targetType: "user", targetId: userId, ...(changes ? { changes } : {}) },
      clock.now(),
    );

  /** Records `type` with the member as the API shows them now (inside the change's transaction). */
  async function announce(
    trx: Trx,
    effects: Effects,
    actor: Actor,
    accountId: string,
    type: "member.role_changed" | "member.suspended" | "member.reactivated",
    userId: string,
    extra: Record<string, unknown> = {},
  ) {
    const member = (await members.find(trx, accountId, userId)) as MemberRecord;
    await events.record(trx, effects, actor, { accountId, type, data: { ...memberView(member), ...extra } });
  }

  const removal =
    (actor: Actor, accountId: string, userId: string) =>
    async ({ trx, effects, target }: { trx: Trx; effects: Effects; target: MemberRecord }) => {
      await assertNotLastRoot(trx, accountId, target);
      await sessions.revokeInAccount(trx, effects, userId, accountId);
      // Keys act for their creator: they leave with them.
      const apiKeys = await deps.apiKeys.deleteForMember(trx, effects, actor, accountId, userId);
      await members.remove(trx, accountId, userId);
      // What the person had tied to this account goes with the membership: their notifications about
      // it, and their pointer to it as the account to land in at the next log-in.
      await trx
        .deleteFrom("notifications")
        .where("user_id", "=", userId)
        .where("account_id", "=", accountId)
        .execute();
      await trx
        .updateTable("users")
        .set({ last_account_id: null })
        .where("id", "=", userId)
        .where("last_account_id", "=", accountId)
        .execute();
      if ((await members.membershipCount(trx, userId)) === 0) {
        // No account left: their personal settings and every session go too.
        await sessions.revokeAll(trx, effects, userId);
        await trx
          .updateTable("users")
          .set({ preferences: null, last_account_id: null })
          .where("id", "=", userId)
          .execute();
      }
      await audit(trx, actor, accountId, "member.removed", userId, {
        email: target.email,
        role: target.role.key,
        ...(apiKeys.length ? { api_keys_deleted: apiKeys } : {}),
      });
      // As they were when they left: their status, role and teams just before.
      await events.record(trx, effects, actor, {
        accountId,
        type: "member.removed",
        data: memberView(target),
      });
    };

  const roleChange =
    (actor: Actor, accountId: string, roleId: string) =>
    async ({
      trx,
      effects,
      caller,
      target,
    }: {
      trx: Trx;
      effects: Effects;
      caller: Access;
      target: MemberRecord;
    }) => {
      const role = await deps.roles.find(trx, accountId, roleId);
      if (!role) {
        throw new AppError("validation_failed", "Unknown role", {
          errors: [{ path: "role_id", code: "not_found", message: "No such role in this account" }],
        });
      }
      if (role.id === target.role.id) return false;
      assertCanAssign(caller, [role]);
      if (role.key !== "root") await assertNotLastRoot(trx, accountId, target);
      await members.setRole(trx, accountId, target.userId, role.id, clock.now().toISOString());
      await audit(trx, actor, accountId, "member.role_changed", target.userId, {
        from: target.role.key,
        to: role.key,
      });
      await announce(trx, effects, actor, accountId, "member.role_changed", target.userId, {
        previous_role: target.role,
      });
      return true;
    };

  return {
    async list(userId: string, accountId: string, input: MemberListInput) {
      requirePermission(await access.get(db, accountId, userId), "members:read");
      const cursor = decodeCursor(input.cursor);
      const rows: MemberRow[] = [];
      let next: Cursor | undefined;
      const wantMembers = input.status !== "pending" && cursor?.phase !== "i";
      if (wantMembers) {
        const query: MemberQuery = {
          sort: input.sort ?? "name",
          order: input.order ?? "asc",
          limit: input.limit + 1,
          ...(input.status && input.status !== "pending" ? { status: input.status } : {}),
          ...(input.roleId ? { roleId: input.roleId } : {}),
          ...(input.teamId ? { teamId: input.teamId } : {}),
          ...(input.q ? { q: input.q } : {}),
          ...(input.mfa ? { mfa: input.mfa } : {}),
          ...(input.inactiveDays !== undefined
            ? {
                inactiveSince: new Date(
                  clock.now().getTime() - input.inactiveDays * 86_400_000,
                ).toISOString(),
              }
            : {}),
          ...(cursor?.phase === "m" ? { after: { key: cursor.key, id: cursor.id } } : {}),
        };
        const found = await members.list(db, accountId, query);
        const page = found.slice(0, input.limit);
        rows.push(...page.map((m) => ({ kind: "member" as const, ...m })));
        const last = page.at(-1);
        if (found.length > input.limit && last) next = { phase: "m", key: last.sortKey, id: last.userId };
      }
      // Open invitations are listed after the members (they have no name, login or team to sort by),
      // and only when no filter asks about what they lack (a team, a log-in, a second factor).
      const wantInvitations =
        (!input.status || input.status === "pending") &&
        !input.teamId &&
        input.inactiveDays === undefined &&
        !input.mfa;
      if (!next && wantInvitations && rows.length < input.limit) {
        const room = input.limit - rows.length;
        const found = await deps.invitations.listPending(db, accountId, {
          limit: room + 1,
          ...(input.roleId ? { roleId: input.roleId } : {}),
          ...(input.q ? { q: input.q } : {}),
          ...(cursor?.phase === "i" ? { afterEmail: cursor.key, afterId: cursor.id } : {}),
          now: clock.now().toISOString(),
        });
        const page = found.slice(0, room);
        rows.push(...page.map((i) => ({ kind: "invitation" as const, ...i })));
        const last = page.at(-1);
        if (found.length > room && last) next = { phase: "i", key: last.emailNormalized, id: last.id };
      } else if (!next && wantInvitations && rows.length === input.limit && wantMembers) {
        next = { phase: "i", key: "", id: "" };
      }
      // The same numbers as the seat count: expired invitations no longer count as pending.
      const totals = await counts.get(accountId, () =>
        deps.accounts.seatCounts(db, accountId, clock.now().toISOString()),
      );
      return { rows, nextCursor: next ? encodeCursor(next) : null, counts: totals };
    },

    /**
     * Runs an action on a member under the shared rules (the permission, never yourself, only on members
     * whose whole access the caller could assign) in one transaction that holds the account lock.
     */
    act: change,

    async get(userId: string, accountId: string, memberId: string) {
      requirePermission(await access.get(db, accountId, userId), "members:read");
      const member = await members.find(db, accountId, memberId);
      if (!member) throw notFound("Member");
      return member;
    },

    async changeRole(actor: Actor & { id: string }, accountId: string, userId: string, roleId: string) {
      await change(actor, accountId, userId, "members:update_role", roleChange(actor, accountId, roleId));
      return (await members.find(db, accountId, userId)) as MemberRecord;
    },

    /**
     * The same change inside a transaction the caller opened and holds the account lock in (bulk role
     * change): same rules, audit event and `member.role_changed`. True when the role changed.
     */
    async changeRoleIn(
      trx: Trx,
      effects: Effects,
      actor: Actor & { id: string },
      accountId: string,
      userId: string,
      roleId: string,
    ): Promise<boolean> {
      return changeIn(
        trx,
        effects,
        actor,
        accountId,
        userId,
        "members:update_role",
        roleChange(actor, accountId, roleId),
      );
    },

    async suspend(actor: Actor & { id: string }, accountId: string, userId: string) {
      await change(actor, accountId, userId, "members:suspend", async ({ trx, effects, target }) => {
        if (target.status === "suspended") return;
        await assertNotLastRoot(trx, accountId, target);
        await members.setStatus(trx, accountId, userId, "suspended", clock.now().toISOString());
        await sessions.revokeInAccount(trx, effects, userId, accountId);
        await audit(trx, actor, accountId, "member.suspended", userId);
        await announce(trx, effects, actor, accountId, "member.suspended", userId);
      });
      return (await members.find(db, accountId, userId)) as MemberRecord;
    },

    async reactivate(actor: Actor & { id: string }, accountId: string, userId: string) {
      await change(actor, accountId, userId, "members:suspend", async ({ trx, effects, target }) => {
        if (target.status === "deactivated") {
          throw new AppError(
            "conflict",
            "They turned their own login off: only they can turn it back on (by logging in and confirming by email)",
          );
        }
        if (target.status === "active") return;
        await members.setStatus(trx, accountId, userId, "active", clock.now().toISOString());
        await audit(trx, actor, accountId, "member.reactivated", userId);
        await announce(trx, effects, actor, accountId, "member.reactivated", userId);
      });
      return (await members.find(db, accountId, userId)) as MemberRecord;
    },

    async logout(actor: Actor & { id: string }, accountId: string, userId: string): Promise<number> {
      return change(actor, accountId, userId, "members:suspend", async ({ trx, effects }) => {
        const count = await sessions.revokeAll(trx, effects, userId);
        await audit(trx, actor, accountId, "member.logged_out", userId, { sessions: count });
        return count;
      });
    },

    async forcePasswordReset(actor: Actor & { id: string }, accountId: string, userId: string) {
      await change(actor, accountId, userId, "members:suspend", async ({ trx, effects }) => {
        await trx
          .updateTable("users")
          .set({ must_change_password: 1, updated_at: clock.now().toISOString() })
          .where("id", "=", userId)
          .execute();
        await sessions.revokeAll(trx, effects, userId);
        await audit(trx, actor, accountId, "member.password_reset_forced", userId);
      });
    },

    async remove(actor: Actor & { id: string }, accountId: string, userId: string) {
      await change(actor, accountId, userId, "members:delete", removal(actor, accountId, userId));
    },

    /** All or nothing: when any member cannot be removed, nobody is, and each refusal is reported. */
    async bulkRemove(actor: Actor & { id: string }, accountId: string, userIds: string[]): Promise<string[]> {
      requirePermission(await access.get(db, accountId, actor.id), "members:delete");
      const unique = [...new Set(userIds)];
      await transact(db, async (trx, effects) => {
        await deps.accounts.lock(trx, accountId);
        const errors: Array<{ path: string; code: string; message: string }> = [];
        for (const [index, userId] of unique.entries()) {
          try {
            await changeIn(
              trx,
              effects,
              actor,
              accountId,
              userId,
              "members:delete",
              removal(actor, accountId, userId),
            );
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            errors.push({
              path: `user_ids.${index}`,
              code: error.code,
              message: `${userId}: ${error.message}`,
            });
          }
        }
        if (errors.length) {
          throw new AppError(
            "conflict",
            `${errors.length} of ${unique.length} members cannot be removed; nobody was removed`,
            { errors },
          );
        }
      });
      return unique;
    },
  };
}

export type MembersService = ReturnType<typeof createMembersService>;
