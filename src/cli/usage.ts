/** Bad usage of the CLI: printed on stderr, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
