/** The parameters of a call: -p key=value, then the positional arguments for the path parameters still unset, in order. */
import type { OperationInfo } from "../sdk/operation-table";
import { parseParams } from "./options";
import { UsageError } from "./usage";

export function commandLineParams(operationId: string, info: OperationInfo, pairs: readonly string[] | undefined, pathArgs: readonly string[]): Record<string, string> {
  const params = parseParams(pairs);
  const freePathParams = info.parameters.filter((p) => p.in === "path" && params[p.name] === undefined);
  if (pathArgs.length > freePathParams.length) {
    throw new UsageError(`${operationId} takes ${freePathParams.length ? `${freePathParams.length} more path argument(s) (${freePathParams.map((p) => p.name).join(", ")})` : "no path arguments"}, got ${pathArgs.length}`);
  }
  pathArgs.forEach((value, i) => (params[freePathParams[i]!.name] = value));
  // Checked here too (the SDK checks when sending) so that nobody is prompted for a call that cannot be made.
  const known = new Set(info.parameters.map((p) => p.name));
  const unknown = Object.keys(params).filter((name) => !known.has(name));
  if (unknown.length) throw new UsageError(`${operationId} has no parameter ${unknown.join(", ")} (parameters: ${[...known].join(", ") || "none"})`);
  return params;
}
