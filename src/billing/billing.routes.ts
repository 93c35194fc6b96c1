import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str } from "../http/schemas.js";
import type { Services } from "../services.js";
import { type InvoiceRecord, invoiceView, listInvoiceLines } from "./invoices.repository.js";
import { annualSaving, type Interval, type PlanId } from "./plans.js";

const Period = Type.Object({ start: Type.String(), end: Type.String() });
export const InvoiceLineSchema = Type.Object({
  kind: Type.String(),
  description: Type.String(),
  quantity: Type.Integer(),
  unit_amount: Type.Integer(),
  amount: Type.Integer(),
  period: Period,
});
const Overview = Type.Object({
  plan: Type.String(),
  plan_name: Type.String(),
  interval: Nullable(Type.String()),
  seats: Type.Object({ used: Type.Integer(), billed: Type.Integer(), limit: Nullable(Type.Integer()) }),
  unit_price: Type.Integer(),
  monthly_equivalent: Type.Integer(),
  current_period: Nullable(Period),
  next_billing_date: Nullable(Type.String()),
  estimated_next_amount: Nullable(Type.Integer()),
  ends_with: Nullable(Type.String()),
  credit_balance: Type.Integer(),
  auto_pay: Type.Boolean(),
  currency: Type.String(),
  usage: Type.Object({ api_calls: Type.Integer(), storage_bytes: Type.Integer() }),
  limits: Type.Object({
    api_rate_per_minute: Type.Integer({ description: "Requests each API key may make per minute" }),
    api_keys: Nullable(
      Type.Integer({ description: "Unrevoked API keys the account may hold; null = no limit" }),
    ),
    webhooks: Nullable(
      Type.Integer({ description: "Webhook endpoints the account may have; null = no limit" }),
    ),
  }),
  payment_method: Nullable(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      brand: Nullable(Type.String()),
      bank_name: Nullable(Type.String()),
      last4: Type.String(),
      exp_month: Nullable(Type.Integer()),
      exp_year: Nullable(Type.Integer()),
      default: Type.Boolean(),
      provider: Type.String(),
      provider_label: Type.String(),
      created_at: Type.String(),
    }),
  ),
});
const Params = Type.Object({ account_id: Str(64) });

/** A line before it is on an invoice (a preview) in the API shape. */
export const lineView = (l: {
  kind: string;
  description: string;
  quantity: number;
  unit_amount: number;
  amount: number;
  period_start: string;
  period_end: string;
}) => ({
  kind: l.kind,
  description: l.description,
  quantity: l.quantity,
  unit_amount: l.unit_amount,
  amount: l.amount,
  period: { start: l.period_start, end: l.period_end },
});

export function registerBillingRoutes(app: FastifyInstance, services: Services) {
  const { billing } = services;
  const tags = ["billing"];

  app.get(
    "/api/v1/plans",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "The plan catalog (prices in cents per seat per month)",
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                id: Type.String(),
                name: Type.String(),
                seat_limit: Nullable(Type.Integer()),
                api_rate_per_minute: Type.Integer(),
                api_keys_limit: Nullable(Type.Integer()),
                webhooks_limit: Nullable(Type.Integer()),
                custom_domains: Type.Boolean({ description: "Whether accounts may add custom domains" }),
                prices: Type.Object({ month: Type.Integer(), year_per_month: Type.Integer() }),
                currency: Type.String(),
                annual_saving_percent: Nullable(Type.Integer()),
                custom: Type.Boolean(),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      data: billing.plans.map((plan) => ({ ...plan, annual_saving_percent: annualSaving(plan) })),
    }),
  );

  app.get(
    "/api/v1/accounts/:account_id/billing",
    {
      schema: {
        tags,
        summary: "Plan, seats, current period, next bill, usage and payment method (billing:read)",
        params: Params,
        response: { 200: Overview, ...errorResponses(403, 404) },
      },
    },
    async (request) =>
      billing.overview(userActor(request).id, (request.params as { account_id: string }).account_id),
  );

  app.post(
    "/api/v1/accounts/:account_id/billing/subscription",
    {
      schema: {
        tags,
        summary:
          "Change plan or billing interval (billing:manage); with preview: true only the invoice it would make",
        params: Params,
        body: Body({
          plan: Type.Union(["free", "pro", "team", "enterprise"].map((p) => Type.Literal(p))),
          interval: Type.Optional(Type.Union([Type.Literal("month"), Type.Literal("year")])),
          preview: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: Type.Union([
            Type.Object({
              effective: Type.String(),
              period: Nullable(Period),
              lines: Type.Array(InvoiceLineSchema),
              subtotal: Type.Integer(),
              total: Type.Integer(),
              currency: Type.String(),
            }),
            Type.Object({ billing: Overview, invoice: Nullable(Type.Unknown()) }),
          ]),
          ...errorResponses(400, 402, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const body = request.body as { plan: PlanId; interval?: Interval; preview?: boolean };
      const result = await billing.changePlan(
        userActor(request),
        (request.params as { account_id: string }).account_id,
        { plan: body.plan, interval: body.interval ?? "month", preview: body.preview === true },
      );
      if ("preview" in result && result.preview) {
        return { ...result.preview, lines: result.preview.lines.map(lineView) };
      }
      const { billing: overview, invoice } = result as { billing: unknown; invoice: InvoiceRecord | null };
      return {
        billing: overview,
        invoice: invoice ? invoiceView(invoice, await listInvoiceLines(services.db, invoice.id)) : null,
      };
    },
  );

  app.delete(
    "/api/v1/accounts/:account_id/billing/subscription",
    {
      schema: {
        tags,
        summary: "Cancel at the end of the period (the account then returns to Free)",
        params: Params,
        response: { 200: Overview, ...errorResponses(403, 404, 409) },
      },
    },
    async (request) =>
      billing.cancel(userActor(request), (request.params as { account_id: string }).account_id),
  );
}
