/** Printing answers: coloured, indented JSON on a terminal; plain JSON when piped; text as text. */
import pc from "picocolors";

export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

/** JSON laid out as `JSON.stringify(value, null, 2)`, with colours. */
export function colorJson(value: unknown, indent = ""): string {
  const c = pc.createColors(true);
  if (value === null || value === undefined) return c.gray("null");
  if (typeof value === "string") return c.green(JSON.stringify(value));
  if (typeof value === "number") return c.yellow(JSON.stringify(value));
  if (typeof value === "boolean") return c.magenta(String(value));
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return `[\n${value.map((item) => inner + colorJson(item, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (!entries.length) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${c.cyan(JSON.stringify(k))}: ${colorJson(v, inner)}`).join(",\n")}\n${indent}}`;
}

export type JsonStyle = "raw" | "pretty" | "color";

export function formatData(data: unknown, style: JsonStyle): string {
  if (typeof data === "string") return data.endsWith("\n") ? data.slice(0, -1) : data;
  if (data instanceof ArrayBuffer) return `<${data.byteLength} bytes of binary data>`;
  if (style === "raw") return JSON.stringify(data) ?? "";
  if (style === "color") return colorJson(data);
  return JSON.stringify(data, null, 2) ?? "";
}

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

/** A header value safe to print: credentials keep their scheme only. */
export function maskHeader(name: string, value: string): string {
  if (!SECRET_HEADERS.has(name.toLowerCase())) return value;
  const scheme = /^(\w+)\s+/.exec(value)?.[1];
  return scheme ? `${scheme} ********` : "********";
}
