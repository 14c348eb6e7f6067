/**
 * The languages the link pages speak. Each has one dictionary in src/pages/i18n/ (the type check
 * and a test keep the two lists equal). Kept here, below every layer, because settings and request
 * bodies name languages too.
 */
export const LANGUAGES = ["de", "en", "fr", "es", "it", "nl", "pl", "pt", "ar"] as const;
export type Language = (typeof LANGUAGES)[number];

/** Spoken to a person who asked only for languages we do not offer. */
const FALLBACK_FOR_THE_UNSERVED: Language = "en";

const isLanguage = (tag: string): tag is Language => (LANGUAGES as readonly string[]).includes(tag);
const primary = (tag: string) => tag.trim().toLowerCase().split("-")[0] ?? "";

/**
 * The page language: `?lang` if offered, then the best offered `Accept-Language` entry (by
 * q-value, on the primary subtag). Someone who asked only for languages we do not offer reads
 * English; someone who expressed no preference (no header, or `*`) gets `preferred`, the setting.
 */
export function chooseLanguage(query: string | undefined, acceptLanguage: string | undefined, preferred: Language): Language {
  const asked = query ? primary(query) : "";
  if (isLanguage(asked)) return asked;
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.split(";");
      const q = Number(params.find((p) => p.trim().startsWith("q="))?.trim().slice(2) ?? 1);
      return { tag: primary(tag), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0 && entry.tag !== "" && entry.tag !== "*")
    .sort((a, b) => b.q - a.q || a.index - b.index);
  const offered = ranked.find((entry) => isLanguage(entry.tag));
  if (offered) return offered.tag as Language;
  return asked || ranked.length > 0 ? FALLBACK_FOR_THE_UNSERVED : preferred;
}
