import type { ApiKeyView } from "./api-keys.service.js";

/** A key as the API shows it, never its secret (the key routes, and the data of `api_key.*` events). */
export function apiKeyView(key: ApiKeyView) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    effective_scopes: key.effectiveScopes,
    allowed_ips: key.allowedIps,
    created_by: key.createdBy,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
    expires_at: key.expiresAt,
    last_used_at: key.lastUsedAt,
    last_used_ip: key.lastUsedIp,
    previous_secret_expires_at: key.previousExpiresAt,
  };
}
