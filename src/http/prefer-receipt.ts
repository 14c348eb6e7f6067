import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ConsentEvent } from "../consent-event";
import { receiptOfRecorded } from "../consent/service";
import type { AppEnv } from "./app-env";

/** The `Prefer` header (RFC 7240) an operation that records an event reads: `return=receipt` adds the event's receipt. */
export const PreferReceipt = z.object({
  Prefer: z
    .string()
    .optional()
    .openapi({ param: { name: "Prefer", in: "header" }, description: "return=receipt: the answer also carries the recorded event's signed receipt (README \"Receipts\")", example: "return=receipt" }),
});

/** The receipt field an answer carries when asked for. */
export const ReceiptField = { receipt: z.string().optional().openapi({ description: "With Prefer: return=receipt, the recorded event's signed receipt (a compact JWS)" }) };

const asksForReceipt = (c: Context<AppEnv>) => (c.req.header("Prefer") ?? "").split(/[,;]/).some((token) => token.trim().toLowerCase() === "return=receipt");

/** `answer` with the event's receipt when the caller asked for it, saying so (Preference-Applied); as it is otherwise (upstream's answer). */
export async function withReceipt<T extends object>(c: Context<AppEnv>, answer: T, event: ConsentEvent): Promise<T & { receipt?: string }> {
  if (!asksForReceipt(c)) return answer;
  c.header("Preference-Applied", "return=receipt");
  return { ...answer, receipt: await receiptOfRecorded(c.env, c.var.principal, event) };
}
