import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { AddressSchema } from "../accounts/organization.js";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { invoiceView } from "./invoices.repository.js";
import { paymentMethodView } from "./payment-methods.repository.js";

const Period = Type.Object({ start: Timestamp, end: Timestamp });
const invoiceFields = {
  id: Type.String(),
  number: Type.String(),
  status: Type.Union([
    Type.Literal("draft"),
    Type.Literal("open"),
    Type.Literal("paid"),
    Type.Literal("void"),
  ]),
  period: Period,
  subtotal: Type.Integer({ description: "Cents" }),
  total: Type.Integer({ description: "Cents" }),
  currency: Type.String(),
  created_at: Timestamp,
  paid_at: Nullable(Timestamp),
  payment_attempts: Type.Integer(),
  next_payment_at: Nullable(Timestamp),
  last_payment_error: Nullable(Type.String()),
  bill_to: Type.Object(
    { legal_name: Type.String(), address: Nullable(AddressSchema), tax_id: Nullable(Type.String()) },
    { description: "Who is billed, as the account's profile said when the invoice was issued" },
  ),
};
const InvoiceSummarySchema = Type.Object(invoiceFields);
const InvoicesQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union(
        (["draft", "open", "paid", "void", "failed"] as const).map((s) => Type.Literal(s)),
        { description: 'Only invoices with this status; "failed": open after a failed payment attempt' },
      ),
    ),
  },
  { additionalProperties: false },
);
const InvoiceSchema = Type.Object({
  ...invoiceFields,
  lines: Type.Array(
    Type.Object({
      kind: Type.Union([Type.Literal("seats"), Type.Literal("proration"), Type.Literal("credit")]),
      description: Type.String(),
      quantity: Type.Integer(),
      unit_amount: Type.Integer({ description: "Cents" }),
      amount: Type.Integer({ description: "Cents; credits are negative" }),
      period: Period,
    }),
  ),
});
const PaymentMethodSchema = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal("card"), Type.Literal("ach")]),
  brand: Nullable(Type.String()),
  bank_name: Nullable(Type.String()),
  last4: Type.String(),
  exp_month: Nullable(Type.Integer()),
  exp_year: Nullable(Type.Integer()),
  default: Type.Boolean(),
  provider: Type.String(),
  provider_label: Type.String(),
  created_at: Timestamp,
});
const ProviderSchema = Type.Object({ name: Type.String(), label: Type.String(), test_mode: Type.Boolean() });

const Params = Type.Object({ account_id: Str(64) });
const InvoiceParams = Type.Object({ account_id: Str(64), invoice_id: Str(64) });
const MethodParams = Type.Object({ account_id: Str(64), method_id: Str(64) });

