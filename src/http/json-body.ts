import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ApiError, PayloadTooLarge } from "./api-error";
import type { AppEnv } from "./app-env";
import { inspectJson } from "./strict-json";

export const MAX_BODY_BYTES = 1024 * 1024;

/** The media types Hono's JSON validator reads (application/json and application/*+json). */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

const requireJsonType = createMiddleware<AppEnv>(async (c, next) => {
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ApiError("unsupported_media_type", "The request body must be JSON (Content-Type: application/json).");
  }
  await next();
});

/** Refuses a body over `maxBytes` with 413. */
export const limitBody = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLarge(maxBytes);
    },
  });

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The body as strict UTF-8 text (read from Hono's body cache), or a 400. */
export async function bodyText(c: Context<AppEnv>): Promise<string> {
  try {
    return utf8.decode(await c.req.arrayBuffer());
  } catch {
    throw new ApiError("validation", "The request body is not valid UTF-8.", [
      { location: "body", path: "", code: "invalid_utf8", message: "is not valid UTF-8" },
    ]);
  }
}

/**
 * Reads the body as strict UTF-8 JSON and refuses what would not be stored exactly as sent
 * (see strict-json.ts). The bytes stay in Hono's body cache, where the route's validator parses them.
 */
const requireFaithfulJson = createMiddleware<AppEnv>(async (c, next) => {
  const text = await bodyText(c);
  const problem = inspectJson(text);
  if (problem?.code === "malformed_json") {
    throw new ApiError("validation", `The request body is not valid JSON (${problem.message}).`, [
      { location: "body", path: "", code: "malformed_json", message: "is not valid JSON" },
    ]);
  }
  if (problem) throw new ApiError("validation", "The request body is invalid.", [{ location: "body", ...problem }]);
  await next();
});

/** Guards for a route that takes a JSON body: 415 for another media type, 413 above 1 MiB, 400 for unfaithful JSON. */
export const jsonBody = [requireJsonType, limitBody(MAX_BODY_BYTES), requireFaithfulJson] as const;
