/** Printing requests (-v) and answers: coloured, indented JSON on a terminal; plain JSON when piped; text as text. */
import { writeFileSync } from "node:fs";
import jsonata from "jsonata";
import pc from "picocolors";
import type { SendOptions, SentResponse } from "../sdk/request";
import type { Io } from "./io";
import { UsageError } from "./usage";

export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

/** JSON laid out as `JSON.stringify(value, null, 2)`, with colours. */
function colorJson(value: unknown, indent = ""): string {
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

type JsonStyle = "raw" | "pretty" | "color";

/** --json, else colours where `stream` shows them, else indented. */
function jsonStyle(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv, raw: boolean | undefined): JsonStyle {
  return raw ? "raw" : colorsFor(stream, env) ? "color" : "pretty";
}

function formatData(data: unknown, style: JsonStyle): string {
  if (typeof data === "string") return data.endsWith("\n") ? data.slice(0, -1) : data;
  if (data instanceof ArrayBuffer) return `<${data.byteLength} bytes of binary data>`;
  if (style === "raw") return JSON.stringify(data) ?? "";
  if (style === "color") return colorJson(data);
  return JSON.stringify(data, null, 2) ?? "";
}

const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

/** A header value safe to print: credentials keep their scheme only. */
function maskHeader(name: string, value: string): string {
  if (!SECRET_HEADERS.has(name.toLowerCase())) return value;
  const scheme = /^(\w+)\s+/.exec(value)?.[1];
  return scheme ? `${scheme} ********` : "********";
}

/** -v: every attempt at the request (credentials masked), on stderr. */
export function printRequest(io: Io): NonNullable<SendOptions["onRequest"]> {
  const c = pc.createColors(colorsFor(io.stderr, io.env));
  return ({ method, url, headers, body, attempt }) => {
    const lines = [`${attempt ? `(retry ${attempt}) ` : ""}> ${method} ${url}`];
    headers.forEach((value, name) => lines.push(`> ${name}: ${maskHeader(name, value)}`));
    if (body !== undefined) lines.push(">", `> ${body}`);
    io.stderr.write(c.dim(`${lines.join("\n")}\n`));
  };
}

export interface AnswerFlags {
  verbose?: boolean;
  include?: boolean;
  json?: boolean;
  jsonata?: string;
  /** -o: the answer's data goes to this file instead of stdout (JSON indented unless --json, never coloured; bytes as they came). */
  output?: string;
}

/** Prints an answer and gives the exit code: 0 for a 2xx (its data on stdout), else 1 (its body on stderr). */
export async function printAnswer(answer: SentResponse, flags: AnswerFlags, io: Io): Promise<number> {
  if (flags.verbose) io.stderr.write(pc.createColors(colorsFor(io.stderr, io.env)).dim(`< ${answer.status} ${answer.statusText}\n`));
  if (flags.include) {
    const lines = [`HTTP ${answer.status} ${answer.statusText}`];
    answer.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
    io.stdout.write(`${lines.join("\n")}\n\n`);
  }
  if (answer.status < 200 || answer.status > 299) {
    const text = answer.data === null ? `${answer.status} ${answer.statusText}` : formatData(answer.data, jsonStyle(io.stderr, io.env, flags.json));
    io.stderr.write(`${text}\n`);
    return 1;
  }
  let data = answer.data;
  if (flags.jsonata !== undefined) {
    let expression;
    try {
      expression = jsonata(flags.jsonata);
    } catch (error) {
      throw new UsageError(`--jsonata: ${(error as Error).message}`);
    }
    data = await expression.evaluate(data);
    if (data === undefined) return 0;
  }
  if (flags.output !== undefined) {
    const content = data === null ? "" : data instanceof ArrayBuffer ? new Uint8Array(data) : typeof data === "string" ? data : `${formatData(data, flags.json ? "raw" : "pretty")}\n`;
    try {
      writeFileSync(flags.output, content);
    } catch (error) {
      throw new UsageError(`-o ${flags.output}: ${(error as Error).message}`);
    }
    return 0;
  }
  if (data === null && flags.jsonata === undefined) return 0;
  // Text (an HTML page, a string picked by --jsonata) is printed as it is; --json prints such a result as a JSON string.
  io.stdout.write(`${typeof data === "string" && flags.json && flags.jsonata !== undefined ? JSON.stringify(data) : formatData(data, jsonStyle(io.stdout, io.env, flags.json))}\n`);
  return 0;
}
