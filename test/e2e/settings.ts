import { createHash } from "node:crypto";

/** Credentials of the end-to-end gateway: client `e2e` with secret `e2e-secret` in `org-e2e`. */
export const E2E_CLIENT = { id: "e2e", secret: "e2e-secret", organizationId: "org-e2e" };
/** Clients that may manage webhooks (webhooks:manage is never implied): one in org-e2e, one in another organization. */
export const E2E_HOOKS_CLIENT = { id: "e2e-hooks", secret: "e2e-hooks-secret", organizationId: "org-e2e" };
export const E2E_OTHER_HOOKS_CLIENT = { id: "e2e-hooks-other", secret: "e2e-hooks-other-secret", organizationId: "org-e2e-other" };
const HOOKS_SCOPES = ["consent:read", "consent:write", "webhooks:manage"];

export const E2E_JWT_SECRET = "e2e-jwt-secret-that-is-long-enough-for-hs256";

export const E2E_SETTINGS: Record<string, string> = {
  API_CLIENTS: JSON.stringify([
    {
      id: E2E_CLIENT.id,
      secret_sha256: createHash("sha256").update(E2E_CLIENT.secret).digest("hex"),
      organization_id: E2E_CLIENT.organizationId,
    },
    ...[E2E_HOOKS_CLIENT, E2E_OTHER_HOOKS_CLIENT].map(({ id, secret, organizationId }) => ({
      id,
      secret_sha256: createHash("sha256").update(secret).digest("hex"),
      organization_id: organizationId,
      scopes: HOOKS_SCOPES,
    })),
    // The README's demo client, so its examples run as written.
    { id: "demo", secret_sha256: createHash("sha256").update("demo-secret").digest("hex"), organization_id: "org-demo" },
    {
      id: "demo-dpo",
      secret_sha256: createHash("sha256").update("demo-dpo-secret").digest("hex"),
      organization_id: "org-demo",
      scopes: ["consent:read", "consent:write", "consent:erase"],
    },
  ]),
  JWT_SECRET: E2E_JWT_SECRET,
  IDENTIFIER_KEY: "e2e-identifier-key-of-at-least-32-characters",
  OPT_IN_SIGNING_KEY: "e2e-opt-in-signing-key-of-at-least-32-chars",
  OPT_IN_PREVIOUS_SIGNING_KEYS: "",
  // A test-only key (node scripts/receipt-key.mjs).
  RECEIPT_SIGNING_KEYS: JSON.stringify([
    {
      crv: "Ed25519",
      d: "N-LY9UJexF8BF7x_BmMZkChMmlNW2unWLfAQ1VXzR1U",
      x: "wS62Jdp9NR7fakzI4ui77pmSZTpWRvVrIJ-Olo-Xklc",
      kty: "OKP",
      kid: "577UlB08LRZC3SoaUT9DUqza6OUkOqNRmozlHlQChkc",
    },
  ]),
  // The tests' webhook receivers listen on 127.0.0.1.
  WEBHOOKS_ALLOW_LOCALHOST: "true",
  OPT_IN_BRANDING: JSON.stringify({ [E2E_CLIENT.organizationId]: { name: "Stadtwerke Beispiel", primary_color: "#0a7d55" } }),
  // The preference page's topics: labelled, and one that Global Privacy Control opts out of.
  ORGANIZATIONS: JSON.stringify({
    [E2E_CLIENT.organizationId]: {
      topics: {
        Newsletter: { label: { de: "Newsletter", en: "Newsletter", ar: "النشرة الإخبارية" } },
        PRODUCT_UPDATES: { label: { de: "Produktneuheiten", en: "Product updates", ar: "تحديثات المنتجات" } },
        PARTNER_OFFERS: { label: { de: "Angebote unserer Partner", en: "Partner offers", ar: "عروض شركائنا" }, gpc_opt_out: true },
      },
    },
  }),
};

const basicOf = ({ id, secret }: { id: string; secret: string }) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
export const e2eBasic = basicOf(E2E_CLIENT);
export const e2eHooksBasic = basicOf(E2E_HOOKS_CLIENT);
export const e2eOtherHooksBasic = basicOf(E2E_OTHER_HOOKS_CLIENT);

/** The README's demo-dpo client, which may erase (consent:erase). */
export const e2eDpoBasic = `Basic ${Buffer.from("demo-dpo:demo-dpo-secret").toString("base64")}`;
