import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { sessionStateFor } from "../auth/session-response.js";
import { seatLimitOf } from "../billing/seats.js";
import { closureDeleteAt } from "../closure/closure-guard.js";
import type { Config } from "../config.js";
import { sessionOf, userActor } from "../http/context.js";
import { refuseReadOnly } from "../http/read-only.js";
import { Body, errorResponses, Nullable, SessionStateSchema, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { AccountProfileChanges } from "./accounts.service.js";
import { accountView } from "./accounts.views.js";
import { OrganizationFields, OrganizationInput } from "./organization.js";

export const AccountSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  logo_url: Nullable(
    Type.String({ description: "The uploaded logo, within 512×512 (PUT …/logo); read-only" }),
  ),
  logo_thumb_url: Nullable(Type.String({ description: "The same, within 128×128" })),
  ...OrganizationFields,
  contact_email: Nullable(Type.String()),
  default_role_id: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  closure_delete_at: Type.Optional(
    Nullable(
      Type.String({
        format: "date-time",
        description: "When the account is deleted (a scheduled closure), else null",
      }),
    ),
  ),
});
const LOGO_READ_ONLY = "The logo is set by uploading an image: PUT /api/v1/accounts/{id}/logo";
const Params = Type.Object({ account_id: Str(64) });

export function registerAccountsRoutes(app: FastifyInstance, services: Services, config: Config) {
  const { accountsService } = services;
  const tags = ["accounts"];
  /** The account as GET and PATCH show it: with the date a scheduled closure deletes it. */
  const withClosure = async <T extends { id: string }>(account: T) => ({
    ...account,
    closure_delete_at: await closureDeleteAt(services.db, account.id),
  });

  app.get(
    "/api/v1/accounts",
    {
      config: { allowOutsideIpAllowlist: true },
      schema: {
        tags,
        summary: "Your accounts",
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                id: Type.String(),
                name: Type.String(),
                slug: Type.String(),
                role: Type.Object({ id: Type.String(), key: Type.String(), name: Type.String() }),
                current: Type.Boolean(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const list = await accountsService.list(session.userId);
      return {
        data: list.map((m) => ({
          id: m.accountId,
          name: m.accountName,
          slug: m.accountSlug,
          role: { id: m.role.id, key: m.role.key, name: m.role.name },
          current: m.accountId === session.accountId,
        })),
      };
    },
  );

  app.post(
    "/api/v1/accounts",
    {
      schema: {
        tags,
        summary: "Create another account; you become its Root",
        body: Body({ name: Str(200, { minLength: 1 }) }),
        response: { 201: AccountSchema, ...errorResponses(400) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          accountView(
            await accountsService.create(userActor(request), (request.body as { name: string }).name),
          ),
        ),
  );

  app.get(
    "/api/v1/accounts/:account_id",
    {
      schema: {
        tags,
        summary: "Account profile",
        params: Params,
        response: { 200: AccountSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const accountId = (request.params as { account_id: string }).account_id;
      return withClosure(accountView(await accountsService.get(userActor(request).id, accountId)));
    },
  );

  app.patch(
    "/api/v1/accounts/:account_id",
    {
      preValidation: refuseReadOnly({ logo_url: LOGO_READ_ONLY, logo_thumb_url: LOGO_READ_ONLY }),
      schema: {
        tags,
        summary: "Change the account profile",
        params: Params,
        body: Body({
          name: Type.Optional(Str(200, { minLength: 1 })),
          ...OrganizationInput,
          contact_email: Type.Optional(Nullable(Type.String({ format: "email", maxLength: 254 }))),
          default_role_id: Type.Optional(Nullable(Str(64))),
        }),
        response: { 200: AccountSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const accountId = (request.params as { account_id: string }).account_id;
      return withClosure(
        accountView(
          await accountsService.updateProfile(
            userActor(request),
            accountId,
            request.body as AccountProfileChanges,
          ),
        ),
      );
    },
  );

  app.post(
    "/api/v1/accounts/:account_id/switch",
    {
      // Leaving a blocked account is allowed; the account switched to must allow the IP (path check).
      // It moves a person's session: no API key.
      config: { allowOutsideIpAllowlist: true, apiKeys: false },
      schema: {
        tags,
        summary: "Make this the session's active account (under its session limits)",
        params: Params,
        response: { 200: SessionStateSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const accountId = (request.params as { account_id: string }).account_id;
      return sessionStateFor(services, config, await accountsService.switchTo(session, accountId));
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/seats",
    {
      schema: {
        tags,
        summary: "Seat usage: active + suspended + deactivated members + open invitations",
        params: Params,
        response: {
          200: Type.Object({
            plan: Type.Union([
              Type.Literal("free"),
              Type.Literal("pro"),
              Type.Literal("team"),
              Type.Literal("enterprise"),
            ]),
            limit: Nullable(Type.Integer()),
            used: Type.Integer(),
            active: Type.Integer(),
            suspended: Type.Integer(),
            deactivated: Type.Integer(),
            pending: Type.Integer(),
          }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      const accountId = (request.params as { account_id: string }).account_id;
      const seats = await accountsService.seats(userActor(request).id, accountId);
      const { plan, limit } = await seatLimitOf(services.db, services.billing.plans, accountId);
      return { plan, limit, ...seats };
    },
  );
}
