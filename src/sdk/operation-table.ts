/**
 * The operation table: what a generic client needs to call an operation (method, path, where each
 * parameter goes, whether it takes a body, whether it needs credentials), read from an OpenAPI 3.1
 * document. `npm run openapi` writes the table of the committed document to `operations.ts`; the
 * CLI builds it at run time from the document it is given (`--definition`).
 */

export type ParameterLocation = "path" | "query" | "header" | "cookie";

export interface OperationParameter {
  name: string;
  in: ParameterLocation;
  required: boolean;
}

export interface OperationInfo {
  method: "GET" | "PUT" | "POST" | "DELETE" | "OPTIONS" | "HEAD" | "PATCH" | "TRACE";
  path: string;
  summary?: string;
  /** No credentials needed (the operation's `security` is empty). */
  public: boolean;
  parameters: readonly OperationParameter[];
  /** The request body's media type and whether it is required; null when the operation takes none. */
  body: { contentType: string; required: boolean } | null;
}

export type OperationTable = Record<string, OperationInfo>;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** A minimal view of an OpenAPI 3.x document, enough to read operations. */
export interface OpenApiDocumentLike {
  paths?: Record<string, Record<string, any>>;
  components?: Record<string, Record<string, any>>;
  security?: unknown[];
  servers?: { url: string }[];
  [key: string]: unknown;
}

/** Follows a local `$ref` (`#/components/...`) until it reaches an object that is not one. */
export function deref<T = any>(document: OpenApiDocumentLike, value: any): T {
  let current = value;
  for (let hops = 0; current && typeof current === "object" && typeof current.$ref === "string"; hops++) {
    if (hops > 32 || !current.$ref.startsWith("#/")) throw new Error(`Cannot resolve $ref ${current.$ref}`);
    current = current.$ref
      .slice(2)
      .split("/")
      .map((part: string) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((node: any, key: string) => node?.[key], document);
    if (current === undefined) throw new Error(`Cannot resolve $ref ${value.$ref}`);
  }
  return current as T;
}

/** Every operation of `document` with its path and path item, in document order. */
export function* operationsOf(document: OpenApiDocumentLike): Generator<{ path: string; method: (typeof METHODS)[number]; pathItem: any; operation: any }> {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const pathItem = deref(document, item);
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (operation?.operationId) yield { path, method, pathItem, operation };
    }
  }
}

/** An operation's parameter objects, dereferenced: the path item's, overridden by the operation's own of the same name and place. */
export function parametersOf(document: OpenApiDocumentLike, pathItem: any, operation: any): any[] {
  const parameters = new Map<string, any>();
  for (const raw of [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])]) {
    const parameter = deref(document, raw);
    parameters.set(`${parameter.in}:${parameter.name}`, parameter);
  }
  return [...parameters.values()];
}

/** Path parameters are always required (OpenAPI), the others when they say so. */
export function isRequired(parameter: { in: string; required?: boolean }): boolean {
  return parameter.in === "path" || parameter.required === true;
}

/** The media type a body is sent as: the first JSON one offered (application/json or …+json, not x-ndjson), else the first. */
export function preferredMediaType(contentTypes: string[]): string | undefined {
  return contentTypes.find((type) => /^application\/([\w.-]+\+)?json$/i.test(type)) ?? contentTypes[0];
}

/** The operations of `document` by operationId, in document order. */
export function operationTable(document: OpenApiDocumentLike): OperationTable {
  const table: OperationTable = {};
  for (const { path, method, pathItem, operation } of operationsOf(document)) {
    const requestBody = operation.requestBody ? deref(document, operation.requestBody) : null;
    const security = operation.security ?? document.security ?? [];
    table[operation.operationId] = {
      method: method.toUpperCase() as OperationInfo["method"],
      path,
      ...(operation.summary ? { summary: operation.summary } : {}),
      public: security.length === 0 || security.some((requirement: object) => Object.keys(requirement).length === 0),
      parameters: parametersOf(document, pathItem, operation).map((parameter) => ({ name: parameter.name, in: parameter.in, required: isRequired(parameter) })),
      body: requestBody
        ? {
            contentType: preferredMediaType(Object.keys(requestBody.content ?? {})) ?? "application/json",
            required: requestBody.required === true,
          }
        : null,
    };
  }
  return table;
}
