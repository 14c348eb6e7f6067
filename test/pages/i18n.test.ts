import { describe, expect, it } from "vitest";
import { LANGUAGES } from "../../src/languages";
import { DICTIONARIES } from "../../src/pages/i18n";

describe("dictionaries", () => {
  it("offers de, en, fr, es, it, nl, pl, pt and ar, one dictionary per language", () => {
    expect(LANGUAGES).toEqual(expect.arrayContaining(["de", "en", "fr", "es", "it", "nl", "pl", "pt", "ar"]));
    expect(Object.keys(DICTIONARIES).sort()).toEqual([...LANGUAGES].sort());
  });

  const reference = DICTIONARIES.en;
  it.each(LANGUAGES)("%s has every key, each of the right kind and non-empty", (lang) => {
    const dictionary = DICTIONARIES[lang] as unknown as Record<string, unknown>;
    expect(Object.keys(dictionary).sort()).toEqual(Object.keys(reference).sort());
    for (const [key, value] of Object.entries(reference)) {
      const own = dictionary[key];
      expect(typeof own, `${lang}.${key}`).toBe(typeof value);
      const text = typeof own === "function" ? (own as (s: string) => string)("TOPIC") : own;
      expect(String(text).trim(), `${lang}.${key}`).not.toBe("");
      if (typeof own === "function") expect(text, `${lang}.${key} uses its argument`).toContain("TOPIC");
    }
  });

  it("writes Arabic right to left and the others left to right", () => {
    for (const lang of LANGUAGES) expect(DICTIONARIES[lang].dir, lang).toBe(lang === "ar" ? "rtl" : "ltr");
  });
});
