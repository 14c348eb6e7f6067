import type { Principal } from "../auth/principal";
import { settings } from "../config";
import type { D1Reader } from "../storage/d1-reader";
import { deleteEndpoint, filterText, filterValues, findEndpoint, insertEndpoint, organizationEndpoints, recentDeliveries, replaceSecret, type EndpointRow } from "../storage/webhooks/endpoints";
import { newSecret, sealSecret } from "../storage/webhooks/secrets";
import type { WebhookEndpoint, WebhookRequestBody } from "./schemas";
import { checkWebhookUrl } from "./url-rules";

/** How long the secret before a rotation keeps signing beside the new one. */
const PREVIOUS_SECRET_MS = 24 * 60 * 60 * 1000;

/** An endpoint in the API's shape: never its secrets. */
function endpointOf(row: EndpointRow, now = new Date().toISOString()): WebhookEndpoint {
  const topics = filterValues(row.topics);
  const types = filterValues(row.types) as WebhookEndpoint["types"];
  return {
    id: row.id,
    url: row.url,
    ...(topics ? { topics } : {}),
    ...(types ? { types } : {}),
    ...(row.description === null ? {} : { description: row.description }),
    created_at: row.createdAt,
    ...(row.previousExpiresAt && row.previousExpiresAt > now ? { previous_secret_expires_at: row.previousExpiresAt } : {}),
  };
}

/** Registers an endpoint for the principal's organization; answers it with its secret, the only time the secret is shown. */
export async function createWebhook(env: Env, principal: Principal, body: WebhookRequestBody) {
  const url = checkWebhookUrl(body.url, settings(env).WEBHOOKS_ALLOW_LOCALHOST);
  const id = `wh_${crypto.randomUUID().replaceAll("-", "")}`;
  const secret = newSecret();
  const row: EndpointRow = {
    id,
    organizationId: principal.organizationId,
    url,
    description: body.description ?? null,
    topics: filterText(body.topics),
    types: filterText(body.types),
    secret: await sealSecret(env, id, secret),
    previousSecret: null,
    previousExpiresAt: null,
    createdAt: new Date().toISOString(),
  };
  await insertEndpoint(env.DB, row);
  return { ...endpointOf(row), secret };
}

export async function listWebhooks(db: D1Reader, principal: Principal): Promise<{ webhooks: WebhookEndpoint[] }> {
  return { webhooks: (await organizationEndpoints(db, principal.organizationId)).map((row) => endpointOf(row)) };
}

/** Removes an endpoint: nothing more is delivered to it, even what is queued. Answers whether it was there. */
export const deleteWebhook = (env: Env, principal: Principal, id: string) => deleteEndpoint(env.DB, principal.organizationId, id);

/**
 * A new secret for the endpoint; the one it replaces keeps signing beside it for 24 hours (a
 * secret from an earlier rotation stops at once). Undefined when the organization has no such endpoint.
 */
export async function rotateWebhookSecret(env: Env, principal: Principal, id: string) {
  // Of concurrent rotations each one's secret replaces the one it read, so none hands out a secret
  // that never signs: a rotation that lost the race rotates again from the winner's.
  for (;;) {
    const row = await findEndpoint(env.DB, principal.organizationId, id);
    if (!row) return undefined;
    const secret = newSecret();
    const rotated = await replaceSecret(env.DB, principal.organizationId, id, {
      secret: await sealSecret(env, id, secret),
      previousSecret: row.secret,
      previousExpiresAt: new Date(Date.now() + PREVIOUS_SECRET_MS).toISOString(),
      expected: row.secret,
    });
    if (rotated) return { ...endpointOf(rotated), secret };
  }
}

/** The endpoint's latest delivery attempts, newest first; undefined when the organization has no such endpoint. */
export async function listWebhookDeliveries(db: D1Reader, principal: Principal, id: string, limit: number) {
  if (!(await findEndpoint(db, principal.organizationId, id))) return undefined;
  const rows = await recentDeliveries(db, principal.organizationId, id, limit);
  return {
    deliveries: rows.map((r) => ({
      webhook_id: r.webhookId,
      type: r.type as "consent.event" | "consent.erased",
      attempt: r.attempt,
      status: r.status as "delivered" | "retrying" | "failed" | "dropped",
      ...(r.responseStatus === null ? {} : { response_status: r.responseStatus }),
      ...(r.error === null ? {} : { error: r.error }),
      attempted_at: r.attemptedAt,
    })),
  };
}
