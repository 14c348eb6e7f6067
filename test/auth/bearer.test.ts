import { env } from "cloudflare:workers";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { verifyBearer } from "../../src/auth/bearer";
import { KeysUnavailable } from "../../src/auth/errors";
import { settings } from "../../src/config";
import { hs256, rs256 } from "../helpers/gateway";

describe("verifyBearer", () => {
  it("tells an unreachable identity provider (retry later) from a bad token", async () => {
    // The identity provider is down: its key endpoint fails as workerd's fetch does when the
    // connection is refused. (A real refused connection makes workerd print the error to the
    // terminal, caught or not.)
    const unreachableUrl = "https://idp.unreachable.test/.well-known/jwks.json";
    const realFetch = globalThis.fetch;
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) =>
      new Request(input).url === unreachableUrl ? Promise.reject(new Error("Network connection lost.")) : realFetch(input, init),
    );
    onTestFinished(() => fetchSpy.mockRestore());

    const unreachable = { ...settings(env), JWT_JWKS_URL: unreachableUrl };
    const token = (await rs256({ organization_id: "org-acme" })).slice("Bearer ".length);
    await expect(verifyBearer(token, unreachable)).rejects.toBeInstanceOf(KeysUnavailable);
    expect(fetchSpy.mock.calls.map(([input]) => new Request(input).url)).toEqual([unreachableUrl]);
    await expect(verifyBearer(token, settings(env))).resolves.toMatchObject({ organizationId: "org-acme", scheme: "bearer" });
  });

  it.each([
    ["answers 503", () => new Response("upstream down", { status: 503 })],
    ["answers HTML", () => new Response("<html>maintenance</html>", { status: 200, headers: { "Content-Type": "text/html" } })],
    ["answers no key set", () => Response.json({ keys: "none" })],
  ])("treats a key endpoint that %s as unavailable, not the token as forged", async (_, answer) => {
    const brokenUrl = `https://idp.${crypto.randomUUID()}.test/.well-known/jwks.json`;
    const realFetch = globalThis.fetch;
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) =>
      new Request(input).url === brokenUrl ? Promise.resolve(answer()) : realFetch(input, init),
    );
    onTestFinished(() => fetchSpy.mockRestore());
    const token = (await rs256({ organization_id: "org-acme" })).slice("Bearer ".length);
    await expect(verifyBearer(token, { ...settings(env), JWT_JWKS_URL: brokenUrl })).rejects.toBeInstanceOf(KeysUnavailable);
  });

  it("keeps a key set 10 minutes, and fetches it again for an unknown kid at most every 30 s", async () => {
    // The test's identity provider, under a URL of its own: a key set of its own, fetches counted.
    const url = `https://idp.${crypto.randomUUID()}.test/.well-known/jwks.json`;
    const realFetch = globalThis.fetch;
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) =>
      realFetch(new Request(input).url === url ? env.JWT_JWKS_URL : input, init),
    );
    vi.useFakeTimers({ toFake: ["Date"] });
    onTestFinished(() => {
      vi.useRealTimers();
      fetchSpy.mockRestore();
    });
    const fetches = () => fetchSpy.mock.calls.filter(([input]) => new Request(input).url === url).length;
    const config = { ...settings(env), JWT_JWKS_URL: url };
    const verify = async (kid?: string) =>
      verifyBearer((await rs256({ organization_id: "org-acme", jti: crypto.randomUUID() }, { kid })).slice("Bearer ".length), config);

    await verify();
    await verify();
    expect(fetches()).toBe(1);
    // A kid the set lacks: not fetched again within 30 s of the last fetch, then once.
    await expect(verify("rotated")).rejects.toThrow("The bearer token's signature does not verify.");
    expect(fetches()).toBe(1);
    vi.advanceTimersByTime(30_000);
    await expect(verify("rotated")).rejects.toThrow("The bearer token's signature does not verify.");
    await expect(verify("rotated")).rejects.toThrow("The bearer token's signature does not verify.");
    expect(fetches()).toBe(2);
    vi.advanceTimersByTime(10 * 60_000);
    await verify();
    expect(fetches()).toBe(3);
  });

  it("answers a token verified lately from memory, but never past its exp", async () => {
    // A settings object of its own: a cache of its own.
    const config = { ...settings(env) };
    const token = (await hs256({ organization_id: "org-acme", sub: "cached" }, { expiresIn: "1s" })).slice("Bearer ".length);
    const first = await verifyBearer(token, config);
    expect(await verifyBearer(token, config)).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await expect(verifyBearer(token, config)).rejects.toThrow("The bearer token has expired.");
  });
});
