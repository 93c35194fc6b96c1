import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { AuditEventSchema, auditEventView } from "../audit/audit.routes.js";
import { userActor } from "../http/context.js";
import { errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { CHART_METRICS, DATE_RANGES } from "../users/preferences.js";
import { type AccountOverview, OVERVIEW } from "./overview.service.js";

const literals = <T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );

const Params = Type.Object({ account_id: Str(64) });

const OverviewQuery = Type.Object(
  {
    range: Type.Optional(
      literals(DATE_RANGES, {
        description: "Days (UTC) up to today, or the last 12 calendar months by month; default last_30_days",
      }),
    ),
    metric: Type.Optional(
      literals(CHART_METRICS, {
        description:
          "What `series[].value` counts: active_users (people who signed in), logins, sessions (started), api_calls (by the account's API keys), errors (failed sign-ins + API key 4xx/5xx); default active_users",
      }),
    ),
  },
  { additionalProperties: false },
);

const MemberRefSchema = Type.Object({ user_id: Type.String(), name: Type.String(), email: Type.String() });

const OverviewSchema = Type.Object({
  range: literals(DATE_RANGES),
  metric: literals(CHART_METRICS),
  bucket: Type.Union([Type.Literal("day"), Type.Literal("month")]),
  from: Type.String({ description: "First day of the range (UTC), YYYY-MM-DD" }),
  to: Type.String({ description: "Last day of the range (UTC), YYYY-MM-DD" }),
  members: Type.Object({
    active: Type.Integer(),
    suspended: Type.Integer(),
    deactivated: Type.Integer({ description: "Turned their own login off; still a seat" }),
    pending: Type.Integer({ description: "Open invitations" }),
    seats_used: Type.Integer({ description: "active + suspended + deactivated + pending" }),
    seat_limit: Nullable(Type.Integer({ description: "null: no limit" })),
  }),
  mfa: Type.Object({
    members_with_mfa: Type.Integer(),
    members_total: Type.Integer({ description: "Active members (not suspended, login not turned off)" }),
    percent: Nullable(Type.Integer({ description: "Rounded; null when there are no active members" })),
    missing_required: Type.Array(MemberRefSchema, {
      description: `Active members whose role (or a team's role) must use a second factor and who have none (at most ${OVERVIEW.missingMfaLimit}, by name)`,
    }),
    missing_required_count: Type.Integer(),
  }),
  series: Type.Array(
    Type.Object({
      date: Type.String({ description: "The bucket: YYYY-MM-DD, or YYYY-MM for last_12_months" }),
      succeeded: Type.Integer({ description: "Sign-ins" }),
      failed: Type.Integer({
        description:
          "Failed sign-ins: wrong password or passkey, wrong second-factor code, refused by the IP allowlist",
      }),
      value: Type.Integer({ description: "The chosen metric" }),
    }),
  ),
  totals: Type.Object({
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    value: Type.Integer({ description: "For active_users: people who signed in over the whole range" }),
  }),
  inactive_members: Type.Object({
    since: Timestamp,
    count: Type.Integer(),
    data: Type.Array(
      Type.Object({
        user_id: Type.String(),
        name: Type.String(),
        email: Type.String(),
        last_login_at: Nullable(Timestamp),
      }),
      { description: `Longest without a sign-in first (never first), at most ${OVERVIEW.listLimit}` },
    ),
  }),
  recent_admin_activity: Nullable(
    Type.Array(AuditEventSchema, {
      description: "The newest admin events, as GET …/audit-events shows them; null without audit:read",
    }),
  ),
  billing: Nullable(
    Type.Object(
      {
        plan: Type.String(),
        plan_name: Type.String(),
        interval: Nullable(Type.String({ description: "month or year; null on Free" })),
        next_billing_date: Nullable(Timestamp),
        estimated_next_amount: Nullable(Type.Integer({ description: "Minor units (cents)" })),
        currency: Type.String(),
      },
      { description: "null without billing:read" },
    ),
  ),
});

function overviewView(o: AccountOverview): Static<typeof OverviewSchema> {
  const activity = o.recentAdminActivity;
  return {
    range: o.range,
    metric: o.metric,
    bucket: o.bucket,
    from: o.from,
    to: o.to,
    members: {
      active: o.members.active,
      suspended: o.members.suspended,
      deactivated: o.members.deactivated,
      pending: o.members.pending,
      seats_used: o.members.seatsUsed,
      seat_limit: o.members.seatLimit,
    },
    mfa: {
      members_with_mfa: o.mfa.membersWithMfa,
      members_total: o.mfa.membersTotal,
      percent: o.mfa.percent,
      missing_required: o.mfa.missingRequired.map((m) => ({
        user_id: m.userId,
        name: m.name,
        email: m.email,
      })),
      missing_required_count: o.mfa.missingRequiredCount,
    },
    series: o.series,
    totals: o.totals,
    inactive_members: {
      since: o.inactive.since,
      count: o.inactive.count,
      data: o.inactive.members.map((m) => ({
        user_id: m.userId,
        name: m.name,
        email: m.email,
        last_login_at: m.lastLoginAt,
      })),
    },
    recent_admin_activity: activity
      ? activity.events.map((event) => auditEventView(event, activity.names))
      : null,
    billing: o.billing && {
      plan: o.billing.plan,
      plan_name: o.billing.planName,
      interval: o.billing.interval,
      next_billing_date: o.billing.nextBillingDate,
      estimated_next_amount: o.billing.estimatedNextAmount,
      currency: o.billing.currency,
    },
  };
}

/** GET /api/v1/accounts/{id}/overview — the account overview (docs/api-accounts.md, "Overview"). */
export function registerOverviewRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { overview } = services;

  app.get(
    "/api/v1/accounts/:account_id/overview",
    {
      schema: {
        tags: ["accounts"],
        summary:
          "The account at a glance: members and seats, second-factor adoption, sign-ins and one metric over a range, inactive members, recent admin activity (audit:read) and the next bill (billing:read)",
        description: "Needs members:read. Days are UTC.",
        params: Params,
        querystring: OverviewQuery,
        response: { 200: OverviewSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const result = await overview.overview(userActor(request).id, request.params.account_id, {
        range: request.query.range ?? "last_30_days",
        metric: request.query.metric ?? "active_users",
      });
      return overviewView(result);
    },
  );
}
