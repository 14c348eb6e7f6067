/** The request body the command line gives: -d, else stdin when it is piped (and the operation takes one). */
import type { OperationInfo } from "../sdk/operation-table";
import { UsageError } from "./usage";

/** application/json and application/*+json (not application/x-ndjson, whose lines are JSON but whose body is not). */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

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

/**
 * The body, or undefined; with --guided stdin is left to the prompts. JSON unless `contentType`
 * (a -H Content-Type) names another media type, e.g. application/x-ndjson: that text goes as it is.
 */
export async function commandLineBody(
  operationId: string,
  info: OperationInfo,
  data: string | undefined,
  stdin: NodeJS.ReadStream,
  guided: boolean,
  contentType?: string,
): Promise<unknown> {
  const read = contentType === undefined || JSON_MEDIA_TYPE.test(contentType.split(";")[0]!.trim()) ? parseJsonBody : (text: string) => text;
  if (data !== undefined) {
    if (!info.body) throw new UsageError(`${operationId} takes no request body`);
    return read(data, "-d");
  }
  if (info.body && !stdin.isTTY && !guided) {
    const text = await readStdin(stdin);
    if (text.trim() !== "") return read(text, "the body on stdin");
  }
  return undefined;
}
