import { Webhook, WebhookVerificationError } from "standardwebhooks";

export { WebhookVerificationError };

/**
 * Verifies a Gatehouse webhook delivery (Standard Webhooks: `webhook-id`, `webhook-timestamp` within
 * 5 minutes, `webhook-signature` an HMAC-SHA256 by the endpoint's `whsec_…` secret) and returns the
 * parsed event; throws WebhookVerificationError otherwise. `payload` must be the raw body, unparsed.
 */
export function verifyWebhook<T = unknown>(
  payload: string | Buffer,
  headers: Record<string, string | string[] | undefined> | Headers,
  secret: string,
): T {
  const plain: Record<string, string> = {};
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) {
    if (value !== undefined) plain[name.toLowerCase()] = Array.isArray(value) ? value.join(" ") : value;
  }
  return new Webhook(secret).verify(
    typeof payload === "string" ? payload : payload.toString("utf8"),
    plain,
  ) as T;
}
