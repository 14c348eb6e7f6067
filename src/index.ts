import { OpenAPIHono } from "@hono/zod-openapi";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { ApiError } from "./http/api-error";
import { answerAsProblem } from "./http/problem";
import type { AppEnv } from "./http/app-env";
import { collectApi } from "./http/copilot/collect";
import { copilotApi } from "./http/copilot/consent";
import { epilotApi } from "./http/epilot/routes";
import { importApi } from "./http/epilot/import";
import { preferencePages } from "./http/links/preferences";
import { linkPages } from "./http/links/routes";
import { serveOpenApi } from "./http/meta/openapi";
import { proofApi } from "./http/proof/routes";
import { receiptKeysApi } from "./http/proof/receipt-keys";
import { rightsApi } from "./http/rights/routes";
import { privateByDefault, securityHeaders } from "./http/response-headers";
import { webhooksApi } from "./http/webhooks/routes";

import type { FeedEntry } from "./storage/event-record";
import { consumeFeedBatch } from "./storage/feed/consumer";
import { consumeWebhookBatch } from "./storage/webhooks/delivery";
import { WEBHOOK_QUEUE_NAME, type WebhookMessage } from "./storage/webhooks/messages";

export { IdentifierLedger } from "./storage/ledger/identifier-ledger";
export { IdempotencyRecord } from "./storage/idempotency/idempotency-record";

const app = new OpenAPIHono<AppEnv>();
app.use(
  requestId(),
  securityHeaders,
  privateByDefault,
  methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      answerAsProblem(new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${methods.join(", ")}.`, [], { Allow: methods.join(", ") }), c),
  }),
);
app.route("/", epilotApi);
app.route("/", importApi);
app.route("/", proofApi);
app.route("/", rightsApi);
app.route("/", copilotApi);
app.route("/", collectApi);
app.route("/", linkPages);
app.route("/", preferencePages);
app.route("/", receiptKeysApi);
app.route("/", webhooksApi);
serveOpenApi(app);

app.notFound((c) => answerAsProblem(new ApiError("not_found", `There is no route ${c.req.method} ${c.req.path}.`), c));
// What no surface answered itself (the meta routes, 404, 405): problem details.
app.onError(answerAsProblem);

/**
 * The worker: HTTP through the app; the feed queue's batches into D1, the webhook queue's (and
 * its dead-letter queue's, when re-driven) to the endpoints.
 */
export default {
  fetch: app.fetch,
  queue: (batch: MessageBatch<FeedEntry | WebhookMessage>, env: Env) =>
    batch.queue.startsWith(WEBHOOK_QUEUE_NAME) ? consumeWebhookBatch(batch as MessageBatch<WebhookMessage>, env) : consumeFeedBatch(batch as MessageBatch<FeedEntry>, env),
} satisfies ExportedHandler<Env, FeedEntry | WebhookMessage>;

/** The app itself, for tests that call it with their own bindings. */
export { app };
