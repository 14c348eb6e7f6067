/** What a command reads and writes: the process's streams and environment, or a test's. */

/** The CLI's name, as its messages and help texts give it. */
export const BIN = "consent-gateway";

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}
