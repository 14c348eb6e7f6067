import de from "./de";
import type { Dictionary } from "./dictionary";
import en from "./en";
import es from "./es";
import fr from "./fr";
import it from "./it";
import nl from "./nl";
import pl from "./pl";
import pt from "./pt";

/** Adding a language: one dictionary file, and its code here. */
export const DICTIONARIES = { de, en, fr, es, it, nl, pl, pt } satisfies Record<string, Dictionary>;
export type Language = keyof typeof DICTIONARIES;
export const LANGUAGES = Object.keys(DICTIONARIES) as [Language, ...Language[]];
export type { Dictionary };

const isLanguage = (tag: string): tag is Language => Object.hasOwn(DICTIONARIES, tag);

/**
 * The page language: `?lang` if supported, then the best supported `Accept-Language` entry
 * (by q-value, matching on the primary subtag), then the configured default.
 */
export function chooseLanguage(query: string | undefined, acceptLanguage: string | undefined, fallback: Language): Language {
  const primary = (tag: string) => tag.trim().toLowerCase().split("-")[0] ?? "";
  if (query && isLanguage(primary(query))) return primary(query) as Language;
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.split(";");
      const q = Number(params.find((p) => p.trim().startsWith("q="))?.trim().slice(2) ?? 1);
      return { tag: primary(tag), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0 && isLanguage(entry.tag))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return (ranked[0]?.tag as Language | undefined) ?? fallback;
}
