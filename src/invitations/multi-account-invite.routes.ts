import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Str } from "../http/schemas.js";
import type { Services } from "../services.js";
import { InvitationSchema } from "./invitations.routes.js";
import { invitationView } from "./invitations.views.js";

const ItemError = Type.Object({ code: Type.String(), detail: Type.String() });

/** `POST /invitations`: the same addresses to several accounts, a role each (person-only). */
export function registerMultiAccountInviteRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { multiAccountInvite } = services;
  const Results = Type.Object({
    data: Type.Array(
      Type.Object({
        email: Type.String(),
        account_id: Type.String(),
        invitation: Type.Optional(InvitationSchema),
        error: Type.Optional(ItemError),
      }),
    ),
  });

  app.post(
    "/api/v1/invitations",
    {
      schema: {
        tags: ["invitations"],
        summary:
          "Invite addresses (≤ 50) to several accounts (≤ 20), a role each; per-address, per-account results. Each account is its own bulk invitation (permission, grant, seat limit, transaction); 201 when at least one invitation was created, else 200",
        body: Body({
          emails: Type.Array(Str(320), { minItems: 1, maxItems: 50 }),
          invites: Type.Array(
            Type.Object(
              {
                account_id: Str(64),
                role_id: Str(64),
                team_ids: Type.Optional(Type.Array(Str(64), { maxItems: 50 })),
              },
              { additionalProperties: false },
            ),
            { minItems: 1, maxItems: 20 },
          ),
          first_name: Type.Optional(Str(100)),
          last_name: Type.Optional(Str(100)),
        }),
        response: { 200: Results, 201: Results, ...errorResponses(400, 403) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const results = await multiAccountInvite.invite(userActor(request), {
        emails: body.emails,
        invites: body.invites.map((i) => ({
          accountId: i.account_id,
          roleId: i.role_id,
          ...(i.team_ids ? { teamIds: i.team_ids } : {}),
        })),
        ...(body.first_name !== undefined ? { firstName: body.first_name } : {}),
        ...(body.last_name !== undefined ? { lastName: body.last_name } : {}),
      });
      const created = results.some((r) => r.invitation);
      return reply.status(created ? 201 : 200).send({
        data: results.map((r) => ({
          email: r.email,
          account_id: r.accountId,
          ...(r.invitation ? { invitation: invitationView(r.invitation) } : {}),
          ...(r.error ? { error: r.error } : {}),
        })),
      });
    },
  );
}
