import type { Context } from "hono";
import type { EventProof, Recording } from "../consent-event";
import type { AppEnv } from "./app-env";

/** How a request records an event: who sent it (its principal, on authenticated routes), its request id and the caller's IP. */
function requestProof(c: Context<AppEnv>): EventProof {
  const subject = c.get("principal")?.subject;
  const clientIp = c.req.header("CF-Connecting-IP");
  return { ...(subject === undefined ? {} : { recorded_by: subject }), request_id: c.var.requestId, ...(clientIp === undefined ? {} : { client_ip: clientIp }) };
}

/** How an API request records its events: its proof, and its idempotency record if it has one. */
export function requestRecording(c: Context<AppEnv>): Recording {
  const idempotencyRecord = c.get("idempotencyRecord");
  return { proof: requestProof(c), ...(idempotencyRecord === undefined ? {} : { idempotencyRecord }) };
}
