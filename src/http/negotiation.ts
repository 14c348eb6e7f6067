import type { Context } from "hono";
import { accepts } from "hono/accepts";

const HTML = "text/html";
const JSON_TYPE = "application/json";

/** A type we answer: its top-level type, and the ranges that name it exactly. */
interface Answerable {
  main: string;
  names(range: string): boolean;
}
const HTML_PAGE: Answerable = { main: "text", names: (range) => range === HTML };
/** JSON answers application/json and every structured +json type (problem+json, vnd.foo+json). */
const JSON_BODY: Answerable = { main: "application", names: (range) => range === JSON_TYPE || /^application\/[\w.-]+\+json$/.test(range) };

/**
 * The q-value the most specific matching range of `Accept` gives a type (RFC 9110 §12.5.1); 0 if
 * none matches. Of equally specific ranges the best counts, as several +json types name JSON.
 */
function qualityOf({ main, names }: Answerable, ranges: { type: string; q: number }[]): number {
  const specificity = (range: string) => (names(range) ? 3 : range === `${main}/*` ? 2 : range === "*/*" ? 1 : 0);
  let best = { specificity: 0, q: 0 };
  for (const range of ranges) {
    const s = specificity(range.type.toLowerCase());
    if (s > 0 && (s > best.specificity || (s === best.specificity && range.q > best.q))) best = { specificity: s, q: range.q };
  }
  return best.q;
}

/**
 * For a page route: JSON only for a client that ranks it (or any +json type) above HTML, or cannot
 * take HTML at all.
 * The published epilot SDK and CLI send `application/json, text/plain, *\/*` and get the page, as
 * upstream defines.
 */
export const wantsJson = (c: Context) =>
  accepts(c, {
    header: "Accept",
    supports: [HTML, JSON_TYPE],
    default: HTML,
    match: (ranges) => (qualityOf(JSON_BODY, ranges) > qualityOf(HTML_PAGE, ranges) ? JSON_TYPE : HTML),
  }) === JSON_TYPE;
