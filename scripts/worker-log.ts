import { stripVTControlCharacters } from "node:util";

/**
 * What workerd prints when a request awaits a promise, timer or I/O object of another request
 * (which the deployed runtime refuses): such a line in the gateway's output fails the run.
 */
const CROSS_REQUEST = /Uncaught|never complete|different request|canceled this request because it detected that your Worker's code had hung/i;

export function crossRequestLines(output: string): string[] {
  return stripVTControlCharacters(output)
    .split("\n")
    .filter((line) => CROSS_REQUEST.test(line));
}
