/**
 * consent-gateway: the API's operations as commands, read from its OpenAPI document.
 *
 *   consent-gateway consent                              list the operations
 *   consent-gateway consent <operationId> --help         its parameters and a sample body
 *   consent-gateway consent <operationId> [path args…] [-p k=v] [-d json | stdin] [flags]
 *   consent-gateway profile add|list|use|remove …
 *
 * Exit codes: 0 on a 2xx answer, 1 on an HTTP error (or when the server cannot be reached), 2 on bad usage.
 */
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import jsonata from "jsonata";
import pc from "picocolors";
import { authorizationHeader, basicAuth, DEFAULT_BASE_URL } from "../sdk/client";
import { ConsentUsageError, sendOperation } from "../sdk/request";
import { bodySchema, loadDefinition, parameterObjects, sampleFor, typeName, type Definition } from "./definition";
import { promptBody, promptParameters } from "./guided";
import { colorsFor, formatData, maskHeader, type JsonStyle } from "./output";
import { chooseProfile, profilesFile, readProfiles, writeProfiles, type Profile } from "./profiles";
import { UsageError } from "./usage";

const BIN = "consent-gateway";

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

const CALL_OPTIONS = {
  param: { type: "string", short: "p", multiple: true },
  data: { type: "string", short: "d" },
  header: { type: "string", short: "H", multiple: true },
  token: { type: "string", short: "t" },
  basic: { type: "string" },
  profile: { type: "string" },
  server: { type: "string", short: "s" },
  include: { type: "boolean", short: "i" },
  json: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  jsonata: { type: "string" },
  definition: { type: "string" },
  guided: { type: "boolean" },
  "no-interactive": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const PROFILE_OPTIONS = {
  server: { type: "string", short: "s" },
  token: { type: "string", short: "t" },
  basic: { type: "string" },
  header: { type: "string", short: "H", multiple: true },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const USAGE = `Usage:
  ${BIN} consent                                  list the operations
  ${BIN} consent <operationId> --help             parameters and a sample body
  ${BIN} consent <operationId> [args…] [flags]    call an operation (args fill path parameters in order)
  ${BIN} profile add <name> -s <url> [-t <token> | --basic <id:secret>] [-H 'Key: Value']…
  ${BIN} profile list | use <name> | remove <name>

Flags:
  -p key=value          a parameter (path, query or header), repeatable
  -d '<json>'           the request body (or pipe it on stdin)
  -H 'Key: Value'       a request header, repeatable
  -t, --token <token>   Bearer token (JWT); default: $CONSENT_GATEWAY_TOKEN, then the profile's
  --basic <id:secret>   HTTP Basic credentials of an API client instead of a token
  --profile <name>      use this profile (default: $CONSENT_GATEWAY_PROFILE, then \`profile use\`)
  -s, --server <url>    the gateway's URL (default: $CONSENT_GATEWAY_SERVER, the profile's, ${DEFAULT_BASE_URL})
  -i, --include         print the response status and headers
  --json                raw JSON (no formatting)
  -v, --verbose         print the request (credentials masked) and the response status on stderr
  --jsonata <expr>      transform the response with a JSONata expression
  --definition <file|url>  use another OpenAPI document
  --guided              prompt for every parameter and body field
  --no-interactive      never prompt: fail when something required is missing

Exit codes: 0 on 2xx, 1 on an HTTP error (details on stderr), 2 on bad usage.`;

function parse<O extends ParseArgsConfig["options"]>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseHeaders(values: readonly string[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const colon = value.indexOf(":");
    if (colon <= 0) throw new UsageError(`-H '${value}': expected 'Key: Value'`);
    headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
  }
  return headers;
}

function parseBasic(value: string): string {
  const colon = value.indexOf(":");
  if (colon <= 0) throw new UsageError(`--basic '${value}': expected <client_id>:<secret>`);
  return value;
}

async function readStdin(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

function parseJsonBody(text: string, from: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${from} is not valid JSON (${(error as Error).message})`);
  }
}

// ----- consent: listing and help -----

function listOperations(definition: Definition, io: Io) {
  const c = pc.createColors(colorsFor(io.stdout, io.env));
  const entries = Object.entries(definition.operations);
  const width = Math.max(...entries.map(([id]) => id.length));
  const lines = entries.map(([id, info]) => `  ${c.bold(id.padEnd(width))}  ${info.summary ?? ""}  ${c.dim(`${info.method} ${info.path}`)}`);
  io.stdout.write(`Operations (${BIN} consent <operationId> --help for one):\n\n${lines.join("\n")}\n`);
}

function operationHelp(definition: Definition, operationId: string, io: Io) {
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
      const required = p.in === "path" || p.required ? "required" : "optional";
      const def = p.schema?.default !== undefined ? `, default ${JSON.stringify(p.schema.default)}` : "";
      out.push(`  ${p.name.padEnd(width)}  ${p.in.padEnd(6)} ${typeName(definition.document, p.schema)}, ${required}${def}${p.description ? ` — ${p.description}` : ""}`);
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

// ----- consent: calling -----

async function callOperation(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, CALL_OPTIONS);
  const definition = await loadDefinition(values.definition);
  const [operationId, ...pathArgs] = positionals;
  if (!operationId) {
    if (values.help) io.stdout.write(`${USAGE}\n`);
    else listOperations(definition, io);
    return 0;
  }
  const info = definition.operations[operationId];
  if (!info) {
    const near = Object.keys(definition.operations).find((id) => id.toLowerCase() === operationId.toLowerCase());
    throw new UsageError(`unknown operation "${operationId}"${near ? ` (did you mean ${near}?)` : ""}; \`${BIN} consent\` lists them`);
  }
  if (values.help) {
    operationHelp(definition, operationId, io);
    return 0;
  }
  if (values.guided && values["no-interactive"]) throw new UsageError("--guided and --no-interactive exclude each other");

  // Parameters: -p key=value, then positional arguments for the path parameters still unset, in order.
  const params: Record<string, string> = {};
  for (const pair of values.param ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`-p '${pair}': expected key=value`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const freePathParams = info.parameters.filter((p) => p.in === "path" && params[p.name] === undefined);
  if (pathArgs.length > freePathParams.length) {
    throw new UsageError(`${operationId} takes ${freePathParams.length ? `${freePathParams.length} more path argument(s) (${freePathParams.map((p) => p.name).join(", ")})` : "no path arguments"}, got ${pathArgs.length}`);
  }
  pathArgs.forEach((value, i) => (params[freePathParams[i]!.name] = value));
  const known = new Set(info.parameters.map((p) => p.name));
  const unknown = Object.keys(params).filter((name) => !known.has(name));
  if (unknown.length) throw new UsageError(`${operationId} has no parameter ${unknown.join(", ")} (parameters: ${[...known].join(", ") || "none"})`);

  // Body: -d, else stdin when it is piped (and the operation takes one).
  let body: unknown;
  if (values.data !== undefined) {
    if (!info.body) throw new UsageError(`${operationId} takes no request body`);
    body = parseJsonBody(values.data, "-d");
  } else if (info.body && !io.stdin.isTTY && !values.guided) {
    const text = await readStdin(io.stdin);
    if (text.trim() !== "") body = parseJsonBody(text, "the body on stdin");
  }

  // Prompts: everything with --guided; the missing required things on a terminal unless --no-interactive.
  const canPrompt = io.stdin.isTTY === true && !values["no-interactive"];
  const missingParams = info.parameters.filter((p) => p.required && params[p.name] === undefined).map((p) => p.name);
  const missingBody = info.body?.required && body === undefined;
  if (values.guided) {
    if (!io.stdin.isTTY) throw new UsageError("--guided needs a terminal on stdin");
    await promptParameters(definition, operationId, params, true);
    if (info.body) body = await promptBody(definition, operationId, body);
  } else if (missingParams.length || missingBody) {
    if (!canPrompt) {
      const what = [
        ...missingParams.map((name) => `parameter "${name}" (-p ${name}=… or a positional argument)`),
        ...(missingBody ? ["a request body (-d '<json>' or on stdin)"] : []),
      ];
      throw new UsageError(`${operationId} needs ${what.join(" and ")}${values["no-interactive"] ? "" : "; --guided prompts for them on a terminal"}`);
    }
    await promptParameters(definition, operationId, params, false);
    if (missingBody) body = await promptBody(definition, operationId, undefined);
  }

  // Where and as whom.
  const store = readProfiles(io.env);
  const [, profile] = chooseProfile(store, values.profile, io.env) ?? [undefined, {} as Profile];
  const headers: Record<string, string> = { ...profile.headers };
  let authorization: string | undefined;
  if (values.token !== undefined) authorization = authorizationHeader(values.token);
  else if (values.basic !== undefined) authorization = basicAuth(...splitBasic(parseBasic(values.basic)));
  else if (io.env.CONSENT_GATEWAY_TOKEN) authorization = authorizationHeader(io.env.CONSENT_GATEWAY_TOKEN);
  else if (profile.token) authorization = authorizationHeader(profile.token);
  else if (profile.basic) authorization = basicAuth(...splitBasic(profile.basic));
  if (authorization && !info.public) headers.Authorization = authorization;
  Object.assign(headers, parseHeaders(values.header));
  const server = values.server ?? io.env.CONSENT_GATEWAY_SERVER ?? profile.server ?? definition.document.servers?.[0]?.url ?? DEFAULT_BASE_URL;

  const errColors = pc.createColors(colorsFor(io.stderr, io.env));
  let answer;
  try {
    answer = await sendOperation(operationId, info, {
      baseUrl: server,
      params,
      body,
      headers,
      onRequest: values.verbose
        ? ({ method, url, headers: sent, body: text, attempt }) => {
            const lines = [`${attempt ? `(retry ${attempt}) ` : ""}> ${method} ${url}`];
            sent.forEach((value, name) => lines.push(`> ${name}: ${maskHeader(name, value)}`));
            if (text !== undefined) lines.push(">", `> ${text}`);
            io.stderr.write(errColors.dim(`${lines.join("\n")}\n`));
          }
        : undefined,
    });
  } catch (error) {
    if (error instanceof ConsentUsageError) throw new UsageError(error.message);
    io.stderr.write(`${BIN}: cannot reach ${server}: ${(error as Error).cause ? String((error as Error & { cause: Error }).cause.message ?? (error as Error).cause) : (error as Error).message}\n`);
    return 1;
  }
  if (values.verbose) io.stderr.write(errColors.dim(`< ${answer.status} ${answer.statusText}\n`));

  const ok = answer.status >= 200 && answer.status <= 299;
  if (values.include) {
    const lines = [`HTTP ${answer.status} ${answer.statusText}`];
    answer.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
    io.stdout.write(`${lines.join("\n")}\n\n`);
  }
  if (!ok) {
    const style: JsonStyle = values.json ? "raw" : colorsFor(io.stderr, io.env) ? "color" : "pretty";
    const text = answer.data === null ? `${answer.status} ${answer.statusText}` : formatData(answer.data, style);
    io.stderr.write(`${text}\n`);
    return 1;
  }
  let data = answer.data;
  if (values.jsonata !== undefined) {
    let expression;
    try {
      expression = jsonata(values.jsonata);
    } catch (error) {
      throw new UsageError(`--jsonata: ${(error as Error).message}`);
    }
    data = await expression.evaluate(data);
    if (data === undefined) return 0;
  }
  if (data === null && values.jsonata === undefined) return 0;
  const style: JsonStyle = values.json ? "raw" : colorsFor(io.stdout, io.env) ? "color" : "pretty";
  // Text (an HTML page, a string picked by --jsonata) is printed as it is; --json prints such a result as a JSON string.
  io.stdout.write(`${typeof data === "string" && values.json && values.jsonata !== undefined ? JSON.stringify(data) : formatData(data, style)}\n`);
  return 0;
}

function splitBasic(value: string): [string, string] {
  const colon = value.indexOf(":");
  return [value.slice(0, colon), value.slice(colon + 1)];
}

// ----- profiles -----

async function profileCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, PROFILE_OPTIONS);
  const [action, name, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(`${USAGE}\n\nProfiles are kept in ${profilesFile(io.env)} (mode 0600).\n`);
    return values.help ? 0 : 2;
  }
  if (rest.length) throw new UsageError(`profile ${action}: unexpected ${rest.join(" ")}`);
  const store = readProfiles(io.env);
  const needName = () => {
    if (!name) throw new UsageError(`profile ${action} needs a name`);
    return name;
  };
  switch (action) {
    case "add": {
      const profileName = needName();
      if (!values.server) throw new UsageError("profile add needs -s <url>");
      if (values.token && values.basic) throw new UsageError("profile add takes -t or --basic, not both");
      const profile: Profile = { server: values.server };
      if (values.token) profile.token = values.token;
      if (values.basic) profile.basic = parseBasic(values.basic);
      const headers = parseHeaders(values.header);
      if (Object.keys(headers).length) profile.headers = headers;
      store.profiles[profileName] = profile;
      store.current ??= profileName;
      const file = writeProfiles(store, io.env);
      io.stdout.write(`Saved profile "${profileName}" in ${file}${store.current === profileName ? " (in use)" : ""}\n`);
      return 0;
    }
    case "list": {
      if (values.json) {
        const masked = Object.fromEntries(
          Object.entries(store.profiles).map(([n, p]) => [n, { server: p.server, auth: p.token ? "bearer" : p.basic ? "basic" : "none", headers: Object.keys(p.headers ?? {}), current: n === store.current }]),
        );
        io.stdout.write(`${JSON.stringify(masked)}\n`);
        return 0;
      }
      const names = Object.keys(store.profiles);
      if (!names.length) io.stdout.write(`No profiles yet: ${BIN} profile add <name> -s <url> -t <token>\n`);
      for (const n of names) {
        const p = store.profiles[n]!;
        const auth = p.token ? "bearer token" : p.basic ? `basic ${p.basic.split(":")[0]}:********` : "no credentials";
        io.stdout.write(`${n === store.current ? "*" : " "} ${n}  ${p.server ?? ""}  (${auth})\n`);
      }
      return 0;
    }
    case "use": {
      const profileName = needName();
      if (!store.profiles[profileName]) throw new UsageError(`no profile named "${profileName}"`);
      store.current = profileName;
      writeProfiles(store, io.env);
      io.stdout.write(`Using profile "${profileName}"\n`);
      return 0;
    }
    case "remove": {
      const profileName = needName();
      if (!store.profiles[profileName]) throw new UsageError(`no profile named "${profileName}"`);
      delete store.profiles[profileName];
      if (store.current === profileName) delete store.current;
      writeProfiles(store, io.env);
      io.stdout.write(`Removed profile "${profileName}"\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown profile action "${action}" (add, list, use, remove)`);
  }
}

// ----- entry -----

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
  } catch {
    return "unknown";
  }
}

export async function main(argv: string[], io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "consent":
        return await callOperation(rest, io);
      case "profile":
        return await profileCommand(rest, io);
      case "--version":
      case "-V":
        io.stdout.write(`${version()}\n`);
        return 0;
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageError(command ? `unknown command "${command}"` : "missing command");
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${BIN}: ${error.message}\n${command === "consent" || command === "profile" ? "" : `\n${USAGE}\n`}`);
      return 2;
    }
    if ((error as Error).name === "ExitPromptError") {
      io.stderr.write(`${BIN}: cancelled\n`);
      return 2;
    }
    throw error;
  }
}
