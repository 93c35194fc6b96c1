export {
  type Authentication,
  createGatehouseAuth,
  type GatehouseAuth,
  type GatehouseAuthOptions,
  GatehouseError,
  type GatehouseIdentity,
  identityFromClaims,
} from "./auth.js";
export {
  createGatehouseClient,
  type GatehouseClient,
  type GatehouseClientOptions,
  type paths,
} from "./client.js";
export { type GatehouseClaims, type VerifyOptions, verifyAccessToken } from "./tokens.js";
export { verifyWebhook, WebhookVerificationError } from "./webhooks.js";
