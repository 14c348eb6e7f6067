import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import { signLink, signPreferencesLink } from "../../src/consent/link-token";
import { MAX_PREFERENCES_BODY_BYTES } from "../../src/http/links/preferences";
import { app } from "../../src/index";
import { TEST_PREVIOUS_SIGNING_KEY, TEST_PUBLIC_BASE_URL, TEST_SIGNING_KEY } from "../fixtures/credentials";
import { basic, call, list, postJson, publish, uniqueEmail } from "../helpers/gateway";
import { ledgerOf } from "../helpers/ledger";
import { wrapStubs } from "../helpers/stubs";
import { hostileString, RUNS } from "../properties/arbitraries";

const ring = { current: TEST_SIGNING_KEY, previous: [] };
const ORG_TOPICS = ["LIMITED", "NOTICED", "MEMBER_NEWS", "PARTNER_OFFERS"];

/** Someone who asked for the newsletter (double opt-in) and was granted EXTRA: their preference page link. */
async function newPerson(lang?: string) {
  const identifier = uniqueEmail("prefs");
  const response = await postJson("/v1/consent/double-opt-in", { topic: "MEMBER_NEWS", identifier, ...(lang ? { lang } : {}) });
  expect(response.status).toBe(201);
  const { preferences_url } = await response.json<{ preferences_url: string }>();
  expect((await publish({ type: "OPT_IN", topic: "EXTRA", identifier })).status).toBe(201);
  return { identifier, url: preferences_url };
}

const open = (url: string, init: RequestInit = {}) => exports.default.fetch(new Request(url, { redirect: "manual", ...init }));
const save = (url: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}) => {
  const body = new URLSearchParams();
  for (const [name, values] of Object.entries(form)) for (const value of [values].flat()) body.append(name, value);
  return open(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "203.0.113.9", "User-Agent": "TestBrowser/2.0", ...headers },
    body,
  });
};
const history = async (identifier: string) => (await (await list(identifier, "?limit=100")).json<any>()).events.reverse() as any[];

/** The page's checkboxes: topic -> whether ticked and whether it can be changed. */
function checkboxes(html: string): Record<string, { checked: boolean; disabled: boolean }> {
  return Object.fromEntries(
    [...html.matchAll(/<input type="checkbox"[^>]*>/g)].map(([tag]) => [
      /value="([^"]*)"/.exec(tag)![1]!,
      { checked: /\schecked(="")?[\s>/]/.test(tag), disabled: /\sdisabled(="")?[\s>/]/.test(tag) },
    ]),
  );
}
const shownTopics = (html: string) => [...html.matchAll(/<input type="hidden" name="shown" value="([^"]*)"/g)].map((m) => m[1]!);

describe("preference page links", () => {
  it("every double opt-in answer carries a signed preferences_url without the identifier", async () => {
    const { identifier, url } = await newPerson("en");
    expect(url).toMatch(/^https:\/\/consent\.example\.test\/v1\/preferences\/[\w-]+\.[\w-]+\.[\w-]+\?lang=en$/);
    expect(url).not.toContain(encodeURIComponent(identifier));
    expect(atob(url.split("/").at(-1)!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).not.toContain("@");
  });

  it("createPreferencesLink answers {preferences_url, expires_at} PREFERENCES_LINK_TTL_DAYS (365) long, and records nothing", async () => {
    const { identifier } = await newPerson();
    const before = Date.now();
    const response = await call(`/v1/consent/${encodeURIComponent(identifier)}/preferences-link?lang=fr`, { method: "POST", headers: { Authorization: basic("acme") } });
    expect(response.status).toBe(200);
    const { preferences_url, expires_at } = await response.json<any>();
    expect(preferences_url).toMatch(/^https:\/\/consent\.example\.test\/v1\/preferences\/[\w.-]+\?lang=fr$/);
    const days = (Date.parse(expires_at) - before) / 86_400_000;
    expect(days).toBeGreaterThan(364.9);
    expect(days).toBeLessThan(365.1);
    expect((await open(preferences_url)).status).toBe(200);
    expect((await history(identifier)).length).toBe(2);
  });

  it("createPreferencesLink needs consent:write, refuses an identifier without history (404) and a bad language (400)", async () => {
    const { identifier } = await newPerson();
    const link = (who: string, authorization: string, query = "") => call(`/v1/consent/${encodeURIComponent(who)}/preferences-link${query}`, { method: "POST", headers: { Authorization: authorization } });
    expect((await link(identifier, "")).status).toBe(401);
    expect((await link(identifier, basic("acme-reader"))).status).toBe(403);
    const unknown = await link(uniqueEmail("never"), basic("acme"));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ status: 404 });
    // Another organization has no history of this person.
    expect((await link(identifier, basic("globex"))).status).toBe(404);
    const bad = await link(identifier, basic("acme"), "?lang=xx");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ location: "query", path: "lang" }] });
  });
});

