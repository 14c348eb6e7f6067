import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeIdentifier } from "../../src/consent/identifiers";

const RUNS = { numRuns: 500 };

describe("the identifier rules (README 'Identifiers')", () => {
  it.each([
    ["Jane@Example.com", "jane@example.com"],
    // An e-mail address is an e-mail address even when it starts with +: it is not a phone number.
    ["+ab@x.com", "+ab@x.com"],
    ["+a-b@x.com", "+a-b@x.com"],
    ["+Team@Example.com", "+team@example.com"],
    // Composed and decomposed é are one mailbox.
    ["jos\u00e9@x.com", "jos\u00e9@x.com"],
    ["jose\u0301@x.com", "jos\u00e9@x.com"],
    // An internationalised domain in its ASCII form, however it was typed.
    ["user@B\u00fccher.de", "user@xn--bcher-kva.de"],
    ["user@xn--bcher-kva.de", "user@xn--bcher-kva.de"],
    ["  spaced@example.com\u00a0", "spaced@example.com"],
    ["fqdn@Example.com.", "fqdn@example.com"],
    ["+49 (123) 45-67", "+491234567"],
    ["+49.123/456", "+49123456"],
    ["+491234567", "+491234567"],
    // Anything else is kept exactly (after NFC and trimming): CRM ids, Copilot user_ids, odd text.
    ["CRM-User_ABC ", "CRM-User_ABC"],
    ["a@b@c.com", "a@b@c.com"],
    ["@example.com", "@example.com"],
    ["someone@", "someone@"],
    ["+", "+"],
    ["+ - ", "+ -"],
  ])("%j is kept as %j", (input, kept) => {
    expect(normalizeIdentifier(input)).toBe(kept);
  });
});

describe("distinct people stay distinct", () => {
  it.each([
    ["a@x.com", "b@x.com"],
    ["a@x.com", "a@y.com"],
    ["+ab@x.com", "+a-b@x.com"],
    ["a.b@x.com", "ab@x.com"],
    ["a+tag@x.com", "a@x.com"],
    ["\u00df@x.com", "ss@x.com"],
    ["user@b\u00fccher.de", "user@bucher.de"],
    ["+491234", "+4912345"],
    ["CRM-1", "crm-1"],
    ["a@x.com", "a@x.com@x.com"],
    ["x@1234.com", "+1234"],
  ])("%j is not %j", (a, b) => {
    expect(normalizeIdentifier(a)).not.toBe(normalizeIdentifier(b));
  });
});

const asciiLetter = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
const localUnit = fc.oneof(asciiLetter, fc.constantFrom(..."0123456789.+_-'", "\u00e9", "\u00c9", "\u00df", "\u00f1", "\u00d6", "\u5b57", "e\u0301"));
// Labels start with a letter (a numeric last label would make the domain an IPv4 address).
const label = fc.oneof(
  fc.tuple(asciiLetter, fc.string({ unit: fc.oneof(asciiLetter, fc.constantFrom(..."0123456789-")), maxLength: 9 })).map(([first, rest]) => first + rest),
  fc.constantFrom("b\u00fccher", "M\u00fcnchen", "\u4f8b\u3048", "xn--bcher-kva"),
);
const mailbox = fc.record({
  local: fc.string({ unit: localUnit, minLength: 1, maxLength: 12 }),
  domain: fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join(".")),
});
/** Who a mailbox is by the table: the local part and the domain, compared without case and composition. */
const person = ({ local, domain }: { local: string; domain: string }) =>
  `${local.normalize("NFC").toLowerCase()}@${new URL(`http://${domain.normalize("NFC").toLowerCase()}/`).hostname}`;
const phone = fc.array(fc.tuple(fc.constantFrom(..."0123456789"), fc.constantFrom("", "", " ", "-", ".", "/", "(", ")")), { minLength: 1, maxLength: 15 });

describe("identifier properties", () => {
  it("normalising is idempotent, for any text", () => {
    const text = fc.oneof(fc.string({ unit: "grapheme", maxLength: 30 }), fc.string({ unit: "binary", maxLength: 30 }), mailbox.map((m) => `${m.local}@${m.domain}`));
    fc.assert(
      fc.property(text, (input) => {
        const once = normalizeIdentifier(input);
        expect(normalizeIdentifier(once)).toBe(once);
      }),
      RUNS,
    );
  });

  it("spellings of one mailbox (case, composition, spaces around) are one person", () => {
    const spelling = fc.tuple(fc.boolean(), fc.boolean(), fc.constantFrom("", " ", "\t", "\u00a0"));
    fc.assert(
      fc.property(mailbox, spelling, spelling, (m, ...spellings) => {
        const [a, b] = spellings.map(([upper, decomposed, pad]) => {
          const text = `${m.local}@${m.domain}`;
          // Case as people type it: ASCII letters (upper-casing ß would spell another mailbox, SS).
          const cased = text.replace(/[a-z]/gi, (c) => (upper ? c.toUpperCase() : c.toLowerCase()));
          return `${pad}${decomposed ? cased.normalize("NFD") : cased}${pad}`;
        });
        expect(normalizeIdentifier(a!)).toBe(normalizeIdentifier(b!));
      }),
      RUNS,
    );
  });

  it("distinct mailboxes never merge, and a mailbox never merges with a phone number", () => {
    fc.assert(
      fc.property(mailbox, mailbox, phone, (a, b, digits) => {
        fc.pre(person(a) !== person(b));
        expect(normalizeIdentifier(`${a.local}@${a.domain}`)).not.toBe(normalizeIdentifier(`${b.local}@${b.domain}`));
        expect(normalizeIdentifier(`${a.local}@${a.domain}`)).not.toBe(normalizeIdentifier(`+${digits.flat().join("")}`));
      }),
      RUNS,
    );
  });

  it("a phone number typed with any separators is + and its digits", () => {
    fc.assert(
      fc.property(phone, fc.constantFrom("", " "), (parts, pad) => {
        const digits = parts.map(([digit]) => digit).join("");
        expect(normalizeIdentifier(`${pad}+${parts.flat().join("")}${pad}`)).toBe(`+${digits}`);
      }),
      RUNS,
    );
  });
});
