import { hmacHex } from "../hmac-key";

/**
 * The identifier rules: which spellings are one person, and the one spelling a history is kept
 * under. The README's "Identifiers" table says the same; a change here is a new rules version and
 * comes with a ledger migration (histories are never silently re-homed).
 *
 * | kind    | recognised by                                   | kept as                                       |
 * |---------|-------------------------------------------------|-----------------------------------------------|
 * | (all)   |                                                 | Unicode NFC, then trimmed                     |
 * | e-mail  | exactly one `@`, non-empty local part and domain | local part lower-cased; domain lower-cased, an internationalised domain in its ASCII (punycode) form |
 * | phone   | `+` then only digits and separators (space . - / ( )), at least one digit | `+` and the digits |
 * | other   | anything else (a CRM id, a Copilot `user_id`)   | exactly as sent                               |
 */

/**
 * 1: the rules before versioning (phone before e-mail, no NFC). 2: these rules. A ledger's owner
 * records the version its identifier was normalised under.
 */
export const IDENTIFIER_RULES_VERSION = 2;

const PHONE = /^\+[\d\s.\-/()]*\d[\d\s.\-/()]*$/;
const NOT_DIGIT = /\D/g;
/** Characters that would make a URL parser read a domain as something else (a port, a path, a user). */
const NOT_A_HOST = /[\s/\\?#@:%[\]]/;
const NON_ASCII = /[^\x00-\x7f]/;

/** An internationalised domain in the one form a URL gives it; an ASCII (or unparseable) one lower-cased. */
function domainForm(domain: string): string {
  const lower = domain.toLowerCase();
  if (!NON_ASCII.test(lower) || NOT_A_HOST.test(lower)) return lower;
  try {
    return new URL(`http://${lower}/`).hostname;
  } catch {
    return lower;
  }
}

/** The one spelling under which an identifier's history is kept (the table above). */
export function normalizeIdentifier(identifier: string): string {
  const text = identifier.normalize("NFC").trim();
  const at = text.indexOf("@");
  if (at > 0 && at < text.length - 1 && text.indexOf("@", at + 1) === -1) {
    // Lower-casing can leave a string that is not NFC (e.g. U+0130), hence NFC once more.
    return `${text.slice(0, at).toLowerCase()}@${domainForm(text.slice(at + 1))}`.normalize("NFC");
  }
  if (PHONE.test(text)) return `+${text.replace(NOT_DIGIT, "")}`;
  return text;
}

/**
 * The keyed hash of an identifier in its organization (HMAC-SHA256 under IDENTIFIER_KEY, hex):
 * what names its ledger, so no object name carries personal data, and what proofs refer to.
 */
export async function identifierHash(secret: string, organizationId: string, normalized: string): Promise<string> {
  return hmacHex(secret, [organizationId, normalized]);
}
