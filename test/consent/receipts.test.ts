import { env } from "cloudflare:workers";
import { base64url, createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config";
import { issueReceipt, type ReceiptRecord } from "../../src/consent/receipts";
import { app } from "../../src/index";
import { TEST_PREVIOUS_RECEIPT_KEY, TEST_PUBLIC_BASE_URL, TEST_RECEIPT_KEY } from "../fixtures/credentials";
import { captureConsole } from "../helpers/console";
import { call } from "../helpers/gateway";

const record: ReceiptRecord = {
  organizationId: "org-acme",
  identifierHash: "ab".repeat(32),
  seq: 7,
  hash: "cd".repeat(32),
  type: "OPT_IN",
  topic: "NEWSLETTER",
  createdAt: "2026-11-23T09:15:02.117Z",
  source: "signup-form",
  noticeVersion: "2026-10",
  noticeTextSha256: "ef".repeat(32),
  language: "de",
};
const minimal: ReceiptRecord = {
  organizationId: "org-acme",
  identifierHash: "ab".repeat(32),
  seq: 1,
  hash: "01".repeat(32),
  type: "DOUBLE_OPT_IN_REQUESTED",
  topic: "NEWSLETTER",
  createdAt: "2026-11-23T09:15:02.117Z",
};

/** What a verifier does, knowing nothing but the gateway's URL: fetch its key set, verify with jose. */
async function verify(receipt: string) {
  const response = await call("/.well-known/jwks.json");
  const keys = createLocalJWKSet(await response.json<JSONWebKeySet>());
  return jwtVerify(receipt, keys, { issuer: TEST_PUBLIC_BASE_URL, typ: "consent-receipt+jwt" });
}

const signedWith = (keys: object[]) => ({ ...env, RECEIPT_SIGNING_KEYS: JSON.stringify(keys) }) as Env;

describe("consent receipts", () => {
  it("verify with nothing but jose and the served key set, naming every field as ISO/IEC TS 27560 does", async () => {
    const receipt = await issueReceipt(env, record);
    const { payload, protectedHeader } = await verify(receipt);
    expect(protectedHeader).toEqual({ alg: "EdDSA", kid: TEST_RECEIPT_KEY.kid, typ: "consent-receipt+jwt" });
    expect(payload).toEqual({
      schema_version: "27560:2023+consent-gateway.1",
      record_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      pii_principal_id: record.identifierHash,
      pii_controllers: ["org-acme"],
      purpose: "NEWSLETTER",
      event_type: "OPT_IN",
      event_state: "given",
      event_time: "2026-11-23T09:15:02.117Z",
      collection_method: "signup-form",
      privacy_notice: { version: "2026-10", text_sha256: "ef".repeat(32) },
      language: "de",
      seq: 7,
      hash: "cd".repeat(32),
      iat: expect.any(Number),
      iss: TEST_PUBLIC_BASE_URL,
    });
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
  });

  it("leave out what the event does not know", async () => {
    const { payload } = await verify(await issueReceipt(env, minimal));
    expect(Object.keys(payload).sort()).toEqual(
      ["schema_version", "record_id", "pii_principal_id", "pii_controllers", "purpose", "event_type", "event_state", "event_time", "seq", "hash", "iat", "iss"].sort(),
    );
    const { payload: onlyVersion } = await verify(await issueReceipt(env, { ...minimal, noticeVersion: "v3" }));
    expect(onlyVersion.privacy_notice).toEqual({ version: "v3" });
  });

  it.each([
    ["OPT_IN", "given"],
    ["DOUBLE_OPT_IN", "given"],
    ["OPT_OUT", "withdrawn"],
    ["DOUBLE_OPT_IN_REQUESTED", "requested"],
  ] as const)("%s puts consent in state %s", async (type, state) => {
    const { payload } = await verify(await issueReceipt(env, { ...record, type }));
    expect([payload.event_type, payload.event_state]).toEqual([type, state]);
  });

  it("name each event by one record_id, whenever it is issued, and no two events alike", async () => {
    const id = async (r: ReceiptRecord) => (await verify(await issueReceipt(env, r))).payload.record_id;
    const first = await id(record);
    expect(await id({ ...record, type: "OPT_OUT", createdAt: "2027-01-01T00:00:00.000Z" })).toBe(first);
    const others = await Promise.all([
      id({ ...record, seq: 8 }),
      id({ ...record, organizationId: "org-globex" }),
      id({ ...record, identifierHash: "ba".repeat(32) }),
    ]);
    expect(new Set([first, ...others]).size).toBe(4);
  });

  it("refuse a tampered payload or signature", async () => {
    const [header, payload, signature] = (await issueReceipt(env, record)).split(".") as [string, string, string];
    const altered = base64url.encode(new TextDecoder().decode(base64url.decode(payload)).replace('"given"', '"withdrawn"'));
    expect(altered).not.toBe(payload);
    await expect(verify(`${header}.${altered}.${signature}`)).rejects.toThrow(errors.JWSSignatureVerificationFailed);
    const flipped = signature.startsWith("A") ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    await expect(verify(`${header}.${payload}.${flipped}`)).rejects.toThrow(errors.JWSSignatureVerificationFailed);
  });

  it("signed by a key since rotated out still verify, while it is listed after the current one", async () => {
    // Issued while the P-256 key was the only one; the gateway now lists it second.
    const old = await issueReceipt(signedWith([TEST_PREVIOUS_RECEIPT_KEY]), record);
    expect(decodeProtectedHeader(old)).toMatchObject({ alg: "ES256", kid: TEST_PREVIOUS_RECEIPT_KEY.kid });
    expect((await verify(old)).payload.seq).toBe(7);
    // The current key signs new ones.
    expect(decodeProtectedHeader(await issueReceipt(env, record)).kid).toBe(TEST_RECEIPT_KEY.kid);
  });

  it("of a key no longer listed do not verify", async () => {
    const removed = { ...TEST_PREVIOUS_RECEIPT_KEY, kid: "removed" };
    await expect(verify(await issueReceipt(signedWith([removed]), record))).rejects.toThrow(errors.JWKSNoMatchingKey);
  });

  it("are refused by a key whose public part is not its own: nobody could verify what it signs", async () => {
    // Ed25519: WebCrypto accepts any x; P-256: it refuses a point of another key.
    const otherX = TEST_PREVIOUS_RECEIPT_KEY.x;
    for (const key of [{ ...TEST_RECEIPT_KEY, x: otherX }, { ...TEST_PREVIOUS_RECEIPT_KEY, y: TEST_PREVIOUS_RECEIPT_KEY.x }]) {
      const error = await issueReceipt(signedWith([key]), record).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(`RECEIPT_SIGNING_KEYS key ${JSON.stringify(key.kid)} is not a valid key pair (d and its public part)`);
    }
  });

  it("need RECEIPT_SIGNING_KEYS", async () => {
    const unset = { ...env, RECEIPT_SIGNING_KEYS: "" } as Env;
    await expect(issueReceipt(unset, record)).rejects.toThrow(new ConfigError("RECEIPT_SIGNING_KEYS", "is not set"));
  });
});

describe("GET /.well-known/jwks.json", () => {
  it("publishes every key, public parts only, cacheable", async () => {
    const response = await call("/.well-known/jwks.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=300");
    const text = await response.text();
    for (const key of [TEST_RECEIPT_KEY, TEST_PREVIOUS_RECEIPT_KEY]) expect(text).not.toContain(key.d);
    const { x, y } = TEST_PREVIOUS_RECEIPT_KEY;
    expect(JSON.parse(text)).toEqual({
      keys: [
        { kty: "OKP", crv: "Ed25519", x: TEST_RECEIPT_KEY.x, kid: TEST_RECEIPT_KEY.kid, alg: "EdDSA", use: "sig" },
        { kty: "EC", crv: "P-256", x, y, kid: TEST_PREVIOUS_RECEIPT_KEY.kid, alg: "ES256", use: "sig" },
      ],
    });
  });

  it("answers 500 misconfigured, naming the setting and never its value, when the keys are wrong", async () => {
    const { d: _, ...publicOnly } = TEST_RECEIPT_KEY;
    const logs = captureConsole();
    const response = await app.request("/.well-known/jwks.json", {}, signedWith([publicOnly]));
    expect(response.status).toBe(500);
    expect(logs.lines().join("\n")).toContain("RECEIPT_SIGNING_KEYS [0.d] is missing");
    const problem = await response.json<{ type: string; detail: string }>();
    expect(problem.type).toBe("urn:consent-gateway:problem:misconfigured");
    expect(problem.detail).toContain("RECEIPT_SIGNING_KEYS");
    expect(JSON.stringify(problem)).not.toContain(TEST_RECEIPT_KEY.x);
  });
});
