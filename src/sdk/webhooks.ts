/**
 * Checks a webhook delivery from the gateway: Standard Webhooks signatures (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`), by the specification's own verifier.
 */
import { Webhook, WebhookVerificationError } from "standardwebhooks";

export { WebhookVerificationError };

/**
 * The delivery's JSON, once its signature and timestamp (within 5 minutes) check out; else throws
 * WebhookVerificationError. `payload` is the body exactly as received (the raw text or bytes: a
 * body parsed and serialised again no longer matches), `secret` the endpoint's `whsec_…` secret.
 */
export function verifyWebhook<T = unknown>(payload: string | Uint8Array, headers: Headers | Record<string, string>, secret: string): T {
  const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
  const record = headers instanceof Headers ? Object.fromEntries(headers.entries()) : headers;
  return new Webhook(secret).verify(text, record) as T;
}
