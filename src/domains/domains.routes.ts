import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { sendProblem } from "../http/error-handler.js";
import { AppError } from "../http/errors.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { MAX_HOSTNAME_LENGTH } from "./hostnames.js";

const DomainSchema = Type.Object({
  id: Type.String({ description: "`dom_…`" }),
  hostname: Type.String({ description: "Lowercase ASCII (an internationalized name as punycode)" }),
  status: Type.Union([Type.Literal("pending"), Type.Literal("verified"), Type.Literal("failed")]),
  txt_record: Type.Object(
    { name: Type.String(), value: Type.String() },
    { description: "The TXT record to publish: `_gatehouse.<hostname>` = `gatehouse-verification=…`" },
  ),
  cname_target: Type.String({ description: "Where `<hostname>`'s CNAME must point (PUBLIC_HOSTNAME)" }),
  verified_at: Nullable(Timestamp),
  last_checked_at: Nullable(Timestamp),
  failure_reason: Nullable(
    Type.String({ description: "Which record is missing or wrong at the last check" }),
  ),
  created_at: Timestamp,
});

const notVerified = () => new AppError("not_found", "Not a verified custom domain");

const Params = Type.Object({ account_id: Str(64) });
const DomainParams = Type.Object({ account_id: Str(64), domain_id: Str(64) });

/** /api/v1/accounts/{id}/domains, and the two public answers about verified domains (docs/custom-domains.md). */
export function registerDomainsRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { domains } = services;
  const tags = ["domains"];
  const base = "/api/v1/accounts/:account_id/domains";

  app.post(
    base,
    {
      schema: {
        tags,
        summary: "Add a custom domain (account:update; Team plan and above): the records to publish",
        params: Params,
        body: Body({
          hostname: Str(MAX_HOSTNAME_LENGTH * 4, {
            minLength: 1,
            description: "login.example.com; unicode names are stored as punycode",
          }),
        }),
        response: { 201: DomainSchema, ...errorResponses(400, 402, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const domain = await domains.create(userActor(request), request.params.account_id, request.body);
      return reply.status(201).send(domains.view(domain));
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "The account's custom domains, oldest first (account:read)",
        params: Params,
        response: {
          200: Type.Object({ data: Type.Array(DomainSchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      const list = await domains.list(userActor(request).id, request.params.account_id);
      // At most 20 per account: one page.
      return { data: list.map(domains.view), next_cursor: null };
    },
  );

  app.get(
    `${base}/:domain_id`,
    {
      schema: {
        tags,
        summary: "One custom domain (account:read)",
        params: DomainParams,
        response: { 200: DomainSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) =>
      domains.view(
        await domains.get(userActor(request).id, request.params.account_id, request.params.domain_id),
      ),
  );

  app.delete(
    `${base}/:domain_id`,
    {
      schema: {
        tags,
        summary: "Remove a custom domain (account:update); it stops serving the account at once",
        params: DomainParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await domains.remove(userActor(request), request.params.account_id, request.params.domain_id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    `${base}/:domain_id/verify`,
    {
      schema: {
        tags,
        summary:
          "Look the TXT and CNAME records up now (account:update; 10 a minute per account); 409 when another account verified the name",
        params: DomainParams,
        response: { 200: DomainSchema, ...errorResponses(402, 403, 404, 409, 429) },
      },
    },
    async (request) =>
      domains.view(
        await domains.verify(userActor(request), request.params.account_id, request.params.domain_id),
      ),
  );

  // Caddy's on-demand TLS `ask`: a certificate only for verified custom domains. Public on purpose:
  // it says no more than DNS does (a verified domain's CNAME points here), and answers from a cache.
  app.get(
    "/internal/tls-allowed",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary:
          "Caddy's on-demand TLS check: 200 for a verified custom domain (or PUBLIC_URL's host), else 404",
        querystring: Type.Object({ domain: Type.Optional(Type.String({ maxLength: 1000 })) }),
        response: { 200: Type.Object({ allowed: Type.Literal(true) }), ...errorResponses(404) },
      },
      // Malformed input (a missing or absurd `domain`, control characters) is a 404 too: a plain "no".
      attachValidation: true,
      errorHandler: (error, _request, reply) =>
        sendProblem(reply, error instanceof AppError && error.status >= 500 ? error : notVerified()),
    },
    async (request) => {
      const domain = request.validationError ? undefined : request.query.domain;
      if (await domains.tlsAllowed(domain)) return { allowed: true as const };
      throw notVerified();
    },
  );

  app.get(
    "/.well-known/webauthn",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "WebAuthn related origins: the verified custom domains",
        response: { 200: Type.Object({ origins: Type.Array(Type.String()) }) },
      },
    },
    async (_request, reply) => {
      reply.header("cache-control", "public, max-age=300");
      return { origins: await domains.relatedOrigins() };
    },
  );
}
