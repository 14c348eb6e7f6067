import { describe, expect, it } from "vitest";
import { chooseLanguage } from "../src/languages";

describe("chooseLanguage", () => {
  it.each([
    ["fr", undefined, "fr"],
    ["EN-gb", "de", "en"],
    ["ar", "de", "ar"],
    ["xx", "nl-NL,nl;q=0.9", "nl"],
    [undefined, "sv, pl;q=0.8, en;q=0.9", "en"],
    [undefined, "it;q=0, pt;q=0.1", "pt"],
    // Asked only for languages we do not offer: English, not the German default.
    [undefined, "sv, fi", "en"],
    [undefined, "he-IL", "en"],
    ["xx", undefined, "en"],
    // No preference at all: the configured default.
    [undefined, undefined, "de"],
    [undefined, "*", "de"],
    ["", "", "de"],
    [undefined, "sv;q=0", "de"],
  ] as const)("?lang=%s with Accept-Language %s is %s", (query, accept, expected) => {
    expect(chooseLanguage(query, accept, "de")).toBe(expected);
  });
});
