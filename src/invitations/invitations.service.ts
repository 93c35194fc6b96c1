import type { Account, AccountsRepository } from "../accounts/accounts.repository.js";
import type { AccountsService } from "../accounts/accounts.service.js";
import { clientIp, type IpAllowlistGuard, IpNotAllowedError } from "../accounts/ip-allowlist.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import {
  checkPassword,
  type PasswordPolicy,
  passwordPolicyError,
  strictestPolicy,
} from "../auth/password-policy.js";
import type { PasswordHasher } from "../auth/passwords.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import type { BillingService, SeatCost } from "../billing/billing.service.js";
import type { Plan } from "../billing/plans.js";
import { seatLimitError, seatRoom } from "../billing/seats.js";
import { accountMail } from "../branding/account-mails.js";
import type { MailBrandingLoader } from "../branding/mail-branding.js";
import { refuseWhileClosing } from "../closure/closure-guard.js";
import { type Db, type Effects, type Executor, type Trx, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, type FieldError, invalidFields, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { hashToken, newSecretToken } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import type { MailQueue } from "../mail/mail-queue.js";
import type { MemberRecord, MembersRepository } from "../members/members.repository.js";
import { memberView } from "../members/members.views.js";
import {
  type Access,
  type AccessCache,
  assertCanAssign,
  loadAccess,
  requirePermission,
} from "../roles/access.js";
import type { RolesRepository } from "../roles/roles.repository.js";
import type { UsersRepository } from "../users/users.repository.js";
import type { InvitationRecord, InvitationStatus, InvitationsRepository } from "./invitations.repository.js";
import { invitationView } from "./invitations.views.js";

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
  /** Only answer what accepting each address would cost: nothing is written, nobody is mailed. */
  preview?: boolean;
};
export type InviteResult = {
  email: string;
  invitation?: InvitationRecord;
  /** With `preview`: the charge its acceptance would make now. */
  preview?: SeatCost;
  error?: { code: string; detail: string };
};

