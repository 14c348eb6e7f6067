// The SDK's client inside the Workers runtime (as a Worker calling the gateway would use it),
// against the real gateway through its fetch handler: faults are injected by wrapping that fetch.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
// Not through src/sdk/index.ts: vite warns that standardwebhooks' source map names missing files,
// and a passing run is quiet. verifyWebhook is tested in test/e2e/sdk.test.ts.
import { authorize, getClient } from "../../src/sdk/client.ts";
import { basicAuth } from "../../src/sdk/request.ts";
import { BASE } from "../helpers/gateway";

const gateway = (request: Request) => exports.default.fetch(request);
const identifier = () => `sdk-${crypto.randomUUID()}@example.com`;

describe("the SDK in the Workers runtime", () => {
  it("a write whose answer is lost is retried with the same Idempotency-Key and recorded once", async () => {
    const keys: (string | null)[] = [];
    let lost = false;
    // The first attempt reaches the gateway and is recorded, then its answer is lost (as on a dropped connection).
    const flaky = async (request: Request) => {
      keys.push(request.headers.get("Idempotency-Key"));
      const response = await gateway(request);
      if (!lost) {
        lost = true;
        await response.body?.cancel();
        throw new TypeError("Network connection lost.");
      }
      return response;
    };
    const client = authorize(getClient({ baseUrl: BASE, fetch: flaky }), basicAuth("acme", "acme-secret"));
    const who = identifier();
    const published = await client.publishConsentEvent(null, { type: "OPT_IN", topic: "EMAIL_MARKETING", identifier: who });
    expect(published.status).toBe(201);
    expect(published.headers.get("Idempotent-Replayed")).toBe("true");
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);

    const { data } = await client.listConsentEvents({ identifier: who });
    expect(data.total).toBe(1);
  });
});