export function registerPaymentsRoutes(app: FastifyInstance, services: Services) {
  const { payments } = services;
  const { provider } = payments;
  const tags = ["billing"];
  const base = "/api/v1/accounts/:account_id";
  const params = (request: { params: unknown }) =>
    request.params as { account_id: string; invoice_id: string; method_id: string };
  const providerView = { name: provider.name, label: provider.label, test_mode: provider.test_mode };

  app.get(
    `${base}/payment-methods`,
    {
      schema: {
        tags,
        summary: "Payment methods, the default first",
        params: Params,
        response: {
          200: Type.Object({ data: Type.Array(PaymentMethodSchema), provider: ProviderSchema }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => ({
      data: (await payments.listMethods(userActor(request).id, params(request).account_id)).map((m) =>
        paymentMethodView(m, provider),
      ),
      provider: providerView,
    }),
  );

  app.post(
    `${base}/payment-methods`,
    {
      schema: {
        tags,
        summary: "Add a payment method from a provider token (the first one becomes the default)",
        params: Params,
        body: Body({
          type: Type.Union([Type.Literal("card"), Type.Literal("ach")]),
          token: Str(255, { minLength: 1 }),
          default: Type.Optional(Type.Boolean()),
        }),
        response: { 201: PaymentMethodSchema, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const body = request.body as { type: "card" | "ach"; token: string; default?: boolean };
      const method = await payments.addMethod(userActor(request), params(request).account_id, {
        type: body.type,
        token: body.token,
        ...(body.default !== undefined ? { makeDefault: body.default } : {}),
      });
      return reply.status(201).send(paymentMethodView(method, provider));
    },
  );

  app.patch(
    `${base}/payment-methods/:method_id`,
    {
      schema: {
        tags,
        summary: "Make a payment method the default",
        params: MethodParams,
        body: Body({ default: Type.Literal(true) }),
        response: { 200: PaymentMethodSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) =>
      paymentMethodView(
        await payments.makeDefault(userActor(request), params(request).account_id, params(request).method_id),
        provider,
      ),
  );

  app.delete(
    `${base}/payment-methods/:method_id`,
    {
      schema: {
        tags,
        summary: "Remove a payment method (removing the default makes the newest remaining one the default)",
        params: MethodParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await payments.removeMethod(userActor(request), params(request).account_id, params(request).method_id);
      return reply.status(204).send();
    },
  );

  app.patch(
    `${base}/billing/auto-pay`,
    {
      schema: {
        tags,
        summary: "Turn automatic payment of invoices on or off (needs a paid plan)",
        params: Params,
        body: Body({ auto_pay: Type.Boolean() }),
        response: { 200: Type.Object({ auto_pay: Type.Boolean() }), ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => {
      const result = await payments.setAutoPay(
        userActor(request),
        params(request).account_id,
        (request.body as { auto_pay: boolean }).auto_pay,
      );
      return { auto_pay: result.autoPay };
    },
  );

  app.get(
    `${base}/invoices`,
    {
      schema: {
        tags,
        summary: "Invoices, newest first (without lines)",
        params: Params,
        querystring: InvoicesQuery,
        response: {
          200: Type.Object({ data: Type.Array(InvoiceSummarySchema) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => ({
      data: (
        await payments.listInvoices(
          userActor(request).id,
          params(request).account_id,
          (request.query as Static<typeof InvoicesQuery>).status,
        )
      ).map((i) => invoiceView(i)),
    }),
  );

  app.get(
    `${base}/invoices.csv`,
    {
      schema: {
        tags,
        summary: "The invoice list as CSV (totals in dollars)",
        params: Params,
        response: {
          200: { description: "CSV", content: { "text/csv": { schema: Type.String() } } },
          ...errorResponses(403, 404),
        },
      },
    },
    async (request, reply) => {
      const csv = await payments.invoicesCsv(userActor(request).id, params(request).account_id);
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", 'attachment; filename="invoices.csv"')
        .send(csv);
    },
  );

  app.get(
    `${base}/invoices/:invoice_id`,
    {
      schema: {
        tags,
        summary: "One invoice with its lines",
        params: InvoiceParams,
        response: { 200: InvoiceSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { invoice, lines } = await payments.getInvoice(
        userActor(request).id,
        params(request).account_id,
        params(request).invoice_id,
      );
      return invoiceView(invoice, lines);
    },
  );

  app.get(
    `${base}/invoices/:invoice_id/pdf`,
    {
      schema: {
        tags,
        summary: "The invoice as a PDF",
        params: InvoiceParams,
        response: {
          200: {
            description: "PDF",
            content: { "application/pdf": { schema: Type.Unsafe({ type: "string", format: "binary" }) } },
          },
          ...errorResponses(403, 404),
        },
      },
    },
    async (request, reply) => {
      const { filename, body } = await payments.invoicePdf(
        userActor(request).id,
        params(request).account_id,
        params(request).invoice_id,
      );
      return reply
        .type("application/pdf")
        .header("content-disposition", `attachment; filename="${filename.replace(/[^\w.-]/g, "_")}"`)
        .send(body);
    },
  );

  app.post(
    `${base}/invoices/:invoice_id/pay`,
    {
      schema: {
        tags,
        summary: "Pay an open invoice now with the default payment method (402 payment_failed on a decline)",
        params: InvoiceParams,
        response: { 200: InvoiceSchema, ...errorResponses(402, 403, 404, 409) },
      },
    },
    async (request) => {
      const { invoice, lines } = await payments.payNow(
        userActor(request),
        params(request).account_id,
        params(request).invoice_id,
      );
      return invoiceView(invoice, lines);
    },
  );
}
