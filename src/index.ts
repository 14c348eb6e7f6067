import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./http/app-env";
import { copilotApi } from "./http/copilot";
import { epilotApi } from "./http/epilot";
import { notFound } from "./http/not-found";
import { linkPages } from "./http/opt-in-links";
import { serveOpenApi } from "./http/openapi";
import { problemResponse } from "./http/problem";

export { IdentifierLedger } from "./storage/identifier-ledger";

const app = new OpenAPIHono<AppEnv>();
app.route("/", epilotApi);
app.route("/", copilotApi);
app.route("/", linkPages);
serveOpenApi(app);

app.notFound(notFound(app));
app.onError(problemResponse);

export default app;
