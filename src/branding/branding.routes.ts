import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str } from "../http/schemas.js";
import type { Services } from "../services.js";
import { BRANDED_TEMPLATES } from "./account-mails.js";
import type { BrandingPatch } from "./branding-input.js";
import { TEMPLATE_VARIABLES } from "./template-variables.js";

const variables = Object.keys(TEMPLATE_VARIABLES)
  .map((v) => `{{${v}}}`)
  .join(", ");

const OverrideSchema = Type.Object({ subject: Nullable(Type.String()), intro: Nullable(Type.String()) });
const BrandingSchema = Type.Object({
  primary_color: Nullable(
    Type.String({ description: "#rrggbb; at least 3:1 against both theme backgrounds" }),
  ),
  primary_text_color: Nullable(
    Type.String({
      description: "Read-only: #000000 or #ffffff, whichever reads at 4.5:1 or more on primary_color",
    }),
  ),
  logo_url: Nullable(Type.String({ description: "Read-only: set by uploading a logo" })),
  login_message: Nullable(Type.String()),
  support_url: Nullable(Type.String()),
  support_email: Nullable(Type.String()),
  privacy_url: Nullable(Type.String()),
  terms_url: Nullable(Type.String()),
  email_templates: Type.Object({ invitation: OverrideSchema, welcome: OverrideSchema }),
});

// Generous caps here; the exact limits (in characters), the contrast rule and the variables are the
// service's, which names every problem in one answer (src/branding/branding-input.ts).
const Text = (max: number, description: string) => Nullable(Str(max, { description }));
const OverridePatch = Nullable(
  Body({
    subject: Type.Optional(Text(1000, `At most 150 characters, one line; may use ${variables}`)),
    intro: Type.Optional(Text(10_000, `At most 2000 characters; may use ${variables}`)),
  }),
);
const PatchFields = {
  primary_color: Type.Optional(Text(100, "#rrggbb or #rgb (stored lower-case #rrggbb); null: the default")),
  login_message: Type.Optional(Text(2000, "Plain text shown on the log-in page, at most 280 characters")),
  support_url: Type.Optional(Text(4000, "http(s) address")),
  support_email: Type.Optional(Text(1000, "Email address")),
  privacy_url: Type.Optional(Text(4000, "http(s) address")),
  terms_url: Type.Optional(Text(4000, "http(s) address")),
  email_templates: Type.Optional(
    Body({ invitation: Type.Optional(OverridePatch), welcome: Type.Optional(OverridePatch) }),
  ),
};
const PatchBody = Body(PatchFields);
const Template = Type.Union(
  BRANDED_TEMPLATES.map((t) => Type.Literal(t)),
  { description: "Which mail" },
);

const PublicBrandingSchema = Type.Object({
  branded: Type.Boolean(),
  account_name: Nullable(Type.String()),
  logo_url: Nullable(Type.String()),
  primary_color: Nullable(Type.String()),
  primary_text_color: Nullable(Type.String()),
  login_message: Nullable(Type.String()),
  support_url: Nullable(Type.String()),
  support_email: Nullable(Type.String()),
  privacy_url: Nullable(Type.String()),
  terms_url: Nullable(Type.String()),
  passkeys: Type.Boolean({ description: "Whether the log-in page on this host offers passkeys" }),
});

const Params = Type.Object({ account_id: Str(64) });

/** Drops keys the client left out (TypeBox's Static marks optional keys as possibly undefined). */
const patchOf = (body: Static<typeof PatchBody>): BrandingPatch => body as BrandingPatch;

/** /api/v1/accounts/{id}/branding and the public GET /api/v1/branding — see docs/branding.md. */
export function registerBrandingRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { branding, publicBranding } = services;
  const tags = ["branding"];
  const base = "/api/v1/accounts/:account_id/branding";

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "The account's branding (account:read; every member)",
        params: Params,
        response: { 200: BrandingSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => branding.get(userActor(request), request.params.account_id),
  );

  app.patch(
    base,
    {
      schema: {
        tags,
        summary:
          "Change the branding (account:update): absent fields stay, null returns a field to the default. A colour under 3:1 against either theme's background is refused naming both ratios",
        params: Params,
        body: PatchBody,
        response: { 200: BrandingSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => branding.update(userActor(request), request.params.account_id, patchOf(request.body)),
  );

  app.post(
    `${base}/preview`,
    {
      schema: {
        tags,
        summary:
          "Render the invitation or welcome mail with the saved branding and these unsaved fields over it, with sample values (account:update)",
        params: Params,
        body: Body({ template: Template, branding: Type.Optional(PatchBody) }),
        response: {
          200: Type.Object({ subject: Type.String(), html: Type.String(), text: Type.String() }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) =>
      branding.preview(
        userActor(request),
        request.params.account_id,
        request.body.template,
        patchOf(request.body.branding ?? {}),
      ),
  );

  app.post(
    `${base}/test-email`,
    {
      // A test mail goes to the person asking: an API key has no mailbox.
      config: { apiKeys: false },
      schema: {
        tags,
        summary: "Send the invitation or welcome mail, as saved, to yourself (account:update; 5 an hour)",
        params: Params,
        body: Body({ template: Template }),
        response: {
          202: Type.Object({ status: Type.Literal("queued") }),
          ...errorResponses(400, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      await branding.sendTest(userActor(request), request.params.account_id, request.body.template);
      return reply.status(202).send({ status: "queued" as const });
    },
  );

  app.get(
    "/api/v1/branding",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary:
          "The log-in page's branding, without authentication: the account of a verified custom domain (the Host), else of ?account=<slug>. Unknown and unbranded accounts answer the same",
        querystring: Type.Object({ account: Type.Optional(Str(200)) }, { additionalProperties: false }),
        response: { 200: PublicBrandingSchema, ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      const json = await publicBranding.lookup({
        host: request.hostname ?? "",
        slug: request.query.account,
        ip: request.ip ?? null,
      });
      // Already JSON text (cached as such, the same bytes for every unbranded answer): sent as is.
      return reply
        .type("application/json; charset=utf-8")
        .send(json as unknown as Static<typeof PublicBrandingSchema>);
    },
  );
}
