/** The help texts: the CLI's usage, the list of operations, and one operation's parameters, body and sample call. */
import pc from "picocolors";
import { DEFAULT_BASE_URL } from "../sdk/client";
import { isRequired } from "../sdk/operation-table";
import { bodySchema, parameterObjects, sampleFor, typeName, type Definition } from "./definition";
import { BIN, type Io } from "./io";
import { colorsFor } from "./output";

export const USAGE = `Usage:
  ${BIN} consent                                  list the operations
  ${BIN} consent <operationId> --help             parameters and a sample body
  ${BIN} consent <operationId> [args…] [flags]    call an operation (args fill path parameters in order)
  ${BIN} profile add <name> -s <url> [-t <token> | --basic <id:secret>] [-H 'Key: Value']…
  ${BIN} profile list | use <name> | remove <name>

Flags:
  -p key=value          a parameter (path, query or header), repeatable
  -d '<json>'           the request body (or pipe it on stdin); JSON unless -H 'Content-Type: …' names
                        another type (e.g. application/x-ndjson: the text is sent as it is)
  -H 'Key: Value'       a request header, repeatable
  -t, --token <token>   Bearer token (JWT); default: $CONSENT_GATEWAY_TOKEN, then the profile's
  --basic <id:secret>   HTTP Basic credentials of an API client instead of a token
  --profile <name>      use this profile (default: $CONSENT_GATEWAY_PROFILE, then \`profile use\`)
  -s, --server <url>    the gateway's URL (default: $CONSENT_GATEWAY_SERVER, the profile's, ${DEFAULT_BASE_URL})
  -i, --include         print the response status and headers
  --json                raw JSON (no formatting)
  -v, --verbose         print the request (credentials masked) and the response status on stderr
  --jsonata <expr>      transform the response with a JSONata expression
  -o, --output <file>   write the response's data to <file> instead of stdout (e.g. an export)
  --definition <file|url>  use another OpenAPI document
  --guided              prompt for every parameter and body field
  --no-interactive      never prompt: fail when something required is missing

Exit codes: 0 on 2xx, 1 on an HTTP error (details on stderr), 2 on bad usage.`;

export function listOperations(definition: Definition, io: Io) {
  const c = pc.createColors(colorsFor(io.stdout, io.env));
  const entries = Object.entries(definition.operations);
  const width = Math.max(...entries.map(([id]) => id.length));
  const lines = entries.map(([id, info]) => `  ${c.bold(id.padEnd(width))}  ${info.summary ?? ""}  ${c.dim(`${info.method} ${info.path}`)}`);
  io.stdout.write(`Operations (${BIN} consent <operationId> --help for one):\n\n${lines.join("\n")}\n`);
}

export function operationHelp(definition: Definition, operationId: string, io: Io) {
  const info = definition.operations[operationId]!;
  const raw = definition.raw[operationId] ?? {};
  const out: string[] = [`${operationId}: ${info.summary ?? ""}`, "", `  ${info.method} ${info.path}`];
  if (raw.description && raw.description !== info.summary) out.push("", `  ${String(raw.description).replace(/\n/g, "\n  ")}`);
  out.push("", `Authentication: ${info.public ? "none (public)" : "Bearer token (-t) or API client (--basic id:secret)"}`);
  const parameters = parameterObjects(definition, operationId);
  if (parameters.length) {
    out.push("", "Parameters:");
    const width = Math.max(...parameters.map((p) => p.name.length));
    for (const p of parameters) {
      const def = p.schema?.default !== undefined ? `, default ${JSON.stringify(p.schema.default)}` : "";
      out.push(`  ${p.name.padEnd(width)}  ${p.in.padEnd(6)} ${typeName(definition.document, p.schema)}, ${isRequired(p) ? "required" : "optional"}${def}${p.description ? ` — ${p.description}` : ""}`);
    }
  }
  const schema = bodySchema(definition, operationId);
  if (schema) {
    out.push("", `Request body (${info.body!.contentType}${info.body!.required ? ", required" : ""}):`);
    if (schema.properties) {
      const required = new Set<string>(schema.required ?? []);
      const width = Math.max(...Object.keys(schema.properties).map((k) => k.length));
      for (const [name, property] of Object.entries<any>(schema.properties)) {
        out.push(`  ${name.padEnd(width)}  ${typeName(definition.document, property)}${required.has(name) ? ", required" : ""}`);
      }
    }
    out.push("", "Sample body:", JSON.stringify(sampleFor(definition.document, schema), null, 2).replace(/^/gm, "  "));
  }
  const pathParams = info.parameters.filter((p) => p.in === "path").map((p) => `<${p.name}>`);
  out.push("", "Sample call:", `  ${BIN} consent ${operationId}${pathParams.length ? ` ${pathParams.join(" ")}` : ""}${schema ? ` -d '${JSON.stringify(sampleFor(definition.document, schema))}'` : ""}`);
  if (schema) out.push(`  cat body.json | ${BIN} consent ${operationId}`);
  io.stdout.write(`${out.join("\n")}\n`);
}
