import { z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { bytesToHex } from "@noble/hashes/utils.js";
import { errorFields, log } from "../log";
import { idempotencyRecordFor } from "../storage/idempotency/address";
import type { StoredResponse } from "../storage/idempotency/idempotency-record";
import { ApiError, type FieldError } from "./api-error";
import type { AppEnv } from "./app-env";

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** An RFC 8941 sf-string, as the IETF draft spells the header: `"…"` with `\"` and `\\` escapes. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/**
 * The header, documented once (a parameter component, registered by serveOpenApi) and referenced
 * by every idempotent operation. `idempotent` reads and checks it; the schema only documents it.
 */
export const IdempotencyKey = z
  .string()
  .optional()
  .openapi("IdempotencyKey", {
    param: { name: IDEMPOTENCY_KEY_HEADER, in: "header" },
    description:
      `Makes a retry safe: within 24 hours, a request with the same key and the same body answers the first one's answer and records nothing new; ` +
      `the same key with another body is refused (422), and while the first is still running a retry is told to wait (409). ` +
      `Keys belong to the caller's organization and this operation. 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, sent as they are or as an RFC 8941 string ("…").`,
    example: "8e03978e-40d5-43e8-bc93-6894a57f9324",
  });

/** An idempotent operation's `request.headers` (Hono's header validator sees lower-cased names: this one only documents). */
export const IdempotencyHeaders = z.object({ [IDEMPOTENCY_KEY_HEADER]: IdempotencyKey });

const refusal = (code: string, message: string): ApiError => {
  const error: FieldError = { location: "header", path: IDEMPOTENCY_KEY_HEADER, code, message };
  return new ApiError("validation", `The ${IDEMPOTENCY_KEY_HEADER} header is invalid.`, [error]);
};

/** The key a header value names (an sf-string's content, or the value as sent), or a 400. */
function parseKey(value: string): string {
  const quoted = SF_STRING.exec(value);
  const key = quoted ? quoted[1]!.replace(/\\(["\\])/g, "$1") : value;
  if (key.length === 0) throw refusal("too_small", "must not be empty");
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) throw refusal("too_big", `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  if (/[\x00-\x1f\x7f]/.test(key)) throw refusal("control_character", "must not contain control characters");
  if (/[^\x20-\x7e]/.test(key)) throw refusal("invalid_format", "must be printable ASCII");
  return key;
}

async function stored(response: Response): Promise<StoredResponse> {
  return { status: response.status, contentType: response.headers.get("Content-Type") ?? "", body: await response.clone().text() };
}

const replay = (response: StoredResponse) =>
  new Response(response.body, { status: response.status, headers: { "Content-Type": response.contentType, "Idempotent-Replayed": "true" } });

/**
 * Makes `operation` idempotent under the Idempotency-Key header (IETF httpapi draft): the first
 * successful answer of a key is kept 24 hours and replayed to every retry with the same body.
 * Goes after authentication (the key belongs to the principal's organization) and after the body
 * guards, whose bytes it digests from Hono's body cache (read once, parsed later by the validator).
 *
 * Only a success is kept. A refusal records nothing, so its key is released and a retry runs
 * again (with a corrected body, say); so is a failure (5xx), which must not be pinned for a day,
 * although a 500 may come after the event was recorded: a retry then records it twice.
 */
export const idempotent = (operation: string) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (header === undefined) return next();
    const key = parseKey(header);
    const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", await c.req.arrayBuffer())));
    const record = await idempotencyRecordFor(c.env, c.var.principal.organizationId, operation, key);
    const claim = await record.claim(digest);
    switch (claim.state) {
      case "done":
        return replay(claim.response);
      case "mismatch":
        throw new ApiError(
          "idempotency_key_reused",
          `This ${IDEMPOTENCY_KEY_HEADER} was used with another request body in the last 24 hours; use a new key for a new request.`,
        );
      case "erased":
        throw new ApiError(
          "idempotency_key_erased",
          `The answer to this ${IDEMPOTENCY_KEY_HEADER} named a history that has since been erased (eraseConsentHistory); it is not kept, and nothing was recorded again.`,
        );
      case "in_flight":
        throw new ApiError(
          "idempotency_key_in_flight",
          `A request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; send it again after Retry-After seconds for its answer.`,
          [],
          { "Retry-After": "1" },
        );
    }
    // The handler records its events with the record's id: an erasure of their history makes it forget the answer.
    c.set("idempotencyRecord", record.id.toString());
    await next();
    try {
      if (c.res.ok) await record.complete(claim.token, await stored(c.res));
      else await record.release(claim.token);
    } catch (error) {
      // The answer stands (the event may be recorded); the claim lapses by itself after its lease.
      log(c.env, "warn", "idempotency record not updated", { request_id: c.get("requestId"), operation, ...errorFields(error) });
    }
  });
