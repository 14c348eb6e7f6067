import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { receiptKeySet } from "../../consent/receipts";
import { ReceiptKeySet } from "../../consent/schemas";
import type { AppEnv } from "../app-env";
import { answerAsProblem } from "../problem";
import { jsonAnswer } from "../responses";

const getReceiptKeys = createRoute({
  operationId: "getReceiptKeys",
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["meta"],
  summary: "The public keys that verify consent receipts (a JWK Set)",
  description:
    "Every configured receipt signing key: the one that signs now and those rotated out but still listed, so that older receipts keep verifying by their `kid`. " +
    "Public parts only; cacheable for 5 minutes.",
  responses: { 200: jsonAnswer("The key set", ReceiptKeySet) },
});

/** The receipt keys, public so that anyone holding a receipt can verify it without asking us. */
export const receiptKeysApi = new OpenAPIHono<AppEnv>().onError(answerAsProblem).openapi(getReceiptKeys, (c) =>
  c.json(receiptKeySet(c.env), 200, { "Cache-Control": "public, max-age=300" }),
);
