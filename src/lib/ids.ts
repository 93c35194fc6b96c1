import { randomBytes } from "node:crypto";

export const ID_PREFIXES = {
  user: "usr",
  account: "acct",
  membership: "mem",
  role: "role",
  session: "sess",
  token: "tok",
  event: "evt",
  mail: "mail",
  history: "pwh",
  invitation: "inv",
  team: "team",
  resource: "res",
  factor: "mfa",
  challenge: "chl",
  recovery: "rc",
  code: "code",
  sms: "sms",
  webauthn: "wac",
  emailChange: "emc",
  device: "dev",
  invoice: "in",
  invoiceLine: "il",
  paymentMethod: "pm",
  resetRequest: "prq",
  apiKey: "key",
  requestLog: "rlog",
  notification: "ntf",
  webhook: "wh",
  webhookDelivery: "whd",
  webhookAttempt: "wha",
  domain: "dom",
  export: "exp",
  exportSchedule: "sched",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

/** Prefixed, random, URL-safe: 16 random bytes → 22 base64url characters. */
export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${randomBytes(16).toString("base64url")}`;
}

/** API keys act as principals wherever a user id is taken (src/roles/access.ts). */
export function isApiKeyId(id: string): boolean {
  return id.startsWith(`${ID_PREFIXES.apiKey}_`);
}
