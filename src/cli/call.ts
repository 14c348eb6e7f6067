/** `consent-gateway consent`: lists the operations, shows one's help, or calls one and prints the answer. */
import { DEFAULT_BASE_URL } from "../sdk/client";
import { ConsentUsageError, sendOperation, type SentResponse } from "../sdk/request";
import { commandLineBody } from "./body";
import { chooseAuthorization, credentialFlags } from "./credentials";
import { loadDefinition } from "./definition";
import { completeCall } from "./guided";
import { listOperations, operationHelp, USAGE } from "./help";
import { BIN, type Io } from "./io";
import { CALL_OPTIONS, parse, parseHeaders } from "./options";
import { printAnswer, printRequest } from "./output";
import { commandLineParams } from "./params";
import { chooseProfile, readProfiles, type Profile } from "./profiles";
import { UsageError } from "./usage";

/** A header's value among `headers`, whatever the case of its name. */
const headerValue = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];

export async function consentCommand(args: string[], io: Io): Promise<number> {
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

  const params = commandLineParams(operationId, info, values.param, pathArgs);
  const given = await commandLineBody(operationId, info, values.data, io.stdin, values.guided === true, headerValue(parseHeaders(values.header), "Content-Type"));
  const body = await completeCall(definition, operationId, params, given, values, io.stdin);

  // Where and as whom.
  const [, profile] = chooseProfile(readProfiles(io.env), values.profile, io.env) ?? [undefined, {} as Profile];
  const authorization = chooseAuthorization(credentialFlags(values, io, "sending"), io.env, profile);
  // A credential found above replaces an Authorization header saved in the profile; -H replaces both (sendOperation).
  const saved = Object.entries(profile.headers ?? {}).filter(([name]) => !authorization || name.toLowerCase() !== "authorization");
  const headers = { ...Object.fromEntries(saved), ...parseHeaders(values.header) };
  const server = values.server ?? io.env.CONSENT_GATEWAY_SERVER ?? profile.server ?? definition.document.servers?.[0]?.url ?? DEFAULT_BASE_URL;

  let answer: SentResponse;
  try {
    answer = await sendOperation(operationId, info, { baseUrl: server, params, body, headers, authorization, onRequest: values.verbose ? printRequest(io) : undefined });
  } catch (error) {
    if (error instanceof ConsentUsageError) throw new UsageError(error.message);
    io.stderr.write(`${BIN}: cannot reach ${server}: ${(error as Error).cause ? String((error as Error & { cause: Error }).cause.message ?? (error as Error).cause) : (error as Error).message}\n`);
    return 1;
  }
  return printAnswer(answer, values, io);
}