export function createInvitationsService(deps: {
  db: Db;
  clock: Clock;
  publicUrl: string;
  mailQueue: MailQueue;
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
  members: Pick<MembersRepository, "find">;
  events: Pick<EventLog, "record">;
  mailBranding: MailBrandingLoader;
}) {
  const { db, clock, invitations, access, events } = deps;
  const now = () => clock.now().toISOString();

  /** The invitation mail in the account's branding and wording; its link starts at the account's link base. */
  async function inviteMail(
    trx: Trx,
    effects: Effects,
    invitation: InvitationRecord,
    token: string,
    inviterName: string,
  ) {
    const account = await deps.mailBranding.load(trx, invitation.accountId);
    if (!account) return;
    await deps.mailQueue.enqueue(
      trx,
      effects,
      accountMail(account, "invitation", {
        to: invitation.email,
        recipientName: invitation.firstName,
        inviterName,
        roleName: invitation.role.name,
        url: `${account.linkBase}/accept-invitation?token=${encodeURIComponent(token)}`,
      }),
    );
  }

  /** To the new member, in the account's branding and wording: where to sign in. */
  async function welcomeMail(trx: Trx, effects: Effects, invitation: InvitationRecord, userId: string) {
    const [account, user] = await Promise.all([
      deps.mailBranding.load(trx, invitation.accountId),
      deps.users.findById(trx, userId),
    ]);
    if (!account || !user) return;
    const inviterId = invitation.invitedBy.userId;
    const inviter = inviterId ? await deps.users.findById(trx, inviterId) : undefined;
    await deps.mailQueue.enqueue(
      trx,
      effects,
      accountMail(account, "welcome", {
        to: user.email,
        recipientName: user.firstName,
        inviterName: invitation.invitedBy.name || (inviter?.email ?? ""),
        roleName: invitation.role.name,
      }),
    );
  }

  /** The role and teams an invitation grants must be within what the inviter holds. */
  async function resolveGrant(
    executor: Executor,
    caller: Access,
    accountId: string,
    roleId: string | undefined,
    teamIds: string[],
    /** A stored invitation may name teams deleted since: they are skipped, as accepting skips them. */
    missingTeams: "refuse" | "skip" = "refuse",
  ) {
    const account = await deps.accounts.findById(executor, accountId);
    const role = roleId
      ? await deps.roles.find(executor, accountId, roleId)
      : (account?.defaultRoleId && (await deps.roles.find(executor, accountId, account.defaultRoleId))) ||
        (await deps.roles.findByKey(executor, accountId, "monitor"));
    const problems: FieldError[] = role
      ? []
      : [{ path: "role_id", code: "not_found", message: "This role does not exist in the account" }];
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
    if (missingTeams === "refuse") {
      for (const id of missing) {
        const position = teamIds.indexOf(id);
        problems.push({
          path: `team_ids.${position}`,
          code: "not_found",
          message: `Team ${position + 1} of the list does not exist in the account`,
        });
      }
    }
    // Both at once: a form learns everything it must fix in one answer.
    if (problems.length || !role) throw invalidFields(problems);
    assertCanAssign(caller, [
      role,
      ...teams.map((t) =>
        t.key && t.permissions ? { key: t.key, permissions: JSON.parse(t.permissions) as string[] } : null,
      ),
    ]);
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

  const policyOf = (account: Account | undefined): PasswordPolicy =>
    strictestPolicy(account ? [account.settings.password_policy] : []);

  return {
    async invite(
      actor: Actor & { id: string },
      accountId: string,
      input: InviteInput,
    ): Promise<InviteResult[]> {
      const teamIds = [...new Set(input.teamIds ?? [])];
      // Checked once from the cache for a quick answer, and again inside the transaction below.
      const checked = requirePermission(await access.get(db, accountId, actor.id), "members:invite");
      await resolveGrant(db, checked, accountId, input.roleId, teamIds);
      // The person inviting: the user, or the member an API key acts for.
      const inviter = await deps.users.findById(db, checked.userId);
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
        // A preview writes nothing, so it takes no lock (as the billing preview).
        if (!input.preview) await deps.accounts.lock(trx, accountId);
        const caller = requirePermission(await loadAccess(trx, accountId, actor.id), "members:invite");
        await refuseWhileClosing(trx, accountId, "new invitations");
        const role = await resolveGrant(trx, caller, accountId, input.roleId, teamIds);
        const normalized = candidates.map((e) => e.toLowerCase());
        if (!input.preview) await invitations.expireStale(trx, accountId, normalized, now());
        const members = await invitations.memberEmails(trx, accountId, normalized);
        const pending = await invitations.pendingEmails(trx, accountId, normalized, now());
        // Counted under the account lock that every seat-adding path takes: concurrent invitations
        // see each other's seats. The addresses that fit are invited in the order given.
        const room = await seatRoom(trx, deps, accountId, now());
        let free = room.free;
        const admitted: InviteResult[] = [];
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
          admitted.push(result);
        }
        if (admitted.length === 0 && results.some((r) => r.error?.code === "seat_limit_reached")) {
          // Nothing fitted: the request as a whole is refused, with each address's reason.
          throw seatLimitError(room, {
            errors: results.flatMap((r, index) =>
              r.error
                ? [{ path: `emails.${index}`, code: r.error.code, message: `${r.email}: ${r.error.detail}` }]
                : [],
            ),
          });
        }
        if (input.preview) {
          const costs = await deps.billing.acceptanceCosts(trx, accountId, admitted.length);
          admitted.forEach((result, index) => {
            result.preview = costs[index];
          });
          return;
        }
        for (const result of admitted) {
          const email = result.email;
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
            invitedBy: caller.userId,
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
          await events.record(trx, effects, actor, {
            accountId,
            type: "member.invited",
            data: invitationView(invitation),
          });
          result.invitation = invitation;
          sent.push({ invitation, token });
        }
        if (sent.length) {
          // Open invitations count as seats and show in the member list; they are billed on acceptance.
          await access.publishAccountChange(trx, effects.afterCommit, accountId);
        }
        for (const { invitation, token } of sent)
          await inviteMail(trx, effects, invitation, token, inviterName);
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
      requirePermission(await access.get(db, accountId, actor.id), "members:invite");
      const token = newSecretToken();
      const invitation = await transact(db, async (trx, effects) => {
        await deps.accounts.lock(trx, accountId);
        const caller = requirePermission(await loadAccess(trx, accountId, actor.id), "members:invite");
        await refuseWhileClosing(trx, accountId, "invitations");
        const current = await invitations.find(trx, accountId, invitationId, now());
        if (!current) throw notFound("Invitation");
        if (current.status !== "pending" && current.status !== "expired") {
          throw new AppError("conflict", `This invitation is ${current.status}`);
        }
        // An expired invitation holds no seat; sending it again takes one (billed only on acceptance).
        const takesSeat = current.status === "expired";
        if (takesSeat) {
          const room = await seatRoom(trx, deps, accountId, now());
          if (room.free <= 0) throw seatLimitError(room);
        }
        // Sending it again hands out its role and teams anew: the sender must be able to give them.
        await resolveGrant(trx, caller, accountId, current.role.id, current.teamIds, "skip");
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
        await access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          { accountId, action: "invitation.resent", targetType: "invitation", targetId: invitationId },
          clock.now(),
        );
        const renewed = (await invitations.find(trx, accountId, invitationId, now())) as InvitationRecord;
        const inviter = await deps.users.findById(trx, caller.userId);
        await inviteMail(
          trx,
          effects,
          renewed,
          token,
          [inviter?.firstName, inviter?.lastName].filter(Boolean).join(" "),
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
        if (current.status !== "revoked") {
          const revoked = (await invitations.find(trx, accountId, invitationId, now())) as InvitationRecord;
          await events.record(trx, effects, actor, {
            accountId,
            type: "invitation.revoked",
            data: invitationView(revoked),
          });
        }
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
      return {
        invitation,
        accountName: account?.name ?? "",
        passwordPolicy: policyOf(account),
        existingUser: existing !== undefined,
      };
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
        const missing: FieldError[] = [];
        if (!firstName) missing.push({ path: "first_name", code: "required", message: "Enter a first name" });
        if (!input.password) {
          missing.push({ path: "password", code: "required", message: "Choose a password" });
          throw invalidFields(missing);
        }
        const account = await deps.accounts.findById(db, invitation.accountId);
        const policyErrors = await checkPassword(input.password, policyOf(account), {
          email: invitation.email,
          firstName,
          lastName,
          accountNames: account ? [account.name] : [],
        });
        // Every problem in one answer; a refused password alone stays 422 `password_policy`.
        if (missing.length) throw invalidFields([...missing, ...policyErrors]);
        if (policyErrors.length) throw passwordPolicyError(policyErrors);
        passwordHash = await deps.hasher.hash(input.password);
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
        const member = (await deps.members.find(trx, invitation.accountId, userId)) as MemberRecord;
        await events.record(
          trx,
          effects,
          { ...actor, type: "user", id: userId },
          { accountId: invitation.accountId, type: "member.joined", data: memberView(member) },
        );
        // The pending seat becomes a member's: on a paid plan it is charged now, in this transaction,
        // so a failed acceptance charges nothing.
        await deps.billing.seatsChanged(trx, effects, invitation.accountId, {
          ...actor,
          type: "user",
          id: userId,
        });
        await welcomeMail(trx, effects, invitation, userId);
        if (session) {
          await deps.sessions.switchAccount(trx, effects, session, invitation.accountId);
          return { userId, accountId: invitation.accountId };
        }
        const account = await deps.accounts.findById(trx, invitation.accountId);
        const {
          token,
          session: opened,
          insert,
        } = deps.sessions.open(trx, {
          userId,
          accountId: invitation.accountId,
          policy: account?.settings.session ?? { idle_minutes: 30, absolute_hours: 24 },
          ip: actor.ip,
          userAgent: actor.userAgent,
          passwordChangeRequired: false,
        });
        // The session is stored with the login bookkeeping, as a log-in stores it.
        await deps.users.recordLoginOf(
          trx,
          userId,
          { at, ip: actor.ip, accountId: invitation.accountId },
          {},
          insert,
        );
        return { userId, accountId: invitation.accountId, newSession: { token, session: opened } };
      });
    },
  };
}

export type InvitationsService = ReturnType<typeof createInvitationsService>;
