/** What a command reads and writes: the process's streams and environment, or a test's. */

/** The CLI's name, as its messages and help texts give it. */
export const BIN = "consent-gateway";

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** One line on stderr about something that is likely a mistake but not bad usage: the command goes on. */
export function warn(io: Io, message: string): void {
  io.stderr.write(`${BIN}: warning: ${message}\n`);
}
