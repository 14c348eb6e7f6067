import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ApiError } from "./api-error";
import type { AppEnv } from "./app-env";

export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

const requireJsonType = createMiddleware<AppEnv>(async (c, next) => {
  if (!JSON_TYPE.test(c.req.header("Content-Type") ?? "")) {
    throw new ApiError("unsupported_media_type", "The request body must be JSON (Content-Type: application/json).");
  }
  await next();
});

const limitSize = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError("payload_too_large", `The request body must be at most ${MAX_BODY_BYTES} bytes.`);
  },
});

/** Guards for a route that takes a JSON body: 415 for another media type, 413 above 1 MiB. */
export const jsonBody = [requireJsonType, limitSize] as const;
