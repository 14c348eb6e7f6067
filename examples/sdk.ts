// The README's SDK example, runnable as it stands against `npm run dev`:
//   npx node examples/sdk.ts
// (GATEWAY_URL overrides the server; `npx` runs the repository's Node 22, which strips the types.)
import { authorize, basicAuth, ConsentApiError, getClient } from "consent-gateway/sdk";

const client = getClient({ baseUrl: process.env.GATEWAY_URL ?? "http://127.0.0.1:8787" });
authorize(client, basicAuth("demo", "demo-secret")); // an API client; or a Bearer JWT: authorize(client, () => token)

const { data: event, status } = await client.publishConsentEvent(null, {
  type: "OPT_IN",
  topic: "EMAIL_MARKETING",
  source: "www.frontend.epilot.cloud",
  identifier: "exampleuser@epilot.cloud",
  meta: { double_opt_in: true, source_type: "journey" },
});
console.log(status, event.type, event.created_at); // 201 OPT_IN 2026-…

const { data: page } = await client.listConsentEvents({ identifier: "exampleuser@epilot.cloud", topic: "EMAIL_MARKETING", limit: 10, from: 0 });
console.log(`${page.total} event(s), newest: ${page.events[0]?.type}`);

const { data: links } = await client.requestDoubleOptIn(null, { topic: "NEWSLETTER", identifier: "exampleuser@epilot.cloud", lang: "en" });
const token = new URL(links.opt_in_url).pathname.split("/").pop()!;
const { data: html } = await client.handleOptInWithToken({ token, lang: "en" }); // public: no credentials sent
console.log(String(html).includes("Please confirm your consent") ? "opt-in page: English" : "opt-in page: ?");

try {
  await getClient({ baseUrl: process.env.GATEWAY_URL ?? "http://127.0.0.1:8787" }).listConsentEvents({ identifier: "jane@example.com" });
} catch (error) {
  if (error instanceof ConsentApiError && error.status === 401) console.log(`without credentials: ${error.problem?.detail}`);
  else throw error;
}
