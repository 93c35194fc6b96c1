import type { Actor } from "../audit/audit.repository.js";
import { recordAudit } from "../audit/audit.repository.js";
import type { Invalidator } from "../auth/session-cache.js";
import { type Db, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import type { RateLimiter, RateRule } from "../lib/rate-limit.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { type AccessCache, loadAccess, requirePermission } from "../roles/access.js";
import type { UsersRepository } from "../users/users.repository.js";
import { accountMail, type BrandedTemplate } from "./account-mails.js";
import type { BrandingRepository } from "./branding.repository.js";
import { brandingView, changedFields } from "./branding.views.js";
import { applyBrandingPatch, type BrandingPatch } from "./branding-input.js";
import { type MailBrandingLoader, toMailBranding } from "./mail-branding.js";

/** Test mails a person may send themselves (`POST …/branding/test-email`). */
export const TEST_EMAIL_LIMIT: RateRule = { limit: 5, windowSeconds: 3600 };

/** The invalidation message that drops an account's cached public branding in every process. */
export const brandingMessage = (accountId: string) => `brand:${accountId}`;

const SAMPLE_RECIPIENT = { to: "alex@example.com", recipientName: "Alex", roleName: "Developer" };

export function createBrandingService(deps: {
  db: Db;
  clock: Clock;
  repository: BrandingRepository;
  access: AccessCache;
  events: Pick<EventLog, "record">;
  invalidator: Invalidator;
  mailBranding: MailBrandingLoader;
  mailQueue: MailQueue;
  limiter: RateLimiter;
  users: UsersRepository;
}) {
  const { db, clock, repository, access } = deps;

  async function accountOf(accountId: string) {
    const account = await repository.findAccount(db, accountId);
    if (!account) throw notFound("Account");
    return account;
  }

  async function personName(userId: string) {
    const user = await deps.users.findById(db, userId);
    return [user?.firstName, user?.lastName].filter(Boolean).join(" ") || (user?.email ?? "");
  }

  return {
    async get(actor: Actor & { id: string }, accountId: string) {
      requirePermission(await access.get(db, accountId, actor.id), "account:read");
      const account = await accountOf(accountId);
      return brandingView(account.branding, account.logoUrl);
    },

    async update(actor: Actor & { id: string }, accountId: string, patch: BrandingPatch) {
      requirePermission(await access.get(db, accountId, actor.id), "account:update");
      return transact(db, async (trx, effects) => {
        requirePermission(await loadAccess(trx, accountId, actor.id), "account:update");
        const account = await repository.findAccount(trx, accountId);
        if (!account) throw notFound("Account");
        const next = applyBrandingPatch(account.branding, patch);
        const before = brandingView(account.branding, account.logoUrl);
        const after = brandingView(next, account.logoUrl);
        const changed = changedFields(before, after);
        if (changed.length === 0) return after;
        await repository.save(trx, accountId, next, clock.now().toISOString());
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "branding.updated",
            targetType: "account",
            targetId: accountId,
            changes: Object.fromEntries(
              changed.map((path) => [
                path,
                path.split(".").reduce<unknown>((v, k) => (v as never)[k], after),
              ]),
            ),
          },
          clock.now(),
        );
        await deps.events.record(trx, effects, actor, {
          accountId,
          type: "branding.updated",
          data: { account_id: accountId, ...after, changed },
        });
        await deps.invalidator.publish(trx, brandingMessage(accountId));
        effects.afterCommit(() => deps.invalidator.deliverLocally(brandingMessage(accountId)));
        return after;
      });
    },

    /** The mail as it would go out with the saved branding and `unsaved` fields over it, sample values filled in. */
    async preview(
      actor: Actor & { id: string },
      accountId: string,
      template: BrandedTemplate,
      unsaved: BrandingPatch = {},
    ) {
      const caller = requirePermission(await access.get(db, accountId, actor.id), "account:update");
      const saved = await deps.mailBranding.load(db, accountId);
      if (!saved) throw notFound("Account");
      const branding = applyBrandingPatch(saved.branding, unsaved);
      const account = await accountOf(accountId);
      const mail = accountMail(toMailBranding({ ...account, branding }, saved.linkBase), template, {
        ...SAMPLE_RECIPIENT,
        inviterName: await personName(caller.userId),
      });
      return { subject: mail.subject, html: mail.html, text: mail.text };
    },

    /** Queues the mail, as saved, to the caller's own address (at most TEST_EMAIL_LIMIT an hour). */
    async sendTest(actor: Actor & { id: string }, accountId: string, template: BrandedTemplate) {
      requirePermission(await access.get(db, accountId, actor.id), "account:update");
      await transact(db, async (trx, effects) => {
        const caller = requirePermission(await loadAccess(trx, accountId, actor.id), "account:update");
        const decision = await deps.limiter.hit(`branding-test:${caller.userId}`, TEST_EMAIL_LIMIT, trx);
        if (!decision.allowed)
          throw new AppError(
            "rate_limited",
            `At most ${TEST_EMAIL_LIMIT.limit} test mails an hour. Try again in ${decision.retryAfterSeconds} seconds.`,
            { headers: { "retry-after": String(decision.retryAfterSeconds) } },
          );
        const user = await deps.users.findById(trx, caller.userId);
        const account = await deps.mailBranding.load(trx, accountId);
        if (!user || !account) throw notFound("Account");
        const name = [user.firstName, user.lastName].filter(Boolean).join(" ") || user.email;
        const mail = accountMail(account, template, {
          to: user.email,
          recipientName: user.firstName,
          inviterName: name,
          roleName: SAMPLE_RECIPIENT.roleName,
          // A test mail's link is a sample: it accepts nothing.
          url: `${account.linkBase}/accept-invitation?token=test-mail`,
        });
        await deps.mailQueue.enqueue(trx, effects, { ...mail, subject: `[Test] ${mail.subject}` });
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "branding.test_email_sent",
            targetType: "account",
            targetId: accountId,
            changes: { template },
          },
          clock.now(),
        );
      });
    },
  };
}

export type BrandingService = ReturnType<typeof createBrandingService>;
