import { describe, expect, it } from "vitest";
import { basic, hs256, list, postJson, publish, uniqueEmail } from "../helpers/gateway";

describe("organizations never see each other's events", () => {
  it("through the epilot API, with either scheme", async () => {
    const identifier = uniqueEmail("shared");
    expect((await publish({ type: "OPT_IN", topic: "NEWS", identifier }, basic("acme"))).status).toBe(201);
    expect((await publish({ type: "OPT_OUT", topic: "NEWS", identifier }, basic("globex"))).status).toBe(201);

    const acme = await (await list(identifier, "", basic("acme"))).json<any>();
    const globex = await (await list(identifier, "", await hs256({ organization_id: "org-globex" }))).json<any>();
    expect(acme.total).toBe(1);
    expect(acme.events.map((e: any) => [e.type, e.organization_id])).toEqual([["OPT_IN", "org-acme"]]);
    expect(globex.total).toBe(1);
    expect(globex.events.map((e: any) => [e.type, e.organization_id])).toEqual([["OPT_OUT", "org-globex"]]);
  });

  it("through the Copilot endpoint", async () => {
    const userId = crypto.randomUUID();
    const path = "/v2/api/report/user_copilot_analysis_consent_changed";
    expect((await postJson(path, { consent_value: true, user_id: userId }, basic("globex"))).status).toBe(200);
    expect(await (await list(userId, "", basic("acme"))).json()).toEqual({ events: [], total: 0 });
    expect((await (await list(userId, "", basic("globex"))).json<any>()).total).toBe(1);
  });

  it("even when organization ids and identifiers could be concatenated alike", async () => {
    // ("org-a", "b:c") and ("org-a:b", "c") must be different histories.
    const a = await hs256({ organization_id: "org-x" });
    const b = await hs256({ organization_id: "org-x:y" });
    const suffix = crypto.randomUUID();
    expect((await publish({ type: "OPT_IN", topic: "T", identifier: `y:${suffix}` }, a)).status).toBe(201);
    expect(await (await list(suffix, "", b)).json()).toEqual({ events: [], total: 0 });
  });
});
