import { describe, expect, it } from "vitest";
import { chooseLanguage, DICTIONARIES, LANGUAGES } from "../../src/pages/i18n";

describe("dictionaries", () => {
  it("offers at least de, en, fr, es, it, nl, pl and pt", () => {
    expect(LANGUAGES).toEqual(expect.arrayContaining(["de", "en", "fr", "es", "it", "nl", "pl", "pt"]));
  });

  const reference = DICTIONARIES.en;
  it.each(LANGUAGES)("%s has every key, each of the right kind and non-empty", (lang) => {
    const dictionary = DICTIONARIES[lang] as Record<string, unknown>;
    expect(Object.keys(dictionary).sort()).toEqual(Object.keys(reference).sort());
    for (const [key, value] of Object.entries(reference)) {
      const own = dictionary[key];
      expect(typeof own, `${lang}.${key}`).toBe(typeof value);
      const text = typeof own === "function" ? (own as (s: string) => string)("TOPIC") : own;
      expect(String(text).trim(), `${lang}.${key}`).not.toBe("");
      if (typeof own === "function") expect(text, `${lang}.${key} uses its argument`).toContain("TOPIC");
    }
  });
});

describe("chooseLanguage", () => {
  it.each([
    ["fr", undefined, "fr"],
    ["EN-gb", "de", "en"],
    ["xx", "nl-NL,nl;q=0.9", "nl"],
    [undefined, "sv, pl;q=0.8, en;q=0.9", "en"],
    [undefined, "it;q=0, pt;q=0.1", "pt"],
    [undefined, "sv, fi", "de"],
    [undefined, undefined, "de"],
  ] as const)("?lang=%s with Accept-Language %s is %s", (query, accept, expected) => {
    expect(chooseLanguage(query, accept, "de")).toBe(expected);
  });
});
