import { env } from "cloudflare:workers";
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import { LinkRefused } from "../../src/consent/errors";
import { signLink, verifyLink, type KeyRing } from "../../src/consent/link-token";

const current = env.OPT_IN_SIGNING_KEY;
const previous = env.OPT_IN_PREVIOUS_SIGNING_KEYS;
const ring: KeyRing = { current, previous: [previous] };
const ledgerId = "a".repeat(64);
const claims = { purpose: "opt-in" as const, organizationId: "org-acme", ledgerId, topic: "NEWS", requestSequence: 3 };
const DAY = 86_400;

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LinkRefused);
  return (error as LinkRefused).problem;
}

describe("signed links", () => {
  it("round-trips the bound organization, ledger, topic, request and expiry", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const { token, expiresAt } = await signLink({ ...claims, redirectUrl: "https://www.acme.example/thanks" }, ring, { ttlSeconds: 30 * DAY, now });
    expect(expiresAt.toISOString()).toBe("2026-01-31T00:00:00.000Z");
    expect(await verifyLink(token, "opt-in", ring, { now })).toEqual({
      ...claims,
      redirectUrl: "https://www.acme.example/thanks",
      generation: 1,
      expiresAt,
    });
    // A later generation of the history (after an erasure) is bound too.
    const later = await signLink({ ...claims, generation: 3 }, ring, { ttlSeconds: 30 * DAY, now });
    expect((await verifyLink(later.token, "opt-in", ring, { now })).generation).toBe(3);
    // The identifier is not in the link, only the ledger id derived from it.
    expect(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).not.toContain("@");
  });

  it("expires: valid until the last second, refused after (controllable clock)", async () => {
    const now = new Date("2026-03-01T12:00:00Z");
    const { token } = await signLink(claims, ring, { ttlSeconds: 30 * DAY, now });
    const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    await expect(verifyLink(token, "opt-in", ring, { now: at(30 * DAY - 1) })).resolves.toMatchObject({ topic: "NEWS" });
    expect(await refusal(verifyLink(token, "opt-in", ring, { now: at(30 * DAY + 1) }))).toBe("expired");
  });

  it("rotates keys: a previous key verifies until it is removed", async () => {
    const oldRing: KeyRing = { current: previous, previous: [] };
    const { token } = await signLink(claims, oldRing, { ttlSeconds: DAY });
    await expect(verifyLink(token, "opt-in", ring)).resolves.toMatchObject({ requestSequence: 3 });
    expect(await refusal(verifyLink(token, "opt-in", { current, previous: [] }))).toBe("unknown_key");
  });

  it("refuses tampering with the claims or the signature", async () => {
    const { token } = await signLink(claims, ring, { ttlSeconds: DAY });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const altered = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    altered.topic = "EVERYTHING";
    const forgedPayload = `${header}.${base64url.encode(JSON.stringify(altered))}.${signature}`;
    expect(await refusal(verifyLink(forgedPayload, "opt-in", ring))).toBe("invalid");
    const flipped = signature.slice(0, -2) + (signature.endsWith("AA") ? "BB" : "AA");
    expect(await refusal(verifyLink(`${header}.${payload}.${flipped}`, "opt-in", ring))).toBe("invalid");
  });

  it("binds the purpose: an opt-out link cannot confirm an opt-in, nor the reverse", async () => {
    const optIn = await signLink(claims, ring, { ttlSeconds: DAY });
    const optOut = await signLink({ purpose: "opt-out", organizationId: "org-acme", ledgerId, topic: "NEWS" }, ring, { ttlSeconds: DAY });
    expect(await refusal(verifyLink(optIn.token, "opt-out", ring))).toBe("invalid");
    expect(await refusal(verifyLink(optOut.token, "opt-in", ring))).toBe("invalid");
    await expect(verifyLink(optOut.token, "opt-out", ring)).resolves.toMatchObject({ purpose: "opt-out", topic: "NEWS" });
  });

  // Malformed is "invalid"; "unknown_key" is only for a well-formed link signed by a key no longer configured.
  it.each(["", "nonsense", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])("refuses the malformed token %j as invalid", async (token) => {
    expect(await refusal(verifyLink(token, "opt-in", ring))).toBe("invalid");
  });

  it("refuses an unsigned (alg: none) token even with a known kid", async () => {
    const { token } = await signLink(claims, ring, { ttlSeconds: DAY });
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[0]!)));
    const none = `${base64url.encode(JSON.stringify({ ...header, alg: "none" }))}.${token.split(".")[1]}.`;
    expect(await refusal(verifyLink(none, "opt-in", ring))).toBe("invalid");
  });
});
