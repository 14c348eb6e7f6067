import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { eraseHistory } from "../../consent/erasure";
import { ErasureAnswer, ErasureRequestBody, IdentifierPath } from "../../consent/schemas";
import type { AppEnv } from "../app-env";
import { authenticated } from "../authenticate";
import { jsonBody } from "../json-body";
import { answerAsProblem } from "../problem";
import { jsonAnswer, jsonRequest, writeRefusals } from "../responses";
import { throwOnInvalid } from "../validation";

const eraseConsentHistory = createRoute({
  operationId: "eraseConsentHistory",
  method: "delete",
  path: "/v1/consent/{identifier}",
  tags: ["rights"],
  summary: "Erases the identifier's history (GDPR Art. 17), keeping a pseudonymous stub as proof",
  description:
    "Removes the identifier and every personal field (identifier, meta, client IP, source) from its ledger and from the feed (D1, the audience), " +
    "keeping a stub: the identifier's keyed hash, the event types, topics, times and seqs, the keyed commitments and the chain's links, so the stub's chain still verifies. " +
    "Records who erased, when and why. Afterwards listConsentEvents answers total 0, getConsentState erased: true, and a new event starts a new chain (seq 1, proof.follows_erasure). " +
    "Idempotent: with nothing recorded since, erasing again answers the same erasure. Needs the consent:erase scope, which no credential has unless it names it.",
  ...authenticated("consent:erase", ...jsonBody),
  request: { params: IdentifierPath, ...jsonRequest(ErasureRequestBody) },
  responses: { 200: jsonAnswer("The erasure and the stub it kept", ErasureAnswer), ...writeRefusals },
});

/** The data subject's rights: erasure. Errors are RFC 9457 problem details. */
export const rightsApi = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .onError(answerAsProblem)
  .openapi(eraseConsentHistory, async (c) => {
    const { identifier } = c.req.valid("param");
    return c.json(await eraseHistory(c.env, c.var.principal, identifier, c.req.valid("json").reason), 200);
  });
