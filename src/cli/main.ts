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
import { consentCommand } from "./call";
import { USAGE } from "./help";
import { BIN, type Io } from "./io";
import { profileCommand } from "./profile-command";
import { UsageError } from "./usage";
import { version } from "./version";

export async function main(argv: string[], io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "consent":
        return await consentCommand(rest, io);
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
      // The two commands' own errors are specific enough; a wrong command gets the whole usage.
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
