// Plain helpers for the webhooks and notifications pages, kept apart from React so test/web checks them.
import type { EventType, NotificationCategory, NotificationChannel } from "./types.js";

export const ALL_EVENTS = "*";

/** The prefix of an event type: `member.invited` → `member`. */
export function eventPrefix(type: string): string {
  const dot = type.indexOf(".");
  return dot === -1 ? type : type.slice(0, dot);
}

/** The catalog grouped by prefix (member., team., role., invoice.…), in the catalog's order. */
export function groupEventTypes(types: readonly EventType[]): [string, EventType[]][] {
  const groups = new Map<string, EventType[]>();
  for (const type of types) {
    const prefix = eventPrefix(type.type);
    groups.set(prefix, [...(groups.get(prefix) ?? []), type]);
  }
  return [...groups.entries()];
}

/** "All events", "1 event", "4 events": what an endpoint listens to, in a word. */
export function eventsSummary(events: readonly string[]): string {
  if (events.includes(ALL_EVENTS)) return "All events";
  return `${events.length} event${events.length === 1 ? "" : "s"}`;
}

/** An example payload as the receiver gets it (`{type, timestamp, data}`), pretty-printed. */
export function examplePayload(type: EventType): string {
  return JSON.stringify({ type: type.type, timestamp: "2025-01-01T12:00:00Z", data: type.example }, null, 2);
}

/** The host of an endpoint, for a readable name ("hooks.example.com"); the URL itself when it is not one. */
export function webhookHost(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

const CATEGORY_LABELS: Record<string, string> = {
  security: "Security",
  members: "Members",
  billing: "Billing",
  product_updates: "Product updates",
  reports: "Reports",
};

const CATEGORY_HINTS: Record<string, string> = {
  security: "Sign-ins from new devices, password and two-factor changes",
  members: "Invitations accepted, members joining, leaving or changing role",
  billing: "Invoices, payment failures, plan changes",
  product_updates: "New features and changes to Gatehouse",
  reports: "Scheduled exports and summaries",
};

export const CHANNEL_LABELS: Record<NotificationChannel, string> = {
  email: "Email",
  in_app: "In the app",
  sms: "Text message",
};

export function categoryLabel(key: string): string {
  return CATEGORY_LABELS[key] ?? key.charAt(0).toUpperCase() + key.slice(1).replaceAll("_", " ");
}

export function categoryHint(key: string): string | null {
  return CATEGORY_HINTS[key] ?? null;
}

/**
 * Why a locked cell can't change, or null when it can: SMS waits for a verified mobile number; any
 * other lock is the server's rule ("Security email can't be turned off").
 */
export function lockReason(
  category: NotificationCategory,
  channel: NotificationChannel,
  mobileVerified: boolean,
): string | null {
  if (channel === "sms" && !mobileVerified) return "Verify your mobile number to get SMS alerts";
  if (!category.locked.includes(channel)) return null;
  const what = channel === "in_app" ? "in-app notices" : channel === "sms" ? "text messages" : "email";
  return `${categoryLabel(category.key)} ${what} can't be turned ${category.channels[channel] ? "off" : "on"}`;
}

/** "Notifications, 3 unread" — the bell's accessible name. */
export function bellLabel(unread: number): string {
  if (unread <= 0) return "Notifications, none unread";
  return `Notifications, ${unread} unread`;
}

/** The badge's text: the count up to 99, then "99+". */
export function badgeText(unread: number): string {
  return unread > 99 ? "99+" : String(unread);
}
