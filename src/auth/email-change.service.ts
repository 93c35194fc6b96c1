import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, transact } from "../db/database.js";
import { AppError } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import { maskEmail } from "../mfa/mfa.service.js";
import { normalizeEmail, type User, type UsersRepository } from "../users/users.repository.js";
import type { EmailChangeRepository } from "./email-change.repository.js";
import type { Session } from "./sessions.repository.js";
import type { SessionsService } from "./sessions.service.js";

/** A new request (two mails) at most this often per user. */
export const EMAIL_CHANGE_RESEND_SECONDS = 30;

/**
 * Changing the login email: a link to the new address, a notice to the old one; the address changes only
 * when the link is used, and only if it is still free then.
 */
export function createEmailChangeService(deps: {
  db: Db;
  clock: Clock;
  publicUrl: string;
  mailQueue: MailQueue;
  users: UsersRepository;
  sessions: SessionsService;
  emailChanges: EmailChangeRepository;
}) {
  const { db, clock, mailQueue, users, sessions, emailChanges } = deps;
  const link = (token: string) => `${deps.publicUrl}/confirm-email-change?token=${encodeURIComponent(token)}`;

  return {
    /**
     * Always the same answer, whether or not the new address already has a login: then its owner is
     * told instead, and no link exists that could ever confirm it.
     */
    async request(session: Session, newEmailInput: string, actor: Actor): Promise<void> {
      sessions.requireFresh(session);
      const newEmail = newEmailInput.trim();
      const user = (await users.findById(db, session.userId)) as User;
      if (normalizeEmail(newEmail) === normalizeEmail(user.email)) {
        throw new AppError("validation_failed", "That is already your email address", {
          errors: [{ path: "new_email", code: "unchanged", message: "That is already your email address" }],
        });
      }
      await transact(db, async (trx, effects) => {
        const last = await emailChanges.latestRequestAt(trx, user.id);
        const since = last ? (clock.now().getTime() - Date.parse(last)) / 1000 : Number.POSITIVE_INFINITY;
        if (since < EMAIL_CHANGE_RESEND_SECONDS) {
          const wait = Math.ceil(EMAIL_CHANGE_RESEND_SECONDS - since);
          throw new AppError("rate_limited", `You asked moments ago; try again in ${wait} seconds`, {
            headers: { "retry-after": String(wait) },
          });
        }
        const owner = await users.findByEmail(trx, newEmail);
        const token = await emailChanges.issue(trx, user.id, newEmail, clock.now());
        await recordAudit(
          trx,
          { ...actor, type: "user", id: user.id },
          {
            accountId: session.accountId,
            action: "user.email_change_requested",
            targetType: "user",
            targetId: user.id,
            changes: { new_email: newEmail },
          },
          clock.now(),
        );
        await mailQueue.enqueue(
          trx,
          effects,
          mails.emailChangeRequested(user.email, user.firstName, newEmail, clock.now(), actor.ip, user),
        );
        await mailQueue.enqueue(
          trx,
          effects,
          owner
            ? mails.emailChangeAddressTaken(owner.email, owner.firstName)
            : mails.confirmEmailChange(newEmail, user.firstName, link(token)),
        );
      });
    },

    /**
     * The link was used: the login email changes and counts as verified. Every other session of the
     * user ends (the one confirming, if it is the user's own, stays).
     */
    async confirm(token: string, current: Session | undefined, actor: Actor): Promise<{ email: string }> {
      let wanted: string | undefined;
      try {
        return await transact(db, async (trx, effects) => {
          const pending = await emailChanges.consume(trx, token, clock.now());
          if (!pending)
            throw new AppError("invalid_token", "This confirmation link is invalid, used or expired.");
          wanted = pending.newEmail;
          const user = (await users.findById(trx, pending.userId)) as User;
          const holder = await users.findByEmail(trx, pending.newEmail);
          if (holder && holder.id !== user.id) throw addressTaken();
          const now = clock.now().toISOString();
          await emailChanges.setEmail(trx, user.id, pending.newEmail, now);
          await emailChanges.spendMailboxTokens(trx, user.id, now);
          await emailChanges.cancelPending(trx, user.id, now);
          await emailChanges.relabelEmailFactors(trx, user.id, `Email (${maskEmail(pending.newEmail)})`);
          const keep = current?.userId === user.id ? current.id : undefined;
          const ended = await sessions.revokeAll(trx, effects, user.id, keep);
          await recordAudit(
            trx,
            { ...actor, type: "user", id: user.id },
            {
              accountId: current?.userId === user.id ? current.accountId : user.lastAccountId,
              action: "user.email_changed",
              targetType: "user",
              targetId: user.id,
              changes: { from: user.email, to: pending.newEmail, sessions_ended: ended },
            },
            clock.now(),
          );
          await mailQueue.enqueue(
            trx,
            effects,
            mails.emailChanged(user.email, user.firstName, pending.newEmail, clock.now(), user),
          );
          return { email: pending.newEmail };
        });
      } catch (error) {
        // Two confirmations racing for one free address: the unique index lets one win.
        if (!(error instanceof AppError) && wanted && (await users.findByEmail(db, wanted)))
          throw addressTaken();
        throw error;
      }
    },
  };
}

function addressTaken() {
  return new AppError("conflict", "This address now belongs to another login. Choose another address.");
}

export type EmailChangeService = ReturnType<typeof createEmailChangeService>;