describe("GET /v1/preferences/{token}", () => {
  it("shows the organization's topics and the person's, with labels, branding and state; GET and HEAD change nothing", async () => {
    const { identifier, url } = await newPerson();
    const before = await history(identifier);
    const response = await open(`${url}?lang=en`);
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Robots-Tag")).toBe("noindex, nofollow");
    const html = await response.text();
    expect(shownTopics(html)).toEqual([...ORG_TOPICS, "EXTRA"]);
    expect(checkboxes(html)).toEqual({
      LIMITED: { checked: false, disabled: false },
      NOTICED: { checked: false, disabled: false },
      MEMBER_NEWS: { checked: false, disabled: false },
      PARTNER_OFFERS: { checked: false, disabled: false },
      EXTRA: { checked: true, disabled: false },
    });
    expect(html).toContain("Member news");
    expect(html).toContain("Partner offers");
    expect(html).toContain("Waiting for your confirmation");
    expect(html).toContain("Acme &lt;Energy&gt;");
    expect(html).toContain("https://cdn.acme.example/logo.png");
    expect(html).toContain(`${identifier[0]}***@example.com`);
    expect(html).not.toContain(identifier);
    expect(html).not.toContain("Global Privacy Control");
    expect(html).not.toMatch(/<script/i);
    expect((await open(url, { method: "HEAD" })).status).toBe(200);
    expect(await history(identifier)).toEqual(before);
  });

  it("speaks the reader's language, German by default, Arabic right to left", async () => {
    const { url } = await newPerson();
    const de = await (await open(url)).text();
    expect(de).toContain('<html lang="de" dir="ltr">');
    expect(de).toContain("Mitgliedernachrichten");
    expect(de).toContain("Auswahl speichern");
    const ar = await (await open(`${url}?lang=ar`)).text();
    expect(ar).toContain('<html lang="ar" dir="rtl">');
    expect(ar).toContain("حفظ اختياراتي");
    const fr = await (await open(url, { headers: { "Accept-Language": "fr-CH, en;q=0.5" } })).text();
    expect(fr).toContain("Enregistrer mes choix");
  });

  it("with Sec-GPC: 1 says it was seen and shows the organization's GPC topics off", async () => {
    const { url } = await newPerson("en");
    const html = await (await open(url, { headers: { "Sec-GPC": "1" } })).text();
    expect(html).toContain("Your browser sent a Global Privacy Control signal");
    expect(checkboxes(html).PARTNER_OFFERS).toEqual({ checked: false, disabled: true });
    expect(checkboxes(html).EXTRA).toEqual({ checked: true, disabled: false });
  });
});

