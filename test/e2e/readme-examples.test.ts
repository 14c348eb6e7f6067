import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, inject, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

it("the README's SDK example (examples/sdk.ts) runs as written and prints what the README shows", () => {
  const output = execFileSync(process.execPath, ["examples/sdk.ts"], {
    cwd: root,
    env: { ...process.env, GATEWAY_URL: inject("gatewayUrl") },
    encoding: "utf8",
  });
  const lines = output.trim().split("\n");
  expect(lines[0]).toMatch(/^201 OPT_IN \d{4}-\d\d-\d\dT/);
  expect(lines[1]).toMatch(/^\d+ event\(s\), newest: OPT_IN$/);
  expect(lines.slice(2)).toEqual(["opt-in page: English", "without credentials: Credentials are required."]);
});
