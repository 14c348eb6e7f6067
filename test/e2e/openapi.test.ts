import { Validator } from "@seriousme/openapi-schema-validator";
import { expect, inject, it } from "vitest";

it("the served document validates as OpenAPI 3.1", async () => {
  const document = await (await fetch(`${inject("gatewayUrl")}/openapi.json`)).json();
  const validator = new Validator();
  const result = await validator.validate(document as Parameters<Validator["validate"]>[0]);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
});

it("the validator refuses a broken document (the check can fail)", async () => {
  const document = (await (await fetch(`${inject("gatewayUrl")}/openapi.json`)).json()) as { paths: Record<string, any> };
  document.paths["/v1/consent/publish"].post.responses = { 201: { content: {} } };
  const result = await new Validator().validate(document);
  expect(result.valid).toBe(false);
});
