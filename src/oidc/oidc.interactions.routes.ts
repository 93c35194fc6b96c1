import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type Provider from "oidc-provider";
import type { InteractionModel } from "oidc-provider";
import type { Config } from "../config.js";
import { assertCsrf } from "../http/auth-hook.js";
import { sessionOf } from "../http/context.js";
import { AppError } from "../http/errors.js";
import { errorResponses, Nullable, Str } from "../http/schemas.js";
import { safeEqual } from "../lib/crypto.js";
import type { Services } from "../services.js";
import { activeMemberships, saveAuthorization } from "./oidc.claims.js";
import { OIDC_SCOPES } from "./oidc.clients.repository.js";
import {
  API_SCOPES,
  apiAudience,
  INTERACTION_COOKIE,
  interactionBinding,
  SELECT_ACCOUNT_PROMPT,
} from "./oidc.provider.js";

const ACCOUNT_SCOPE = "gatehouse:account";

const Role = Type.Object({ key: Type.String(), name: Type.String() });
const Membership = Type.Object({ account_id: Type.String(), account_name: Type.String(), role: Role });
const InteractionView = Type.Object({
  uid: Type.String(),
  client: Type.Object({
    client_id: Type.String(),
    name: Type.String(),
    logo_uri: Nullable(Type.String()),
    party: Type.Union([Type.Literal("first"), Type.Literal("third")]),
  }),
  scopes: Type.Array(Type.String()),
  needs_account: Type.Boolean(),
  consent_required: Type.Boolean(),
  signed_in: Type.Boolean(),
  accounts: Type.Array(Membership),
});
const Params = Type.Object({ uid: Str(64, { minLength: 1 }) });

async function findInteraction(provider: Provider, uid: string): Promise<InteractionModel> {
  const interaction = await provider.Interaction.find(uid);
  if (!interaction || interaction.exp * 1000 <= Date.now()) {
    throw new AppError(
      "interaction_not_found",
      "This sign-in request is unknown or has expired: start again",
    );
  }
  return interaction;
}

const requestedScopes = (interaction: InteractionModel) =>
  String(interaction.params.scope ?? "")
    .split(" ")
    .filter(
      (s) => (OIDC_SCOPES as readonly string[]).includes(s) || (API_SCOPES as readonly string[]).includes(s),
    );

/**
 * The web app's side of an authorization request (`/authorize/{uid}`): what the client asks for, and
 * the user's answer. Completing binds the interaction to the Gatehouse session's user and the chosen
 * account (oidc_authorizations), then hands the browser back to the provider (`redirect_to`).
 */
export function registerOidcInteractionRoutes(fastify: FastifyInstance, services: Services, config: Config) {
  const { secretKey } = config;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { oidc, oidcClients: clients, db } = services;

  app.get(
    "/api/v1/oidc/interactions/:uid",
    {
      config: { auth: "none" },
      schema: {
        tags: ["oidc"],
        summary: "An authorization request waiting for the user (the /authorize/{uid} page)",
        params: Params,
        response: { 200: InteractionView, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      reply.header("cache-control", "no-store");
      const interaction = await findInteraction(oidc.provider(), request.params.uid);
      const client = await clients.find(db, interaction.params.client_id);
      if (!client) throw new AppError("interaction_not_found", "The application is no longer registered");
      const scopes = requestedScopes(interaction);
      const session = request.session;
      return {
        uid: interaction.uid,
        client: {
          client_id: client.clientId,
          name: client.name,
          logo_uri: client.logoUri,
          party: client.party,
        },
        scopes,
        needs_account: scopes.includes(ACCOUNT_SCOPE),
        consent_required: client.party === "third",
        signed_in: session !== undefined,
        accounts: session ? await activeMemberships(db, session.userId) : [],
      };
    },
  );

  app.post(
    "/api/v1/oidc/interactions/:uid/complete",
    {
      schema: {
        tags: ["oidc"],
        summary: "Approve or deny an authorization request; answers where to send the browser",
        params: Params,
        body: Type.Object(
          { approve: Type.Boolean(), account_id: Type.Optional(Str(64, { minLength: 1 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ redirect_to: Type.String() }), ...errorResponses(403, 404, 422) },
      },
    },
    async (request, reply) => {
      reply.header("cache-control", "no-store");
      const session = sessionOf(request);
      assertCsrf(request, secretKey);
      // The provider of this request throughout, even if a key rotation replaces it meanwhile.
      const provider = oidc.provider();
      const interaction = await findInteraction(provider, request.params.uid);
      // Only the browser that started the request may finish it (its cookie, set when it was sent here).
      const binding = request.cookies[INTERACTION_COOKIE];
      if (!binding || !safeEqual(binding, interactionBinding(secretKey, interaction.uid))) {
        throw new AppError("forbidden", "This sign-in request was started in another browser");
      }
      const ttl = Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
      if (!request.body.approve) {
        interaction.result = { error: "access_denied", error_description: "The user denied the request" };
        await interaction.save(ttl);
        return { redirect_to: interaction.returnTo };
      }
      const scopes = requestedScopes(interaction);
      const accountId = request.body.account_id;
      if (scopes.includes(ACCOUNT_SCOPE) && !accountId) {
        throw new AppError("invalid_fields", "Choose the account to sign in to", {
          errors: [{ path: "/account_id", message: "Choose an account", code: "required" }],
        });
      }
      if (accountId) {
        const memberships = await activeMemberships(db, session.userId);
        if (!memberships.some((m) => m.account_id === accountId)) {
          throw new AppError("forbidden", "You are not an active member of that account");
        }
      }
      const grant = await grantFor(provider, interaction, session.userId);
      const oidcScopes = scopes.filter((s) => (OIDC_SCOPES as readonly string[]).includes(s));
      const apiScopes = scopes.filter((s) => (API_SCOPES as readonly string[]).includes(s));
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(" "));
      // An API resource grant even without API scopes: the access token (a JWT for /api) needs one.
      grant.addResourceScope(apiAudience(config.publicUrl), apiScopes.join(" "));
      const grantId = await grant.save();
      await saveAuthorization(
        db,
        {
          grantId,
          clientId: interaction.params.client_id,
          userId: session.userId,
          accountId: accountId ?? null,
          sessionId: session.id,
          // Set when the provider completes the authorization (oidc.provider.ts).
          sid: null,
          scopes,
        },
        services.clock.now(),
      );
      interaction.result = {
        login: { accountId: session.userId },
        consent: { grantId },
        // The account was chosen (or the only one confirmed) here: a `prompt=select_account` is answered.
        [SELECT_ACCOUNT_PROMPT]: {},
      };
      await interaction.save(ttl);
      return { redirect_to: interaction.returnTo };
    },
  );
}

/** The interaction's grant when it belongs to this user, else a new one. */
async function grantFor(provider: Provider, interaction: InteractionModel, userId: string) {
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  if (existing && existing.accountId === userId) return existing;
  return new provider.Grant({ accountId: userId, clientId: interaction.params.client_id });
}
