import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { AccountsService } from "../accounts/accounts.service.js";
import { clientIp, type IpAllowlistGuard, IpNotAllowedError } from "../accounts/ip-allowlist.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { checkPassword, type PasswordPolicy, strictestPolicy } from "../auth/password-policy.js";
import type { PasswordHasher } from "../auth/passwords.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import type { BillingService } from "../billing/billing.service.js";
import type { Plan } from "../billing/plans.js";
import { seatLimitError, seatRoom } from "../billing/seats.js";
import { type Db, type Executor, transact } from "../db/database.js";
import { AppError, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { hashToken, newSecretToken } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import type { Mailer } from "../mail/mailer.js";
import { mails } from "../mail/templates.js";
import {
  type Access,
  type AccessCache,
  assertCanGrant,
  loadAccess,
  requirePermission,
} from "../roles/access.js";
import type { RolesRepository } from "../roles/roles.repository.js";
import type { UsersRepository } from "../users/users.repository.js";
import type { InvitationRecord, InvitationStatus, InvitationsRepository } from "./invitations.repository.js";

export const INVITATION_LIFETIME_SECONDS = 7 * 24 * 3600;
export const RESEND_MIN_INTERVAL_SECONDS = 60;
export const MAX_RESENDS = 5;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type InviteInput = {
  emails: string[];
  firstName?: string;
  lastName?: string;
  roleId?: string;
  teamIds?: string[];
};
export type InviteResult = {
  email: string;
  invitation?: InvitationRecord;
  error?: { code: string; detail: string };
};

export function createInvitationsService(deps: {
  db: Db;
  clock: Clock;
  publicUrl: string;
  mailer: Mailer;
  hasher: PasswordHasher;
  invitations: InvitationsRepository;
  roles: RolesRepository;
  accounts: AccountsRepository;
  accountsService: AccountsService;
  users: UsersRepository;
  access: AccessCache;
  sessions: SessionsService;
  ipAllowlist: IpAllowlistGuard;
  plans: readonly Plan[];
  billing: BillingService;
}) {
  const { db, clock, invitations, access } = deps;
  const now = () => clock.now().toISOString();
  const link = (token: string) => `${deps.publicUrl}/accept-invitation?token=${encodeURIComponent(token)}`;

  async function inviteMail(invitation: InvitationRecord, token: string, inviterName: string) {
    const account = await deps.accounts.findById(db, invitation.accountId);
    await deps.mailer.send(
      mails.invitation(
        invitation.email,
        invitation.firstName,
        account?.name ?? "an account",
        inviterName,
        link(token),
      ),
    );
  }

  /** The role and teams an invitation grants must be within what the inviter holds. */
  async function resolveGrant(
    executor: Executor,
    caller: Access,
    accountId: string,
    roleId: string | undefined,
    teamIds: string[],
  ) {
    const account = await deps.accounts.findById(executor, accountId);
    const role = roleId
      ? await deps.roles.find(executor, accountId, roleId)
      : (account?.defaultRoleId && (await deps.roles.find(executor, accountId, account.defaultRoleId))) ||
        (await deps.roles.findByKey(executor, accountId, "monitor"));
    if (!role) {
      throw new AppError("validation_failed", "Unknown role", {
        errors: [{ path: "role_id", code: "not_found", message: "No such role" }],
      });
    }
    assertCanGrant(caller, role);
    const teams = teamIds.length
      ? await executor
          .selectFrom("teams as t")
          .leftJoin("roles as r", (j) =>
            j.onRef("r.id", "=", "t.role_id").onRef("r.account_id", "=", "t.account_id"),
          )
          .select(["t.id", "r.key", "r.permissions"])
          .where("t.account_id", "=", accountId)
          .where("t.id", "in", teamIds)
          .execute()
      : [];
    const missing = teamIds.filter((id) => !teams.some((t) => t.id === id));
    if (missing.length) {
      throw new AppError("validation_failed", "Unknown team", {
        errors: missing.map((id) => ({
          path: `team_ids.${teamIds.indexOf(id)}`,
          code: "not_found",
          message: `No team ${id}`,
        })),
      });
    }
    for (const team of teams) {
      if (team.key && team.permissions)
        assertCanGrant(caller, { key: team.key, permissions: JSON.parse(team.permissions) as string[] });
    }
    return role;
  }

  async function joinTeams(executor: Executor, accountId: string, userId: string, teamIds: string[]) {
    if (teamIds.length === 0) return;
    const existing = await executor
      .selectFrom("teams")
      .select("id")
      .where("account_id", "=", accountId)
      .where("id", "in", teamIds)
      .execute();
    for (const team of existing) {
      await executor
        .insertInto("team_members")
        .values({ account_id: accountId, team_id: team.id, user_id: userId, created_at: now() })
        .onConflict((oc) => oc.columns(["team_id", "user_id"]).doNothing())
        .execute();
    }
  }

  async function policyOfAccount(executor: Executor, accountId: string): Promise<PasswordPolicy> {
    const account = await deps.accounts.findById(executor, accountId);
    return strictestPolicy(account ? [account.settings.password_policy] : []);
  }

  return {
    async invite(
      actor: Actor & { id: string },
      accountId: string,
      input: InviteInput,
    ): Promise<InviteResult[]> {
      const caller = requirePermission(await access.get(db, accountId, actor.id), "members:invite");
      const teamIds = [...new Set(input.teamIds ?? [])];
      const role = await resolveGrant(db, caller, accountId, input.roleId, teamIds);
      const inviter = await deps.users.findById(db, actor.id);
      const inviterName =
        [inviter?.firstName, inviter?.lastName].filter(Boolean).join(" ") || (inviter?.email ?? "");

      const results: InviteResult[] = [];
      const seen = new Set<string>();
      const candidates: string[] = [];
      for (const raw of input.emails) {
        const email = raw.trim();
        const normalized = email.toLowerCase();
        if (!EMAIL_PATTERN.test(email) || email.length > 254) {
          results.push({ email: raw, error: { code: "invalid_email", detail: "Not a valid email address" } });
        } else if (seen.has(normalized)) {
          results.push({
            email,
            error: { code: "duplicate", detail: "Listed more than once in this request" },
          });
        } else {
          seen.add(normalized);
          candidates.push(email);
          results.push({ email });
        }
      }

      const sent: Array<{ invitation: InvitationRecord; token: string }> = [];
      await transact(db, async (trx, effects) => {
        await deps.accounts.lock(trx, accountId);
        const normalized = candidates.map((e) => e.toLowerCase());
        await invitations.expireStale(trx, accountId, normalized, now());
        const members = await invitations.memberEmails(trx, accountId, normalized);
        const pending = await invitations.pendingEmails(trx, accountId, normalized, now());
        // Counted under the account lock that every seat-adding path takes: concurrent invitations
        // see each other's seats. The addresses that fit are invited in the order given.
        const room = await seatRoom(trx, deps, accountId, now());
        let free = room.free;
        for (const result of results) {
          if (result.error) continue;
          const email = result.email;
          if (members.has(email.toLowerCase())) {
            result.error = { code: "already_member", detail: "Already a member of this account" };
            continue;
          }
          if (pending.has(email.toLowerCase())) {
            result.error = { code: "already_invited", detail: "Already has an open invitation" };
            continue;
          }
          if (free <= 0) {
            result.error = { code: "seat_limit_reached", detail: seatLimitError(room).message };
            continue;
          }
          free -= 1;
          const token = newSecretToken();
          const id = newId("invitation");
          await invitations.insert(trx, {
            id,
            accountId,
            email,
            firstName: input.firstName?.trim() ?? "",
            lastName: input.lastName?.trim() ?? "",
            roleId: role.id,
            teamIds,
            tokenHash: hashToken(token),
            expiresAt: addSeconds(clock.now(), INVITATION_LIFETIME_SECONDS).toISOString(),
            invitedBy: actor.id,
            now: now(),
          });
          await recordAudit(
            trx,
            actor,
            {
              accountId,
              action: "invitation.created",
              targetType: "invitation",
              targetId: id,
              changes: { email, role: role.key, team_ids: teamIds },
            },
            clock.now(),
          );
          const invitation = (await invitations.find(trx, accountId, id, now())) as InvitationRecord;
          result.invitation = invitation;
          sent.push({ invitation, token });
        }
        if (sent.length === 0 && results.some((r) => r.error?.code === "seat_limit_reached")) {
          // Nothing fitted: the request as a whole is refused, with each address's reason.
          throw seatLimitError(room, {
            errors: results.flatMap((r, index) =>
              r.error
                ? [{ path: `emails.${index}`, code: r.error.code, message: `${r.email}: ${r.error.detail}` }]
                : [],
            ),
          });
        }
        if (sent.length) {
          // Open invitations count as seats and show in the member list; paid plans bill new seats.
          await deps.billing.seatsChanged(trx, effects, accountId, actor);
          await access.publishAccountChange(trx, effects.afterCommit, accountId);
        }
        effects.afterCommit(async () => {
          for (const { invitation, token } of sent) await inviteMail(invitation, token, inviterName);
        });
      });
      return results;
    },

    async list(
      userId: string,
      accountId: string,
      opts: { status?: InvitationStatus; limit: number; cursor?: string },
    ) {
      requirePermission(await access.get(db, accountId, userId), "members:read");
      let after: { createdAt: string; id: string } | undefined;
      if (opts.cursor) {
        const [createdAt, id] = Buffer.from(opts.cursor, "base64url").toString("utf8").split("|");
        if (!createdAt || !id) throw new AppError("validation_failed", "Invalid cursor");
        after = { createdAt, id };
      }
      const rows = await invitations.list(db, accountId, {
        limit: opts.limit + 1,
        now: now(),
        ...(opts.status ? { status: opts.status } : {}),
        ...(after ? { after } : {}),
      });
      const page = rows.slice(0, opts.limit);
      const last = page.at(-1);
      return {
        rows: page,
        nextCursor:
          rows.length > opts.limit && last
            ? Buffer.from(`${last.createdAt}|${last.id}`).toString("base64url")
            : null,
      };
    },

    async resend(
      actor: Actor & { id: string },
      accountId: string,
      invitationId: string,
    ): Promise<InvitationRecord> {
      const caller = requirePermission(await access.get(db, accountId, actor.id), "members:invite");
      const token = newSecretToken();
      const invitation = await transact(db, async (trx, effects) => {
        await deps.accounts.lock(trx, accountId);
        const current = await invitations.find(trx, accountId, invitationId, now());
        if (!current) throw notFound("Invitation");
        if (current.status !== "pending" && current.status !== "expired") {
          throw new AppError("conflict", `This invitation is ${current.status}`);
        }
        // An expired invitation holds no seat; sending it again takes one.
        const takesSeat = current.status === "expired";
        if (takesSeat) {
          const room = await seatRoom(trx, deps, accountId, now());
          if (room.free <= 0) throw seatLimitError(room);
        }
        assertCanGrant(
          caller,
          (await deps.roles.find(trx, accountId, current.role.id)) ?? { key: "root", permissions: [] },
        );
        const since = (clock.now().getTime() - Date.parse(current.lastSentAt)) / 1000;
        if (since < RESEND_MIN_INTERVAL_SECONDS) {
          const wait = Math.ceil(RESEND_MIN_INTERVAL_SECONDS - since);
          throw new AppError("rate_limited", `Sent moments ago; try again in ${wait} seconds`, {
            headers: { "retry-after": String(wait) },
          });
        }
        if (current.sendCount > MAX_RESENDS)
          throw new AppError("rate_limited", `Already sent ${current.sendCount} times`);
        await trx
          .updateTable("invitations")
          .set({ status: "pending" })
          .where("account_id", "=", accountId)
          .where("id", "=", invitationId)
          .execute();
        await invitations.renew(
          trx,
          accountId,
          invitationId,
          hashToken(token),
          addSeconds(clock.now(), INVITATION_LIFETIME_SECONDS).toISOString(),
          now(),
        );
        if (takesSeat) await deps.billing.seatsChanged(trx, effects, accountId, actor);
        await access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          { accountId, action: "invitation.resent", targetType: "invitation", targetId: invitationId },
          clock.now(),
        );
        const renewed = (await invitations.find(trx, accountId, invitationId, now())) as InvitationRecord;
        const inviter = await deps.users.findById(trx, actor.id);
        effects.afterCommit(() =>
          inviteMail(renewed, token, [inviter?.firstName, inviter?.lastName].filter(Boolean).join(" ")),
        );
        return renewed;
      });
      return invitation;
    },

    async revoke(actor: Actor & { id: string }, accountId: string, invitationId: string) {
      requirePermission(await access.get(db, accountId, actor.id), "members:invite");
      await transact(db, async (trx, effects) => {
        const current = await invitations.find(trx, accountId, invitationId, now());
        if (!current) throw notFound("Invitation");
        if (current.status === "accepted")
          throw new AppError("conflict", "This invitation was already accepted");
        await invitations.setStatus(trx, accountId, invitationId, "revoked", now());
        await access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          { accountId, action: "invitation.revoked", targetType: "invitation", targetId: invitationId },
          clock.now(),
        );
      });
    },

    async lookup(token: string) {
      const invitation =
        token.length <= 256 ? await invitations.findByTokenHash(db, hashToken(token), now()) : undefined;
      if (invitation?.status !== "pending")
        throw new AppError("invalid_token", "This invitation is invalid, used, revoked or expired.");
      const account = await deps.accounts.findById(db, invitation.accountId);
      const existing = await deps.users.findByEmail(db, invitation.email);
      return { invitation, accountName: account?.name ?? "", existingUser: existing !== undefined };
    },

    /**
     * Accepts an invitation. New addresses create their user (the link proves the mailbox) and get a
     * session; existing users must be logged in as the invited address. One transaction: the claim on
     * the invitation is what makes two concurrent acceptances produce one membership.
     */
    async accept(
      input: { token: string; password?: string; firstName?: string; lastName?: string },
      session: Session | undefined,
      actor: Actor,
    ): Promise<{ userId: string; accountId: string; newSession?: { token: string; session: Session } }> {
      const { invitation } = await this.lookup(input.token);
      const existing = await deps.users.findByEmail(db, invitation.email);
      if (existing) {
        if (!session) throw new AppError("unauthenticated", "Log in as the invited address to accept");
        if (session.userId !== existing.id)
          throw new AppError("wrong_user", `This invitation is for ${invitation.email}`);
      }
      // Accepting starts (or switches) a session in the account: its IP allowlist applies, and the link
      // stays valid for a try from an allowed network.
      if (!(await deps.ipAllowlist.allowsFresh(db, invitation.accountId, actor.ip))) {
        await recordAudit(
          db,
          existing ? { ...actor, type: "user", id: existing.id } : actor,
          {
            accountId: invitation.accountId,
            action: "invitation.accept_refused_ip",
            targetType: "invitation",
            targetId: invitation.id,
            changes: { ip: clientIp(actor.ip) ?? null },
          },
          clock.now(),
        );
        throw new IpNotAllowedError(actor.ip);
      }
      let passwordHash: string | undefined;
      const firstName = (input.firstName ?? invitation.firstName).trim();
      const lastName = (input.lastName ?? invitation.lastName).trim();
      if (!existing) {
        const errors = [];
        if (!input.password)
          errors.push({ path: "password", code: "required", message: "Choose a password" });
        if (!firstName)
          errors.push({ path: "first_name", code: "required", message: "This field is required" });
        if (errors.length) throw new AppError("validation_failed", "Missing fields", { errors });
        const policyErrors = checkPassword(
          input.password as string,
          await policyOfAccount(db, invitation.accountId),
          {
            email: invitation.email,
            firstName,
            lastName,
          },
        );
        if (policyErrors.length) {
          throw new AppError("password_policy", policyErrors.map((e) => e.message).join(". "), {
            errors: policyErrors,
          });
        }
        passwordHash = await deps.hasher.hash(input.password as string);
      }

      return transact(db, async (trx, effects) => {
        const at = now();
        const userId = existing?.id ?? newId("user");
        // The invitation's seat becomes the member's: serialised with the seat count of concurrent
        // invitations, which must not see the seat in neither place.
        await deps.accounts.lock(trx, invitation.accountId);
        const claimed = await invitations.claim(trx, hashToken(input.token), userId, at);
        if (!claimed)
          throw new AppError("invalid_token", "This invitation is invalid, used, revoked or expired.");
        if (!existing) {
          await deps.users.insert(trx, {
            id: userId,
            email: invitation.email,
            passwordHash: passwordHash as string,
            firstName,
            lastName,
            emailVerifiedAt: at,
            now: at,
          });
          await deps.users.addPasswordHistory(trx, {
            id: newId("history"),
            userId,
            hash: passwordHash as string,
            now: at,
          });
        }
        const already = await loadAccess(trx, invitation.accountId, userId);
        if (already) throw new AppError("conflict", "You are already a member of this account");
        await deps.accounts.insertMembership(trx, {
          id: newId("membership"),
          accountId: invitation.accountId,
          userId,
          roleId: invitation.role.id,
          status: "active",
          now: at,
        });
        await joinTeams(trx, invitation.accountId, userId, invitation.teamIds);
        await deps.users.update(trx, userId, { lastAccountId: invitation.accountId }, at);
        await access.publishAccountChange(trx, effects.afterCommit, invitation.accountId);
        await recordAudit(
          trx,
          { ...actor, type: "user", id: userId },
          {
            accountId: invitation.accountId,
            action: "invitation.accepted",
            targetType: "invitation",
            targetId: invitation.id,
            changes: { new_user: !existing },
          },
          clock.now(),
        );
        if (session) {
          await deps.sessions.switchAccount(trx, effects, session, invitation.accountId);
          return { userId, accountId: invitation.accountId };
        }
        const account = await deps.accounts.findById(trx, invitation.accountId);
        const created = await deps.sessions.create(trx, {
          userId,
          accountId: invitation.accountId,
          policy: account?.settings.session ?? { idle_minutes: 30, absolute_hours: 24 },
          ip: actor.ip,
          userAgent: actor.userAgent,
          passwordChangeRequired: false,
        });
        await deps.users.recordLogin(trx, userId, at, actor.ip, invitation.accountId);
        return { userId, accountId: invitation.accountId, newSession: created };
      });
    },
  };
}

export type InvitationsService = ReturnType<typeof createInvitationsService>;
