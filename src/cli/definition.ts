/**
 * The OpenAPI document the CLI works from: the committed `openapi.json` of this package, or the file
 * or URL given with `--definition`. Operations, their help and sample bodies all come from it.
 */
import { readFile } from "node:fs/promises";
import { deref, operationsOf, operationTable, parametersOf, preferredMediaType, type OpenApiDocumentLike, type OperationInfo } from "../sdk/operation-table";
import { UsageError } from "./usage";

export interface Definition {
  document: OpenApiDocumentLike;
  operations: Record<string, OperationInfo>;
  /** The raw OpenAPI operation objects, for help texts and guided prompts. */
  raw: Record<string, any>;
}

/** The package's own document: `openapi.json` at the package root (the CLI runs from `dist/`). */
export const DEFAULT_DEFINITION = new URL("../openapi.json", import.meta.url);

export async function loadDefinition(source?: string): Promise<Definition> {
  let text: string;
  if (source && /^https?:\/\//i.test(source)) {
    let response: Response;
    try {
      response = await fetch(source, { headers: { Accept: "application/json" } });
    } catch (error) {
      throw new UsageError(`--definition ${source}: cannot fetch it (${(error as Error).message})`);
    }
    if (!response.ok) throw new UsageError(`--definition ${source}: answered ${response.status}`);
    text = await response.text();
  } else {
    try {
      text = await readFile(source ?? DEFAULT_DEFINITION, "utf8");
    } catch (error) {
      throw new UsageError(`--definition ${source}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  let document: OpenApiDocumentLike;
  try {
    document = JSON.parse(text);
  } catch {
    throw new UsageError(`--definition ${source ?? DEFAULT_DEFINITION.pathname}: not a JSON OpenAPI document`);
  }
  if (!document || typeof document !== "object" || !document.paths) {
    throw new UsageError(`--definition ${source}: not an OpenAPI document (no "paths")`);
  }
  const raw: Record<string, any> = {};
  for (const { operation } of operationsOf(document)) raw[operation.operationId] = operation;
  return { document, operations: operationTable(document), raw };
}

/** The JSON schema of an operation's request body, or undefined. */
export function bodySchema(definition: Definition, operationId: string): any {
  const operation = definition.raw[operationId];
  if (!operation?.requestBody) return undefined;
  const body = deref(definition.document, operation.requestBody);
  const content = body.content ?? {};
  const type = preferredMediaType(Object.keys(content));
  return type ? deref(definition.document, content[type].schema ?? {}) : undefined;
}

/** The OpenAPI parameter objects (dereferenced) of an operation. */
export function parameterObjects(definition: Definition, operationId: string): any[] {
  const pathItem = deref(definition.document, definition.document.paths![definition.operations[operationId]!.path]);
  return parametersOf(definition.document, pathItem, definition.raw[operationId]);
}

/** A sample value for a JSON schema: its example, default or first enum value, else one built from its type. */
export function sampleFor(document: OpenApiDocumentLike, schema: any, depth = 0): unknown {
  const s = deref(document, schema ?? {});
  if (depth > 8) return null;
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const alternatives = s.oneOf ?? s.anyOf;
  if (Array.isArray(alternatives)) {
    const first = alternatives.map((a: any) => deref(document, a)).find((a: any) => a.type !== "null") ?? alternatives[0];
    return sampleFor(document, first, depth + 1);
  }
  if (Array.isArray(s.allOf)) {
    return Object.assign({}, ...s.allOf.map((part: any) => sampleFor(document, part, depth + 1)));
  }
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  if (type === "object" || s.properties) {
    const out: Record<string, unknown> = {};
    for (const [name, property] of Object.entries(s.properties ?? {})) out[name] = sampleFor(document, property, depth + 1);
    return out;
  }
  if (type === "array") return [sampleFor(document, s.items ?? {}, depth + 1)];
  if (type === "integer" || type === "number") return s.minimum ?? 0;
  if (type === "boolean") return true;
  if (type === "string") {
    if (s.format === "date-time") return "2026-01-01T00:00:00.000Z";
    if (s.format === "email") return "user@example.com";
    if (s.format === "uri" || s.format === "url") return "https://www.example.com";
    return "string";
  }
  return null;
}

/** A short type name for help texts: `string`, `integer`, `"OPT_IN" | "OPT_OUT"`, `object`. */
export function typeName(document: OpenApiDocumentLike, schema: any): string {
  const s = deref(document, schema ?? {});
  if (Array.isArray(s.enum)) return s.enum.map((v: unknown) => JSON.stringify(v)).join(" | ");
  const alternatives = s.oneOf ?? s.anyOf;
  if (Array.isArray(alternatives)) return alternatives.map((a: any) => typeName(document, a)).join(" | ");
  if (Array.isArray(s.type)) return s.type.join(" | ");
  return s.type ?? (s.properties ? "object" : "any");
}
