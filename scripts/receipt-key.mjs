// Prints a new receipt signing key (a private JWK with its kid) for RECEIPT_SIGNING_KEYS; README "Receipts".
//   node scripts/receipt-key.mjs          Ed25519 (EdDSA)
//   node scripts/receipt-key.mjs --es256  P-256 (ES256), for verifiers without Ed25519
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";

const alg = process.argv.includes("--es256") ? "ES256" : "EdDSA";
const { privateKey } = await generateKeyPair(alg, { extractable: true });
const jwk = await exportJWK(privateKey);
// The RFC 7638 thumbprint of the public key: a kid that needs no naming scheme and names this key only.
console.log(JSON.stringify({ ...jwk, kid: await calculateJwkThumbprint(jwk) }));
