import { formatAmount } from "../billing/invoice-documents.js";
import type { AccountMail, MailBrandingLoader } from "../branding/mail-branding.js";
import type { Executor } from "../db/database.js";
import { EVENT_TYPES, type EventType } from "../events/catalog.js";
import type { EventConsumer } from "../events/event-log.js";
import type { StoredEvent } from "../events/events.repository.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import type { SmsSender } from "../sms/sms.js";
import { contentOf } from "./notification-content.js";
import type { NotificationHub } from "./notification-stream.js";
import type { NotificationsRepository, Recipient } from "./notifications.repository.js";
import { effectivePreferences, type NotificationCategory, preferenceCategoryOf } from "./preferences.js";
import { unsubscribeToken, unsubscribeUrl } from "./unsubscribe-tokens.js";

/** Who hears about an event, by the permissions they hold in its account (never by role name). */
async function recipientsOf(
  repository: NotificationsRepository,
  trx: Executor,
  event: StoredEvent,
): Promise<Recipient[]> {
  const { accountId, data } = event;
  const category = EVENT_TYPES[event.type].category;
  if (event.type === "security.mfa_enabled" || event.type === "security.mfa_disabled")
    return repository.activeMembers(trx, accountId, [String(data.user_id)]);
  if (event.type === "api_key.created" || event.type === "api_key.revoked") {
    // The key's creator, and the people who look after the account's security.
    const [creator, guards] = await Promise.all([
      repository.activeMembers(trx, accountId, typeof data.created_by === "string" ? [data.created_by] : []),
      repository.membersHolding(trx, accountId, ["security:manage"]),
    ]);
    return unique([...creator, ...guards]);
  }
  if (event.type === "security.policy_changed")
    return repository.membersHolding(trx, accountId, ["security:manage"]);
  if (category === "members")
    return repository.membersHolding(trx, accountId, ["members:read", "members:invite"]);
  if (category === "billing") return repository.membersHolding(trx, accountId, ["billing:manage"]);
  if (category === "account") return repository.membersHolding(trx, accountId, ["account:update"]);
  return [];
}

function unique(recipients: Recipient[]): Recipient[] {
  return [...new Map(recipients.map((r) => [r.userId, r])).values()];
}

/** Text messages only for what cannot wait: security events and failed payments. */
const CRITICAL: ReadonlySet<EventType> = new Set([
  "payment.failed",
  ...(Object.keys(EVENT_TYPES) as EventType[]).filter((t) => EVENT_TYPES[t].category === "security"),
]);

/**
 * The `notifications` event consumer: for each event with a category, its recipients each get it on
 * the channels they chose for its category — a `notifications` row (and a live push), a mail through
 * the queue, a text message for critical ones — all in the fan-out transaction.
 */
