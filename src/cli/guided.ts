/**
 * Prompts on the terminal (@inquirer/prompts): `--guided` asks for every parameter and body field;
 * otherwise only for what is required and missing, and only when stdin is a terminal and
 * `--no-interactive` was not given. Prompts are written to stderr, so stdout stays the answer.
 */
import { input, select } from "@inquirer/prompts";
import { deref, isRequired, type OpenApiDocumentLike } from "../sdk/operation-table";
import { bodySchema, parameterObjects, typeName, type Definition } from "./definition";
import { UsageError } from "./usage";

const context = { output: process.stderr };
const SKIP = Symbol("skip");

function describe(parameterOrProperty: { description?: string }, type: string, required: boolean) {
  // The first sentence of the description is enough on a prompt line.
  const description = parameterOrProperty.description?.split(/(?<=[.:;])\s/)[0]?.replace(/[.:;]$/, "");
  return `${type}${required ? ", required" : ""}${description ? ` — ${description}` : ""}`;
}

/** Asks for one value of `schema`; answers SKIP for an optional value left empty. */
async function askValue(document: OpenApiDocumentLike, label: string, schema: any, required: boolean, current: unknown): Promise<unknown> {
  const s = deref(document, schema ?? {});
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  const hint = describe(s, typeName(document, s), required);
  if (Array.isArray(s.enum) || type === "boolean") {
    const values: unknown[] = Array.isArray(s.enum) ? s.enum : [true, false];
    const choices: { name: string; value: unknown }[] = values.map((v) => ({ name: String(v), value: v }));
    if (!required) choices.push({ name: "(leave out)", value: SKIP });
    return select({ message: `${label} (${hint})`, choices, default: current ?? (required ? undefined : SKIP) }, context);
  }
  const structured = type === "object" || type === "array" || s.properties || (!type && !s.enum);
  const text = await input(
    {
      message: `${label} (${hint}${structured ? ", as JSON" : ""})`,
      default: current === undefined ? undefined : structured || typeof current !== "string" ? JSON.stringify(current) : current,
      required,
      validate: (value: string) => {
        if (value === "") return required ? "required" : true;
        if (type === "integer" && !/^-?\d+$/.test(value.trim())) return "an integer, please";
        if (type === "number" && Number.isNaN(Number(value))) return "a number, please";
        if (structured) {
          try {
            JSON.parse(value);
          } catch {
            return "valid JSON, please";
          }
        }
        return true;
      },
    },
    context,
  );
  if (text === "") return SKIP;
  if (type === "integer" || type === "number") return Number(text);
  return structured ? JSON.parse(text) : text;
}

/** Asks for parameters: every one (guided) or the required ones still missing. */
async function promptParameters(definition: Definition, operationId: string, params: Record<string, string>, all: boolean) {
  for (const parameter of parameterObjects(definition, operationId)) {
    const required = isRequired(parameter);
    if (!all && (!required || params[parameter.name] !== undefined)) continue;
    const value = await askValue(
      definition.document,
      `${parameter.name} [${parameter.in}]`,
      { ...deref(definition.document, parameter.schema ?? {}), description: parameter.description },
      required,
      params[parameter.name],
    );
    if (value === SKIP) delete params[parameter.name];
    else params[parameter.name] = String(value);
  }
}

/** Asks for the body field by field (for an object schema), starting from `current`. */
async function promptBody(definition: Definition, operationId: string, current: unknown): Promise<unknown> {
  const schema = bodySchema(definition, operationId);
  if (!schema) return current;
  if (!schema.properties) {
    const value = await askValue(definition.document, "request body", schema, true, current);
    return value === SKIP ? undefined : value;
  }
  const body: Record<string, unknown> = current && typeof current === "object" ? { ...(current as object) } : {};
  const required = new Set<string>(schema.required ?? []);
  for (const [name, property] of Object.entries<any>(schema.properties)) {
    const value = await askValue(definition.document, name, property, required.has(name), body[name]);
    if (value === SKIP) delete body[name];
    else body[name] = value;
  }
  return body;
}

/**
 * Completes a call from the command line: fills in `params` and answers the body. Without a way to
 * prompt, what is still missing is bad usage, and the message names it.
 */
export async function completeCall(
  definition: Definition,
  operationId: string,
  params: Record<string, string>,
  body: unknown,
  flags: { guided?: boolean; "no-interactive"?: boolean },
  stdin: NodeJS.ReadStream,
): Promise<unknown> {
  const info = definition.operations[operationId]!;
  if (flags.guided) {
    if (!stdin.isTTY) throw new UsageError("--guided needs a terminal on stdin");
    await promptParameters(definition, operationId, params, true);
    return info.body ? promptBody(definition, operationId, body) : body;
  }
  const missingParams = info.parameters.filter((p) => p.required && params[p.name] === undefined).map((p) => p.name);
  const missingBody = info.body?.required && body === undefined;
  if (!missingParams.length && !missingBody) return body;
  if (stdin.isTTY !== true || flags["no-interactive"]) {
    const what = [
      ...missingParams.map((name) => `parameter "${name}" (-p ${name}=… or a positional argument)`),
      ...(missingBody ? ["a request body (-d '<json>' or on stdin)"] : []),
    ];
    throw new UsageError(`${operationId} needs ${what.join(" and ")}${flags["no-interactive"] ? "" : "; --guided prompts for them on a terminal"}`);
  }
  await promptParameters(definition, operationId, params, false);
  return missingBody ? promptBody(definition, operationId, undefined) : body;
}
