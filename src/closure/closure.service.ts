import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import type { BillingService } from "../billing/billing.service.js";
import type { MailBrandingLoader } from "../branding/mail-branding.js";
import { type Db, type Effects, type Trx, transact } from "../db/database.js";
import { AppError, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { newSecretToken } from "../lib/crypto.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import { type AccessCache, loadAccess, requirePermission } from "../roles/access.js";
import type { UsersRepository } from "../users/users.repository.js";
import type { Closure, ClosureRepository } from "./closure.repository.js";

/** Days between scheduling a closure and the deletion: the grace period. */
export const CLOSURE_GRACE_DAYS = 30;

/** The page the mailed cancel link opens (web/src/pages/CancelAccountClosure). */
export const CANCEL_CLOSURE_PAGE = "cancel-account-closure";

export type ClosureView =
  | { status: "none" }
  | { status: "scheduled"; delete_at: string; requested_by: string; requested_at: string };

export const closureView = (closure: Closure | undefined): ClosureView =>
  closure
    ? {
        status: "scheduled",
        delete_at: closure.deleteAt,
        requested_by: closure.requestedBy,
        requested_at: closure.requestedAt,
      }
    : { status: "none" };

/**
 * Closing an account (`account:close`): scheduling deletes it after CLOSURE_GRACE_DAYS (the job in
 * account-deletion.ts), ends the subscription at its period's end and mails every Root and Admin a
 * single-use cancel link; cancelling (by a member holding account:close, or with a link) undoes that.
 */
export function createClosureService(deps: {
  db: Db;
  clock: Clock;
  repository: ClosureRepository;
  accounts: AccountsRepository;
  users: UsersRepository;
  access: AccessCache;
  sessions: SessionsService;
  billing: Pick<BillingService, "cancelAtPeriodEnd" | "undoCancellation">;
  mailQueue: MailQueue;
  mailBranding: MailBrandingLoader;
}) {
  const { db, clock, repository, access } = deps;

  async function personName(trx: Trx, userId: string) {
    const user = await deps.users.findById(trx, userId);
    return [user?.firstName, user?.lastName].filter(Boolean).join(" ") || (user?.email ?? "A member");
  }

  /** Cancels the account's closure inside `trx` (holding the account lock); 404 when none is scheduled. */
  async function cancelIn(trx: Trx, effects: Effects, actor: Actor, accountId: string, via: "api" | "link") {
    const closure = await repository.find(trx, accountId);
    if (!closure) throw notFound("Scheduled closure");
    await repository.delete(trx, accountId);
    const subscriptionRestored = closure.subscriptionCanceled
      ? await deps.billing.undoCancellation(trx, effects, actor, accountId)
      : false;
    await recordAudit(
      trx,
      actor,
      {
        accountId,
        action: "account.closure_cancelled",
        targetType: "account",
        targetId: accountId,
        changes: { via, delete_at: closure.deleteAt, subscription_restored: subscriptionRestored },
      },
      clock.now(),
    );
  }

  return {
    /** Every member sees whether (and when) the account will be deleted. */
    async get(actor: Actor & { id: string }, accountId: string): Promise<ClosureView> {
      requirePermission(await access.get(db, accountId, actor.id), "account:read");
      return closureView(await repository.find(db, accountId));
    },

    async schedule(
      actor: Actor & { id: string },
      session: Session,
      accountId: string,
      confirmName: string,
    ): Promise<ClosureView> {
      requirePermission(await access.get(db, accountId, actor.id), "account:close");
      deps.sessions.requireFresh(session);
      return transact(db, async (trx, effects) => {
        await deps.accounts.lock(trx, accountId);
        requirePermission(await loadAccess(trx, accountId, actor.id), "account:close");
        const account = await deps.accounts.findById(trx, accountId);
        if (!account) throw notFound("Account");
        if (confirmName !== account.name) {
          const message = "Type the account's name exactly as it is shown to confirm.";
          throw new AppError("confirmation_mismatch", message, {
            errors: [{ path: "confirm_name", code: "mismatch", message }],
          });
        }
        if (await repository.find(trx, accountId))
          throw new AppError("conflict", "This account is already scheduled for closure");
        const now = clock.now();
        const deleteAt = addSeconds(now, CLOSURE_GRACE_DAYS * 86_400).toISOString();
        const subscriptionCanceled = await deps.billing.cancelAtPeriodEnd(trx, effects, actor, accountId);
        const closure: Closure = {
          accountId,
          requestedBy: actor.id,
          requestedAt: now.toISOString(),
          deleteAt,
          subscriptionCanceled,
        };
        await repository.insert(trx, closure);
        const branding = await deps.mailBranding.load(trx, accountId);
        const requesterName = await personName(trx, actor.id);
        for (const recipient of await repository.recipients(trx, accountId)) {
          const token = newSecretToken();
          await repository.addToken(trx, {
            accountId,
            userId: recipient.userId,
            token,
            expiresAt: deleteAt,
            now: now.toISOString(),
          });
          const base = branding?.linkBase ?? deps.mailBranding.publicUrl;
          await deps.mailQueue.enqueue(
            trx,
            effects,
            mails.accountClosureScheduled(
              recipient.email,
              recipient.firstName,
              {
                accountName: account.name,
                requesterName,
                deleteAt,
                url: `${base}/${CANCEL_CLOSURE_PAGE}?token=${encodeURIComponent(token)}`,
              },
              { ...(branding ? { branding } : {}), reader: recipient },
            ),
          );
        }
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "account.closure_scheduled",
            targetType: "account",
            targetId: accountId,
            changes: { delete_at: deleteAt, subscription_canceled: subscriptionCanceled },
          },
          now,
        );
        return closureView(closure);
      });
    },

    async cancel(actor: Actor & { id: string }, accountId: string): Promise<ClosureView> {
      requirePermission(await access.get(db, accountId, actor.id), "account:close");
      return transact(db, async (trx, effects) => {
        await deps.accounts.lock(trx, accountId);
        requirePermission(await loadAccess(trx, accountId, actor.id), "account:close");
        await cancelIn(trx, effects, actor, accountId, "api");
        return closureView(undefined);
      });
    },

    /** The mailed link (no session): cancels the closure it was sent for; every link of it dies. */
    async cancelWithToken(token: string, actor: Actor): Promise<{ account_id: string }> {
      const invalid = () => new AppError("invalid_token", "This cancel link is invalid, used or expired.");
      const found = await repository.findToken(db, token, clock.now().toISOString());
      if (!found) throw invalid();
      return transact(db, async (trx, effects) => {
        await deps.accounts.lock(trx, found.accountId);
        // Read again under the lock: two clicks at once cancel once.
        const live = await repository.findToken(trx, token, clock.now().toISOString());
        if (!live) throw invalid();
        await cancelIn(trx, effects, { ...actor, type: "user", id: live.userId }, live.accountId, "link");
        return { account_id: live.accountId };
      });
    },
  };
}

export type ClosureService = ReturnType<typeof createClosureService>;
