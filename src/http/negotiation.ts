import type { Context } from "hono";
import { accepts } from "hono/accepts";

const HTML = "text/html";
const JSON_TYPE = "application/json";

/** The q-value the most specific matching range of `Accept` gives `type` (RFC 9110 §12.5.1); 0 if none matches. */
function qualityOf(type: string, ranges: { type: string; q: number }[]): number {
  const [main] = type.split("/");
  const specificity = (range: string) => (range === type ? 3 : range === `${main}/*` ? 2 : range === "*/*" ? 1 : 0);
  let best = { specificity: 0, q: 0 };
  for (const range of ranges) {
    const s = specificity(range.type.toLowerCase());
    if (s > best.specificity) best = { specificity: s, q: range.q };
  }
  return best.q;
}

/**
 * For a page route: JSON only for a client that ranks it above HTML, or cannot take HTML at all.
 * The published epilot SDK and CLI send `application/json, text/plain, *\/*` and get the page, as
 * upstream defines.
 */
export const wantsJson = (c: Context) =>
  accepts(c, {
    header: "Accept",
    supports: [HTML, JSON_TYPE],
    default: HTML,
    match: (ranges) => (qualityOf(JSON_TYPE, ranges) > qualityOf(HTML, ranges) ? JSON_TYPE : HTML),
  }) === JSON_TYPE;
