import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { basic, call } from "../helpers/gateway";
import { expectSuccessOrRefusal, field, hostileString, objectText, RUNS } from "./arbitraries";

const create = (body: string) =>
  call("/v1/webhooks", { method: "POST", headers: { "Content-Type": "application/json", Authorization: basic("hooks") }, body });

const endpointCount = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_endpoints").first<{ n: number }>())!.n;

const octet = fc.integer({ min: 0, max: 255 });
/** An IPv4 address in a range no webhook may point at, written as the URL parser reads it. */
const privateV4 = fc.oneof(
  fc.tuple(fc.constant(10), octet, octet, octet),
  fc.tuple(fc.constant(127), octet, octet, octet),
  fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
  fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
  fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
  fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
);
/** The same address in the spellings a URL accepts for it: dotted, one number, hexadecimal, IPv4-mapped IPv6. */
const spelled = privateV4.chain((o) => {
  const n = ((o[0] * 256 + o[1]) * 256 + o[2]) * 256 + o[3];
  const hex = (i: number) => ((o[i]! << 8) | o[i + 1]!).toString(16);
  return fc.constantFrom(o.join("."), String(n), `0x${n.toString(16)}`, `[::ffff:${hex(0)}:${hex(2)}]`);
});

describe("property: webhook endpoints", { timeout: 60_000 }, () => {
  it("every body gets 201 or a well-formed 4xx, and a refusal stores nothing", () =>
    fc.assert(
      fc.asyncProperty(
        objectText({
          url: field(fc.constantFrom('"https://crm.example.com/h"', '"http://crm.example.com/h"', '"https://10.0.0.1/"', '"https://localhost/"').map(String)),
          topics: field(fc.constantFrom('["NEWSLETTER"]', "[]", '["A","A"]')),
          types: field(fc.constantFrom('["OPT_IN"]', '["consent.erased"]', '["NOPE"]')),
          description: field(hostileString.map((s) => JSON.stringify(s))),
        }),
        async (body) => {
          const before = await endpointCount();
          const response = await create(body);
          if (await expectSuccessOrRefusal(response, 201, "epilot", body)) {
            const endpoint = await response.json<{ url: string; secret: string }>();
            expect(new URL(endpoint.url).protocol, body).toBe("https:");
            expect(endpoint.secret, body).toMatch(/^whsec_/);
          } else expect(await endpointCount(), body).toBe(before);
        },
      ),
      { numRuns: RUNS },
    ));

  it("a private IPv4 address is refused however it is spelled, with any port and path", () =>
    fc.assert(
      fc.asyncProperty(spelled, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), fc.webPath(), async (host, port, path) => {
        const url = `https://${host}${port === undefined ? "" : `:${port}`}${path}`;
        const response = await create(JSON.stringify({ url }));
        expect(response.status, url).toBe(400);
        expect((await response.json<any>()).errors, url).toEqual([expect.objectContaining({ path: "url", code: "private_address" })]);
      }),
      { numRuns: RUNS },
    ));
});
