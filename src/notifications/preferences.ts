import type { EventCategory } from "../events/catalog.js";
import type { FieldError } from "../http/errors.js";

/** What a person can choose to hear about (`GET /me/notification-preferences`), in this order. */
export const NOTIFICATION_CATEGORIES = [
  "security",
  "members",
  "billing",
  "product_updates",
  "reports",
] as const;
export type NotificationCategory = (typeof NOTIFICATION_CATEGORIES)[number];

export const CHANNELS = ["email", "in_app", "sms"] as const;
export type Channel = (typeof CHANNELS)[number];
export type Channels = Record<Channel, boolean>;

export const DEFAULT_CHANNELS: Readonly<Channels> = { email: true, in_app: true, sms: false };

/** Text messages are for critical notifications only: security, and failed payments (billing). */
export const SMS_CATEGORIES: ReadonlySet<NotificationCategory> = new Set(["security", "billing"]);

/**
 * The preference category an event's catalog category falls under. Account profile changes go to the
 * people who administer the account, with its member notifications.
 */
export function preferenceCategoryOf(category: EventCategory): NotificationCategory {
  return category === "account" ? "members" : category;
}

export type CategoryPreference = { key: NotificationCategory; channels: Channels; locked: Channel[] };

/** Channels a person cannot change: security mail is always on; SMS without a verified mobile is off. */
export function lockedChannels(category: NotificationCategory, mobileVerified: boolean): Channel[] {
  const locked: Channel[] = [];
  if (category === "security") locked.push("email");
  if (!SMS_CATEGORIES.has(category) || !mobileVerified) locked.push("sms");
  return locked;
}

/** Stored choices (only those that differ from the defaults) completed with the defaults and locks. */
export function effectivePreferences(
  stored: ReadonlyMap<NotificationCategory, Channels>,
  mobileVerified: boolean,
): CategoryPreference[] {
  return NOTIFICATION_CATEGORIES.map((key) => {
    const chosen = stored.get(key) ?? DEFAULT_CHANNELS;
    const channels: Channels = {
      email: key === "security" ? true : chosen.email,
      in_app: chosen.in_app,
      sms: SMS_CATEGORIES.has(key) && mobileVerified ? chosen.sms : false,
    };
    return { key, channels, locked: lockedChannels(key, mobileVerified) };
  });
}

export type PreferencesUpdate = Array<{ key: NotificationCategory; channels: Partial<Channels> }>;

/**
 * A `PUT`: each category given, with the channels given (others keep their value). A locked channel
 * may be sent with its locked value (a client echoing the `GET`), never changed.
 */
export function applyUpdate(
  current: readonly CategoryPreference[],
  update: PreferencesUpdate,
  mobileVerified: boolean,
): { next: Map<NotificationCategory, Channels>; problems: FieldError[] } {
  const next = new Map(current.map((c) => [c.key, { ...c.channels }]));
  const problems: FieldError[] = [];
  const seen = new Set<string>();
  update.forEach((item, index) => {
    const path = `categories.${index}`;
    if (seen.has(item.key)) {
      problems.push({ path: `${path}.key`, code: "duplicate", message: `${item.key} is listed twice` });
      return;
    }
    seen.add(item.key);
    const channels = next.get(item.key) as Channels;
    for (const channel of CHANNELS) {
      const value = item.channels[channel];
      if (value === undefined) continue;
      const problem = refusal(item.key, channel, value, mobileVerified);
      if (problem) problems.push({ path: `${path}.channels.${channel}`, ...problem });
      else channels[channel] = value;
    }
  });
  return { next, problems };
}

function refusal(
  category: NotificationCategory,
  channel: Channel,
  value: boolean,
  mobileVerified: boolean,
): { code: string; message: string } | undefined {
  if (category === "security" && channel === "email" && !value)
    return { code: "locked", message: "Security emails cannot be turned off" };
  if (channel !== "sms" || !value) return undefined;
  if (!SMS_CATEGORIES.has(category))
    return {
      code: "locked",
      message: "Text messages are only for critical notifications (security and billing)",
    };
  if (!mobileVerified)
    return {
      code: "mobile_not_verified",
      message: "Verify your mobile number first (Settings → Profile) to get text messages",
    };
  return undefined;
}