describe("POST /v1/preferences/{token}", () => {
  it("records each change as OPT_IN or OPT_OUT from the preference page with proof, in one ledger RPC, and shows the new state", async () => {
    const { identifier, url } = await newPerson("en");
    const calls: string[] = [];
    const ledgers = wrapStubs(env.IDENTIFIER_LEDGER, {
      appendMany: (ledger, ...args) => (calls.push(`appendMany:${args[1].length}`), ledger.appendMany(...args)),
      append: (ledger, ...args) => (calls.push("append"), ledger.append(...args)),
    });
    const ctx = createExecutionContext();
    const body = new URLSearchParams([...[...ORG_TOPICS, "EXTRA"].map((t) => ["shown", t]), ["granted", "MEMBER_NEWS"], ["granted", "LIMITED"], ["action", "save"]]);
    const response = await app.fetch(
      new Request(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "203.0.113.9", "User-Agent": "TestBrowser/2.0" }, body }),
      { ...env, IDENTIFIER_LEDGER: ledgers },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Your choices have been saved.");
    expect(checkboxes(html)).toMatchObject({ MEMBER_NEWS: { checked: true }, LIMITED: { checked: true }, EXTRA: { checked: false }, NOTICED: { checked: false } });
    expect(calls).toEqual(["appendMany:3"]);

    const events = await history(identifier);
    expect(events.slice(2).map((e) => [e.seq, e.type, e.topic])).toEqual([
      [3, "OPT_IN", "LIMITED"],
      [4, "OPT_IN", "MEMBER_NEWS"],
      [5, "OPT_OUT", "EXTRA"],
    ]);
    for (const event of events.slice(2)) {
      expect(event).toMatchObject({
        source: "preference_page",
        meta: { ip_address: "203.0.113.9", user_agent: "TestBrowser/2.0", language: "en" },
        proof: { request_id: expect.any(String), client_ip: "203.0.113.9" },
      });
      expect(event.meta.gpc).toBeUndefined();
      expect(event.proof.recorded_by).toBeUndefined();
    }
    // The feed gets them too.
    const state = await (await call(`/v1/consent/${encodeURIComponent(identifier)}/state`, { headers: { Authorization: basic("acme") } })).json<any>();
    expect(Object.fromEntries(state.topics.map((t: any) => [t.topic, t.status]))).toMatchObject({ LIMITED: "granted", MEMBER_NEWS: "granted", EXTRA: "withdrawn" });

    // Saving the same choice again records nothing.
    expect((await save(url, Object.fromEntries(body.entries()) as any)).status).toBe(200);
    const again = await save(url, { shown: [...ORG_TOPICS, "EXTRA"], granted: ["MEMBER_NEWS", "LIMITED"] });
    expect(again.status).toBe(200);
    expect((await history(identifier)).length).toBe(5);
  });

  it("leaves a topic the page did not show as it is", async () => {
    const { identifier, url } = await newPerson();
    expect((await save(url, { shown: ["MEMBER_NEWS"], granted: [] })).status).toBe(200);
    expect((await history(identifier)).map((e) => e.type)).toEqual(["DOUBLE_OPT_IN_REQUESTED", "OPT_IN"]);
  });

  it("unsubscribes from everything in one click: an OPT_OUT for every topic not already withdrawn", async () => {
    const { identifier, url } = await newPerson("en");
    expect((await publish({ type: "OPT_OUT", topic: "NOTICED", identifier })).status).toBe(201);
    const response = await save(url, { action: "unsubscribe_all" });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(Object.values(checkboxes(html)).every((box) => !box.checked)).toBe(true);
    const added = (await history(identifier)).slice(3);
    expect(added.map((e) => [e.type, e.topic])).toEqual([
      ["OPT_OUT", "LIMITED"],
      ["OPT_OUT", "MEMBER_NEWS"],
      ["OPT_OUT", "PARTNER_OFFERS"],
      ["OPT_OUT", "EXTRA"],
    ]);
    expect(added.every((e) => e.source === "preference_page" && e.meta.unsubscribe_all === true)).toBe(true);
  });

  it("with Sec-GPC: 1 records OPT_OUT with meta.gpc: true on the organization's GPC topics, whatever was ticked", async () => {
    const { identifier, url } = await newPerson();
    expect((await publish({ type: "OPT_IN", topic: "PARTNER_OFFERS", identifier })).status).toBe(201);
    const response = await save(url, { shown: [...ORG_TOPICS, "EXTRA"], granted: ["PARTNER_OFFERS", "EXTRA"] }, { "Sec-GPC": "1" });
    expect(response.status).toBe(200);
    const added = (await history(identifier)).slice(3);
    expect(added.map((e) => [e.type, e.topic, e.meta.gpc])).toEqual([["OPT_OUT", "PARTNER_OFFERS", true]]);
    // Without the signal the topic is the person's to choose.
    expect((await save(url, { shown: ["PARTNER_OFFERS"], granted: ["PARTNER_OFFERS"] })).status).toBe(200);
    expect((await history(identifier)).at(-1)).toMatchObject({ type: "OPT_IN", topic: "PARTNER_OFFERS" });
  });

  it("checks where the form came from, where the browser says: another site's form is refused and records nothing", async () => {
    const { identifier, url } = await newPerson();
    const form = { shown: ["MEMBER_NEWS"], granted: ["MEMBER_NEWS"] };
    const foreignSites: Record<string, string>[] = [{ Origin: "https://evil.example" }, { "Sec-Fetch-Site": "cross-site", Origin: "null" }, { "Sec-Fetch-Site": "same-site" }];
    for (const headers of foreignSites) {
      const foreign = await save(url, form, headers);
      expect(foreign.status, JSON.stringify(headers)).toBe(403);
    }
    expect((await history(identifier)).length).toBe(2);
    // A page with Referrer-Policy: no-referrer posts "Origin: null"; Fetch Metadata then tells.
    expect((await save(url, form, { "Sec-Fetch-Site": "same-origin", Origin: "null" })).status).toBe(200);
    expect((await save(url, { ...form, granted: [] }, { Origin: TEST_PUBLIC_BASE_URL })).status).toBe(200);
    expect((await history(identifier)).length).toBe(4);
  });

  it("refuses a topic the page does not show, and a body over the limit, recording nothing", async () => {
    const { identifier, url } = await newPerson();
    const unknown = await save(url, { shown: ["MEMBER_NEWS", "SOMETHING_ELSE"], granted: ["SOMETHING_ELSE"] }, { Accept: "application/json" });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ errors: [{ path: "shown", code: "unknown_topic" }] });
    const big = await save(url, { shown: "MEMBER_NEWS", padding: "x".repeat(MAX_PREFERENCES_BODY_BYTES) });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain("<h1>");
    const badAction = await save(url, { action: "delete_everything" });
    expect(badAction.status).toBe(400);
    expect((await history(identifier)).length).toBe(2);
  });
});

