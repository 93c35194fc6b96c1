import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { POLICY_BOUNDS } from "../auth/password-policy.js";
import { actorOf, userActor } from "../http/context.js";
import { errorResponses, Nullable, Str } from "../http/schemas.js";
import type { Services } from "../services.js";
import { MFA_GRACE_BOUNDS, MFA_METHODS, SESSION_BOUNDS } from "./account-settings.js";
import type { SecurityChanges } from "./accounts.service.js";
import { clientIp, IP_ALLOWLIST_LIMITS } from "./ip-allowlist.js";

const int = (bounds: { min: number; max: number }) =>
  Type.Integer({ minimum: bounds.min, maximum: bounds.max });

const PasswordPolicyFields = {
  min_length: int(POLICY_BOUNDS.min_length),
  require_upper: Type.Boolean(),
  require_lower: Type.Boolean(),
  require_digit: Type.Boolean(),
  require_special: Type.Boolean(),
  history: int(POLICY_BOUNDS.history),
  expiry_days: Nullable(int(POLICY_BOUNDS.expiry_days)),
  min_strength: Type.Integer({
    minimum: POLICY_BOUNDS.min_strength.min,
    maximum: POLICY_BOUNDS.min_strength.max,
    description: "The lowest zxcvbn strength score (0–4) a new password must reach; 0 = not checked",
  }),
};
const SessionFields = {
  idle_minutes: int(SESSION_BOUNDS.idle_minutes),
  absolute_hours: int(SESSION_BOUNDS.absolute_hours),
};

const MfaFields = {
  required_role_ids: Type.Array(Str(64), { maxItems: 100 }),
  allowed_methods: Type.Array(Type.Union(MFA_METHODS.map((m) => Type.Literal(m))), { maxItems: 4 }),
  grace_days: int(MFA_GRACE_BOUNDS),
};

// Entries longer than maxEntryLength are refused by normalizeIpAllowlist, with a message naming them.
const IpAllowlist = Type.Array(Type.String({ maxLength: 1024 }), {
  maxItems: IP_ALLOWLIST_LIMITS.maxEntries,
  description: "IPv4/IPv6 addresses and CIDR ranges allowed to log in and use the account; empty = any",
});

const SecuritySchema = Type.Object({
  password_policy: Type.Object(PasswordPolicyFields),
  session: Type.Object(SessionFields),
  mfa: Type.Object(MfaFields),
  ip_allowlist: Type.Array(Type.String()),
  current_ip: Nullable(
    Type.String({ description: "The caller's IP address as the allowlist sees it (to offer adding it)" }),
  ),
});

const SecurityPatch = Type.Object(
  {
    password_policy: Type.Optional(
      Type.Partial(Type.Object(PasswordPolicyFields), { additionalProperties: false }),
    ),
    session: Type.Optional(Type.Partial(Type.Object(SessionFields), { additionalProperties: false })),
    mfa: Type.Optional(Type.Partial(Type.Object(MfaFields), { additionalProperties: false })),
    ip_allowlist: Type.Optional(IpAllowlist),
  },
  { additionalProperties: false },
);

const AccountParams = Type.Object({ account_id: Str(64) });

export function registerSecurityRoutes(app: FastifyInstance, services: Services) {
  const { accountsService } = services;

  app.get(
    "/api/v1/accounts/:account_id/security",
    {
      schema: {
        tags: ["accounts"],
        summary: "The account's password, session, MFA and IP allowlist policies",
        params: AccountParams,
        response: { 200: SecuritySchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { account_id } = request.params as { account_id: string };
      const settings = await accountsService.getSecurity(userActor(request).id, account_id);
      return { ...settings, current_ip: clientIp(actorOf(request).ip) ?? null };
    },
  );

  app.patch(
    "/api/v1/accounts/:account_id/security",
    {
      schema: {
        tags: ["accounts"],
        summary: "Change the account's password, session, MFA and IP allowlist policies",
        params: AccountParams,
        body: SecurityPatch,
        response: { 200: SecuritySchema, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => {
      const { account_id } = request.params as { account_id: string };
      const actor = userActor(request);
      const settings = await accountsService.updateSecurity(
        actor,
        account_id,
        request.body as SecurityChanges,
      );
      return { ...settings, current_ip: clientIp(actor.ip) ?? null };
    },
  );
}
