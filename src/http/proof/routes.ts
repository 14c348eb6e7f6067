import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { exportFileName, exportHistory } from "../../consent/export";
import { ChainVerification, ConsentExport, ConsentReceipt, ConsentState, ConsentStateQuery, IdentifierPath } from "../../consent/schemas";
import { consentReceipt, consentState, verifyHistory } from "../../consent/service";
import type { AppEnv } from "../app-env";
import { authenticated } from "../authenticate";
import { answerAsProblem } from "../problem";
import { jsonAnswer, lookupRefusals, readRefusals } from "../responses";
import { throwOnInvalid } from "../validation";

const getConsentState = createRoute({
  operationId: "getConsentState",
  method: "get",
  path: "/v1/consent/{identifier}/state",
  tags: ["proof"],
  summary: "Whether the identifier may be contacted on each topic, now or at any instant",
  description:
    "For each topic of the identifier (or the one asked): granted, pending, withdrawn, expired or none, with the event that decides it " +
    "(README \"State\"). With at, what the status was (or will be, if nothing more is recorded) at that instant. Served by the identifier's ledger, " +
    "so it agrees with every acknowledged event; an identifier never seen answers none and writes nothing.",
  ...authenticated("consent:read"),
  request: { params: IdentifierPath, query: ConsentStateQuery },
  responses: { 200: jsonAnswer("The state per topic", ConsentState), ...readRefusals },
});

const verifyConsentHistory = createRoute({
  operationId: "verifyConsentHistory",
  method: "get",
  path: "/v1/consent/{identifier}/verify",
  tags: ["proof"],
  summary: "Re-checks the identifier's hash chain, in its ledger and in the feed's copy",
  description:
    "Recomputes every event's commitments and link in the identifier's ledger, then checks the feed's (D1) copy against it. " +
    "An identifier never seen answers {intact: true, length: 0} and writes nothing.",
  ...authenticated("consent:read"),
  request: { params: IdentifierPath },
  responses: { 200: jsonAnswer("What the check found", ChainVerification), ...readRefusals },
});

const getConsentReceipt = createRoute({
  operationId: "getConsentReceipt",
  method: "get",
  path: "/v1/consent/{identifier}/receipts/{seq}",
  tags: ["proof"],
  summary: "A signed receipt for one event of the identifier's history",
  description:
    "A compact JWS whose payload is the event's consent record (ISO/IEC TS 27560 names: pii_principal_id is the identifier's keyed hash, never the identifier), " +
    "with the chain's seq and hash. Verify it with the keys at /.well-known/jwks.json.",
  ...authenticated("consent:read"),
  request: {
    params: IdentifierPath.extend({
      seq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).openapi({ param: { name: "seq", in: "path" }, type: "integer", minimum: 1, example: 1 }),
    }),
  },
  responses: { 200: jsonAnswer("The receipt", ConsentReceipt), ...lookupRefusals },
});

const exportConsentHistory = createRoute({
  operationId: "exportConsentHistory",
  method: "get",
  path: "/v1/consent/{identifier}/export",
  tags: ["proof"],
  summary: "Everything held about the identifier, as one JSON file (GDPR Art. 15 and 20)",
  description:
    "The whole history, oldest first, with proof fields, chain hashes and a signed receipt per event, and the current state per topic (as getConsentState answers it), " +
    "as an attachment (Content-Disposition). An identifier never seen answers an empty history and writes nothing.",
  ...authenticated("consent:read"),
  request: { params: IdentifierPath },
  responses: {
    200: { ...jsonAnswer("The export", ConsentExport), headers: { "Content-Disposition": { description: 'attachment; filename="consent-export-<hash>-<date>.json"', schema: { type: "string" } } } },
    ...readRefusals,
  },
});

/** Proof of consent: state at any instant, the hash chain's verification and signed receipts. Errors are RFC 9457 problem details. */
export const proofApi = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid })
  .onError(answerAsProblem)
  .openapi(getConsentReceipt, async (c) => {
    const { identifier, seq } = c.req.valid("param");
    return c.json({ receipt: await consentReceipt(c.env, c.var.principal, identifier, seq) }, 200);
  })
  .openapi(getConsentState, async (c) => c.json(await consentState(c.env, c.var.principal, c.req.valid("param").identifier, c.req.valid("query")), 200))
  .openapi(exportConsentHistory, async (c) => {
    const document = await exportHistory(c.env, c.var.principal, c.req.valid("param").identifier);
    return c.json(document, 200, { "Content-Disposition": `attachment; filename="${exportFileName(document)}"` });
  })
  .openapi(verifyConsentHistory, async (c) => c.json(await verifyHistory(c.env, c.var.principal, c.req.valid("param").identifier), 200));
