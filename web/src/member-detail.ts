// Words for the member detail page: devices, second factors, sign-ins and audit events, kept apart from
// React so that test/web checks them.

export type DeviceInfo = { browser: string; os: string; type: string };

/** "Firefox 128 on macOS"; "Unknown device" when the user agent said nothing recognisable. */
export function deviceLabel(device: DeviceInfo): string {
  const browser = device.browser === "Unknown" ? null : device.browser;
  const os = device.os === "Unknown" ? null : device.os;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? (os ? `A browser on ${os}` : "Unknown device");
}

const FACTOR_NAMES: Readonly<Record<string, string>> = {
  totp: "Authenticator app",
  email: "Email codes",
  sms: "Text message codes",
  passkey: "Passkey",
};

export function factorTypeName(type: string): string {
  return FACTOR_NAMES[type] ?? type;
}

/** "Authenticator app, 2 passkeys" — the kinds of second factor, in a stable order. */
export function factorSummary(factors: ReadonlyArray<{ type: string }>): string {
  if (factors.length === 0) return "None";
  const counts = new Map<string, number>();
  for (const factor of factors) counts.set(factor.type, (counts.get(factor.type) ?? 0) + 1);
  const order = Object.keys(FACTOR_NAMES);
  const rank = (type: string) => (order.includes(type) ? order.indexOf(type) : order.length);
  return [...counts.entries()]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([type, count]) => {
      const name = factorTypeName(type);
      if (count === 1) return name;
      return type === "passkey" ? `${count} passkeys` : `${name} (${count})`;
    })
    .join(", ");
}

const METHOD_NAMES: Readonly<Record<string, string>> = {
  totp: "authenticator app",
  email: "email code",
  sms: "text message code",
  passkey: "passkey",
  recovery_code: "recovery code",
};

/** "Signed in with a passkey", "Failed attempt" … one sign-in in words. */
export function loginOutcome(login: { succeeded: boolean; method: string | null }): string {
  if (!login.succeeded) return "Failed attempt";
  if (!login.method) return "Signed in";
  const how = METHOD_NAMES[login.method] ?? login.method;
  return `Signed in (${how})`;
}

/** "member.role_changed" → "Member role changed": readable without a sentence catalog. */
export function actionLabel(action: string): string {
  const words = action
    .replace(/[._]/g, " ")
    .replace(/\b(mfa|totp|sms|ip)\b/g, (word) => word.toUpperCase())
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

type Event = { id: string; created_at: string };

/**
 * The member's recent events as actor or as target, newest first, each once (an event can be both),
 * at most `limit`.
 */
export function mergeEvents<T extends Event>(
  asActor: readonly T[],
  asTarget: readonly T[],
  limit: number,
): T[] {
  const byId = new Map<string, T>();
  for (const event of [...asActor, ...asTarget]) byId.set(event.id, event);
  return [...byId.values()]
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0))
    .slice(0, limit);
}

/** The member's part in an event: what the table's "Role" column says. */
export function eventRole(
  event: { actor: { id: string | null } | null; target: { id: string | null } | null },
  userId: string,
): string {
  const acted = event.actor?.id === userId;
  const target = event.target?.id === userId;
  if (acted && target) return "By and about them";
  return acted ? "By them" : "About them";
}

// The member detail endpoints' answers (API.md, "Member detail").
export type MemberSession = {
  id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  device: DeviceInfo;
};

export type MemberLogin = {
  id: string;
  at: string;
  succeeded: boolean;
  ip: string | null;
  user_agent: string | null;
  device: DeviceInfo;
  method: string | null;
};

export type MemberMfa = {
  enabled: boolean;
  factors: Array<{
    id: string;
    type: string;
    label: string;
    created_at: string;
    last_used_at: string | null;
  }>;
  recovery_codes_remaining: number;
};