describe("the preference page's token", () => {
  const ledgerId = (identifier: string) => ledgerOf("org-acme", identifier).id.toString();

  it("is no opt-in or opt-out link, and no opt-in or opt-out link is one", async () => {
    const { identifier, url } = await newPerson();
    const token = new URL(url).pathname.split("/").at(-1)!;
    for (const path of [`/v1/opt-in/${token}`, `/v1/opt-out/${token}`]) {
      const response = await open(`${TEST_PUBLIC_BASE_URL}${path}?lang=en`);
      expect(response.status, path).toBe(400);
      expect(await response.text()).toContain("This link is not valid");
    }
    const optOut = await signLink({ purpose: "opt-out", organizationId: "org-acme", ledgerId: ledgerId(identifier), topic: "MEMBER_NEWS" }, ring, { ttlSeconds: 3600 });
    const optIn = await signLink({ purpose: "opt-in", organizationId: "org-acme", ledgerId: ledgerId(identifier), topic: "MEMBER_NEWS", requestSequence: 1 }, ring, { ttlSeconds: 3600 });
    for (const { token: other } of [optOut, optIn]) {
      const response = await open(`${TEST_PUBLIC_BASE_URL}/v1/preferences/${other}?lang=en`);
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("This link is not valid");
      expect((await save(`${TEST_PUBLIC_BASE_URL}/v1/preferences/${other}`, { action: "unsubscribe_all" })).status).toBe(400);
    }
    expect((await history(identifier)).length).toBe(2);
  });

  it("expired, tampered, retired or foreign: the opt-in links' clear pages, and nothing recorded", async () => {
    const { identifier } = await newPerson();
    const claims = { organizationId: "org-acme", ledgerId: ledgerId(identifier) };
    const expired = await signPreferencesLink(claims, ring, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    const page = (token: string) => open(`${TEST_PUBLIC_BASE_URL}/v1/preferences/${token}?lang=en`);
    const gone = await page(expired.token);
    expect(gone.status).toBe(410);
    const goneHtml = await gone.text();
    expect(goneHtml).toContain("This link has expired");
    expect(goneHtml).toContain("Acme &lt;Energy&gt;");

    const { token } = await signPreferencesLink(claims, ring, { ttlSeconds: 3600 });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const altered = { ...JSON.parse(new TextDecoder().decode(base64url.decode(payload))), org: "org-globex" };
    const tampered = await page(`${header}.${base64url.encode(JSON.stringify(altered))}.${signature}`);
    expect(tampered.status).toBe(400);
    expect(await tampered.text()).not.toContain("Acme");

    const retired = await signPreferencesLink(claims, { current: "a-key-that-was-retired-long-ago-0123456789", previous: [] }, { ttlSeconds: 3600 });
    expect((await page(retired.token)).status).toBe(410);
    const previous = await signPreferencesLink(claims, { current: TEST_PREVIOUS_SIGNING_KEY, previous: [] }, { ttlSeconds: 3600 });
    expect((await page(previous.token)).status).toBe(200);

    // Signed for another organization, naming this person's ledger: nothing of theirs shows.
    const foreign = await signPreferencesLink({ ...claims, organizationId: "org-globex" }, ring, { ttlSeconds: 3600 });
    const foreignPage = await page(foreign.token);
    expect(foreignPage.status).toBe(400);
    expect(await foreignPage.text()).not.toContain("***");
    expect((await save(`${TEST_PUBLIC_BASE_URL}/v1/preferences/${foreign.token}`, { action: "unsubscribe_all" })).status).toBe(400);
    expect((await history(identifier)).length).toBe(2);
  });

  it("property: any token, or any alteration of a real one, is a 400 or 410 page, never a 500, and records nothing", async () => {
    const { identifier, url } = await newPerson();
    const real = new URL(url).pathname.split("/").at(-1)!;
    const token = fc.oneof(
      hostileString.map((text) => encodeURIComponent(text.toWellFormed())),
      fc.tuple(fc.nat(real.length - 1), fc.constantFrom("A", "b", "-", "_", ".", "%2E", "")).map(([at, c]) => real.slice(0, at) + c + real.slice(at + 1)),
      fc.array(fc.base64String({ maxLength: 40 }), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(".").replace(/[+/=]/g, "")),
    );
    await fc.assert(
      fc.asyncProperty(token, fc.boolean(), async (candidate, post) => {
        fc.pre(candidate !== real);
        const target = `${TEST_PUBLIC_BASE_URL}/v1/preferences/${candidate}`;
        const response = post ? await save(target, { action: "unsubscribe_all" }) : await open(target);
        // A path the router does not match (an encoded slash) is a plain 404.
        expect([400, 404, 410]).toContain(response.status);
      }),
      { numRuns: RUNS },
    );
    expect((await history(identifier)).length).toBe(2);
  }, 60_000);
});

describe("the preference page's form", () => {
  it("property: any form body is the page (200) or a 4xx, never a 500; a refused one records nothing", async () => {
    const { identifier, url } = await newPerson();
    const name = fc.constantFrom("shown", "granted", "action", "shown[]", "other", "__proto__");
    const value = fc.oneof(fc.constantFrom(...ORG_TOPICS, "EXTRA", "save", "unsubscribe_all", ""), hostileString);
    const body = fc.oneof(
      fc.array(fc.tuple(name, value), { maxLength: 12 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v.isWellFormed() ? v : v.toWellFormed())}`).join("&")),
      hostileString.map((raw) => raw.toWellFormed()),
    );
    const type = fc.constantFrom("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", "application/json");
    await fc.assert(
      fc.asyncProperty(body, type, async (text, contentType) => {
        const before = (await history(identifier)).length;
        const response = await open(url, { method: "POST", headers: { "Content-Type": contentType }, body: text });
        expect(response.status === 200 || (response.status >= 400 && response.status < 500), `${response.status} for ${contentType} ${text}`).toBe(true);
        if (response.status !== 200) expect((await history(identifier)).length).toBe(before);
      }),
      { numRuns: RUNS },
    );
  }, 60_000);
});

describe("POST /v1/preferences/{token}/export", () => {
  it("downloads the person's export, theirs only, as an attachment; Origin checked", async () => {
    const { identifier, url } = await newPerson();
    const other = await newPerson();
    const exportUrl = url.replace(/(\?.*)?$/, "/export");
    const response = await open(exportUrl, { method: "POST" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; filename="consent-export-[0-9a-f]{16}-\d{4}-\d{2}-\d{2}\.json"$/);
    const document = await response.json<any>();
    expect(document).toMatchObject({ identifier, organization_id: "org-acme" });
    expect(document.events.map((e: any) => e.type)).toEqual(["DOUBLE_OPT_IN_REQUESTED", "OPT_IN"]);
    expect(document.events.every((e: any) => typeof e.receipt === "string")).toBe(true);
    expect(JSON.stringify(document)).not.toContain(other.identifier);
    // The same as what the API answers.
    const api = await (await call(`/v1/consent/${encodeURIComponent(identifier)}/export`, { headers: { Authorization: basic("acme") } })).json<any>();
    expect(document.events.map((e: any) => e.hash)).toEqual(api.events.map((e: any) => e.hash));
    expect((await open(exportUrl, { method: "POST", headers: { Origin: "https://evil.example" } })).status).toBe(403);
    // Only the page's button downloads: no link a crawler could follow.
    expect((await open(exportUrl)).status).toBe(405);
  });
});