export function createNotificationConsumer(deps: {
  clock: Clock;
  secretKey: Buffer;
  publicUrl: string;
  repository: NotificationsRepository;
  mailQueue: MailQueue;
  sms: SmsSender;
  hub: NotificationHub;
  /** Notification mail is about an account: in its branding, links from its link base. */
  mailBranding: MailBrandingLoader;
}): EventConsumer {
  const { repository, mailQueue, hub } = deps;

  return async (trx, effects, events) => {
    const relevant = events.filter((e) => EVENT_TYPES[e.type].category !== null);
    if (relevant.length === 0) return;
    const accountNames = await repository.accountNames(trx, [...new Set(relevant.map((e) => e.accountId))]);
    const brandings = new Map<string, AccountMail | undefined>();
    const brandingOf = async (accountId: string) => {
      if (!brandings.has(accountId)) brandings.set(accountId, await deps.mailBranding.load(trx, accountId));
      return brandings.get(accountId);
    };
    const notified = new Set<string>();
    // A login's MFA change is announced in each of its accounts: the person hears of it once.
    const once = new Set<string>();
    for (const event of relevant) {
      const eventCategory = EVENT_TYPES[event.type].category;
      if (!eventCategory) continue;
      const category = preferenceCategoryOf(eventCategory);
      const personal = event.type.startsWith("security.mfa_");
      let recipients = await recipientsOf(repository, trx, event);
      // Nobody is told about what they did themselves, except for their security and failed payments.
      if (category !== "security" && !CRITICAL.has(event.type) && event.actor.type === "user")
        recipients = recipients.filter((r) => r.userId !== event.actor.id);
      if (personal) {
        recipients = recipients.filter((r) => !once.has(`${event.type}:${r.userId}:${event.occurredAt}`));
        for (const r of recipients) once.add(`${event.type}:${r.userId}:${event.occurredAt}`);
      }
      if (recipients.length === 0) continue;
      const accountName = accountNames.get(event.accountId) ?? "your account";
      const content = contentOf(event, accountName);
      const stored = await repository.preferencesOf(
        trx,
        recipients.map((r) => r.userId),
      );
      const at = deps.clock.now().toISOString();
      for (const recipient of recipients) {
        const preferences = effectivePreferences(
          stored.get(recipient.userId) ?? new Map(),
          recipient.verifiedMobile !== null,
        ).find((p) => p.key === category);
        if (!preferences) continue;
        const { channels } = preferences;
        if (channels.in_app) {
          await repository.insert(trx, {
            id: newId("notification"),
            userId: recipient.userId,
            accountId: event.accountId,
            eventId: event.id,
            type: event.type,
            title: content.title,
            body: content.body,
            link: content.link,
            readAt: null,
            createdAt: at,
          });
          notified.add(recipient.userId);
        }
        if (channels.email) {
          const branding = await brandingOf(event.accountId);
          await mailQueue.enqueue(
            trx,
            effects,
            mailFor(event, category, recipient, content, accountName, branding),
          );
        }
        if (channels.sms && recipient.verifiedMobile && CRITICAL.has(event.type)) {
          const to = recipient.verifiedMobile;
          const text = `Gatehouse: ${content.title}. ${deps.publicUrl}${content.link}`;
          effects.afterCommit(() => deps.sms.send({ to, text }));
        }
      }
    }
    await hub.publish(trx, effects, notified);
  };

  function mailFor(
    event: StoredEvent,
    category: NotificationCategory,
    recipient: Recipient,
    content: ReturnType<typeof contentOf>,
    accountName: string,
    branding: AccountMail | undefined,
  ) {
    const url = `${branding?.linkBase ?? deps.publicUrl}${content.link}`;
    const message =
      event.type === "payment.failed"
        ? paymentFailedMail(event, recipient, url, accountName, branding)
        : mails.notification(
            recipient.email,
            recipient.firstName,
            { subject: content.title, lines: [content.body], url },
            { ...(branding ? { branding } : {}) },
          );
    if (category === "security") return message;
    // RFC 8058 one-click unsubscribe: a POST to this URL turns this category's mail off.
    const token = unsubscribeToken(deps.secretKey, recipient.userId, category);
    return {
      ...message,
      headers: {
        "List-Unsubscribe": `<${unsubscribeUrl(deps.publicUrl, token)}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    };
  }

  function paymentFailedMail(
    event: StoredEvent,
    recipient: Recipient,
    url: string,
    accountName: string,
    branding: AccountMail | undefined,
  ) {
    const d = event.data;
    const next = typeof d.next_payment_at === "string" ? d.next_payment_at : null;
    return mails.paymentFailed(
      recipient.email,
      recipient.firstName,
      {
        accountName,
        invoiceNumber: String(d.number),
        amount: `$${formatAmount(Number(d.total))} ${String(d.currency)}`,
        error: String(d.last_payment_error ?? ""),
        // Written in the recipient's time zone and language (mails.paymentFailed).
        nextAttempt: next,
        url,
      },
      { reader: recipient, ...(branding ? { branding } : {}) },
    );
  }
}
