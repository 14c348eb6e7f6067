import { decodeJwt } from "jose";

/** Longest part of a claimed identity kept as a counter's key: whatever was sent, the key stays small. */
const MAX_PART = 200;

/**
 * Who an Authorization header claims to be, before (or after) it was refused: a Basic client id,
 * or a JWT's issuer and subject (read without verifying: a refused token proves nothing, but its
 * claims name whom it tries to pass as). Undefined when it names no one.
 */
export function claimedIdentity(header: string): string | undefined {
  const [scheme = "", credentials = ""] = header.trim().split(/\s+/, 2);
  switch (scheme.toLowerCase()) {
    case "basic": {
      let decoded: string;
      try {
        decoded = atob(credentials);
      } catch {
        return undefined;
      }
      const colon = decoded.indexOf(":");
      return colon > 0 ? `basic:${decoded.slice(0, Math.min(colon, MAX_PART))}` : undefined;
    }
    case "bearer": {
      let claims: { iss?: unknown; sub?: unknown };
      try {
        claims = decodeJwt(credentials);
      } catch {
        return undefined;
      }
      const part = (value: unknown) => (typeof value === "string" ? value.slice(0, MAX_PART) : "");
      return claims.iss === undefined && claims.sub === undefined ? undefined : `jwt:${part(claims.iss)} ${part(claims.sub)}`;
    }
    default:
      return undefined;
  }
}
