import type { Language } from "../../languages";
import ar from "./ar";
import de from "./de";
import type { Dictionary } from "./dictionary";
import en from "./en";
import es from "./es";
import fr from "./fr";
import it from "./it";
import nl from "./nl";
import pl from "./pl";
import pt from "./pt";

/** Adding a language: one dictionary file, its code in src/languages.ts, and its line here. */
export const DICTIONARIES: Record<Language, Dictionary> = { de, en, fr, es, it, nl, pl, pt, ar };
export type { Dictionary };
