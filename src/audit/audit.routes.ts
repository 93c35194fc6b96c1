import type { FastifyInstance } from "fastify";
import type { Services } from "../services.js";

/** GET /api/v1/accounts/{id}/audit-events — see docs/api-accounts.md. */
export function registerAuditRoutes(_app: FastifyInstance, _services: Services) {}
