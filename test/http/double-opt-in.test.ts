import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signLink } from "../../src/consent/link-token";
import { ledgerFor } from "../../src/consent/service";
import { MAX_LINK_BODY_BYTES } from "../../src/http/links/definitions";
import { app } from "../../src/index";
import { basic, list, postJson, publish, uniqueEmail } from "../helpers/gateway";

const requestOptIn = (body: Record<string, unknown>, authorization?: string) =>
  postJson("/v1/consent/double-opt-in", body, authorization);

async function newOptIn(body: Record<string, unknown> = {}) {
  const identifier = (body.identifier as string | undefined) ?? uniqueEmail("doi");
  const response = await requestOptIn({ topic: "NEWSLETTER", identifier, source: "signup-form", ...body });
  expect(response.status).toBe(201);
  const links = await response.json<{ event: any; opt_in_url: string; opt_out_url: string; expires_at: string }>();
  return { identifier, ...links };
}

/** Opens a link the way a browser (or a scanner) would. */
const open = (url: string, init: RequestInit = {}) => exports.default.fetch(new Request(url, { redirect: "manual", ...init }));
const click = (url: string, headers: Record<string, string> = {}) =>
  open(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "203.0.113.7", "User-Agent": "TestBrowser/1.0", ...headers },
    body: "confirm=yes",
  });

const history = async (identifier: string) => (await (await list(identifier, "?limit=100")).json<any>()).events as any[];

describe("POST /v1/consent/double-opt-in", () => {
  it("records DOUBLE_OPT_IN_REQUESTED and answers absolute signed links", async () => {
    const before = Date.now();
    const { identifier, event, opt_in_url, opt_out_url, expires_at } = await newOptIn({ meta: { campaign: "autumn" }, lang: "en" });
    expect(event).toMatchObject({ type: "DOUBLE_OPT_IN_REQUESTED", topic: "NEWSLETTER", identifier, source: "signup-form", meta: { campaign: "autumn" }, organization_id: "org-acme" });
    expect(opt_in_url).toMatch(/^https:\/\/consent\.example\.test\/v1\/opt-in\/[\w-]+\.[\w-]+\.[\w-]+\?lang=en$/);
    expect(opt_out_url).toMatch(/^https:\/\/consent\.example\.test\/v1\/opt-out\/[\w-]+\.[\w-]+\.[\w-]+\?lang=en$/);
    expect(opt_in_url).not.toContain(encodeURIComponent(identifier));
    const days = (Date.parse(expires_at) - before) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    expect((await history(identifier)).map((e) => e.type)).toEqual(["DOUBLE_OPT_IN_REQUESTED"]);
  });

  it("keeps publish a plain append: the seed's double_opt_in flag is the caller's own record", async () => {
    const identifier = uniqueEmail();
    const response = await publish({ type: "OPT_IN", topic: "EMAIL_MARKETING", identifier, meta: { double_opt_in: true } });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ type: "OPT_IN", meta: { double_opt_in: true } });
  });

  it("validates like publish, and refuses unknown languages and foreign redirect origins", async () => {
    const bad = await requestOptIn({ topic: "", identifier: " ", lang: "xx", redirect_url: "javascript:alert(1)" });
    expect(bad.status).toBe(400);
    const paths = (await bad.json<any>()).errors.map((e: any) => e.path).sort();
    expect(paths).toEqual(["identifier", "lang", "redirect_url", "topic"]);

    const foreign = await requestOptIn({ topic: "T", identifier: uniqueEmail(), redirect_url: "https://evil.example/phish" });
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toMatchObject({ errors: [{ path: "redirect_url", code: "redirect_not_allowed" }] });

    const unbranded = await requestOptIn({ topic: "T", identifier: uniqueEmail(), redirect_url: "https://www.acme.example/x" }, basic("globex"));
    expect(unbranded.status).toBe(400);
  });

  it("needs consent:write", async () => {
    expect((await requestOptIn({ topic: "T", identifier: uniqueEmail() }, basic("acme-reader"))).status).toBe(403);
    expect((await requestOptIn({ topic: "T", identifier: uniqueEmail() }, "")).status).toBe(401);
  });
});

describe("GET /v1/opt-in/{token}", () => {
  it("shows a German confirmation page with one button that POSTs to the same URL, and changes nothing", async () => {
    const { identifier, opt_in_url } = await newOptIn();
    const link = opt_in_url.replace(/\?.*$/, "");
    const response = await open(link);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html><html lang="de" dir="ltr">/);
    expect(html).toContain("Bitte bestätigen Sie Ihre Einwilligung");
    expect(html).toContain("NEWSLETTER");
    expect(html).toContain(`<form method="post" action="${new URL(link).pathname}?lang=de">`);
    expect(html.match(/<button/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script|onload|http-equiv="refresh"/i);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    // Masked, so a page seen over a shoulder does not reveal the address.
    expect(html).toContain(`${identifier[0]}***@example.com`);
    expect(html).not.toContain(identifier);

    const head = await open(link, { method: "HEAD" });
    expect(head.status).toBe(200);
    for (let i = 0; i < 3; i++) await open(link);
    expect((await history(identifier)).map((e) => e.type)).toEqual(["DOUBLE_OPT_IN_REQUESTED"]);
  });

  it("sends headers that keep the page private, uncached, unindexed and script-free", async () => {
    const { opt_in_url } = await newOptIn();
    const response = await open(opt_in_url);
    const csp = response.headers.get("Content-Security-Policy")!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'nonce-[A-Za-z0-9+/=]+'; img-src https:\/\/cdn\.acme\.example; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
    const nonce = /'nonce-([^']+)'/.exec(csp)![1];
    expect(await response.text()).toContain(`<style nonce="${nonce}">`);
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("X-Robots-Tag")).toBe("noindex, nofollow");
    // A fresh nonce per response.
    const again = (await open(opt_in_url)).headers.get("Content-Security-Policy");
    expect(again).not.toBe(csp);
  });

  it.each([
    ["en", {}, "Please confirm your consent", "en"],
    ["fr", {}, "Veuillez confirmer votre consentement", "fr"],
    ["ar", {}, "يُرجى تأكيد موافقتك", "ar"],
    [undefined, { "Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5" }, "Bevestig uw toestemming", "nl"],
    [undefined, { "Accept-Language": "pl" }, "Potwierdź swoją zgodę", "pl"],
    ["es", { "Accept-Language": "it" }, "Confirme su consentimiento", "es"],
    [undefined, { "Accept-Language": "sv-SE,fi;q=0.5" }, "Please confirm your consent", "en"],
    [undefined, { "Accept-Language": "*" }, "Bitte bestätigen Sie Ihre Einwilligung", "de"],
  ] as const)("speaks ?lang=%s with %j", async (lang, headers, heading, expected) => {
    const { opt_in_url } = await newOptIn();
    const url = opt_in_url + (lang ? `?lang=${lang}` : "");
    const html = await (await open(url, { headers })).text();
    expect(html).toContain(heading);
    expect(html).toContain(`<html lang="${expected}" dir="${expected === "ar" ? "rtl" : "ltr"}">`);
  });

  it("names the topic by the organization's label in the reader's language", async () => {
    const { opt_in_url } = await newOptIn({ topic: "PRODUCT_NEWS" });
    expect(await (await open(opt_in_url)).text()).toContain("„Produktneuigkeiten“");
    expect(await (await open(`${opt_in_url}?lang=en`)).text()).toContain("“Product news”");
    // No label in French: the English one.
    expect(await (await open(`${opt_in_url}?lang=fr`)).text()).toContain("Product news");
    // The JSON answer keeps the topic id.
    const json = await open(opt_in_url, { headers: { Accept: "application/json" } });
    expect(await json.json()).toMatchObject({ topic: "PRODUCT_NEWS" });
  });

  it("shows the organization's branding, escaped", async () => {
    const { opt_in_url } = await newOptIn();
    const html = await (await open(opt_in_url, { headers: { "Accept-Language": "en" } })).text();
    expect(html).toContain("On behalf of Acme &lt;Energy&gt;");
    expect(html).toContain('<img src="https://cdn.acme.example/logo.png" alt="Acme &lt;Energy&gt;"/>');
    expect(html).toContain('href="https://www.acme.example/privacy"');
    expect(html).toContain("background: #ffcc00; color: #111111;");
  });

  it("escapes markup in topic and identifier", async () => {
    const topic = `<script>alert("t")</script>`;
    const { opt_in_url } = await newOptIn({ topic, identifier: `"><img src=x onerror=alert(1)>@example.com` });
    const html = await (await open(opt_in_url)).text();
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;");
  });

  it("answers JSON to a client that asks for it", async () => {
    const { opt_in_url } = await newOptIn();
    const response = await open(opt_in_url, { headers: { Accept: "application/json" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ outcome: "pending", topic: "NEWSLETTER" });
  });
});

describe("POST /v1/opt-in/{token}", () => {
  it("records DOUBLE_OPT_IN with proof once; confirming again shows the same success without a second event", async () => {
    const { identifier, event, opt_in_url } = await newOptIn();
    const first = await click(opt_in_url);
    expect(first.status).toBe(200);
    const firstHtml = await first.text();
    expect(firstHtml).toContain("Vielen Dank, Ihre Einwilligung ist bestätigt");

    const events = await history(identifier);
    expect(events.map((e) => e.type)).toEqual(["DOUBLE_OPT_IN", "DOUBLE_OPT_IN_REQUESTED"]);
    expect(events[0]).toMatchObject({
      topic: "NEWSLETTER",
      identifier,
      source: "double-opt-in-link",
      organization_id: "org-acme",
      meta: { double_opt_in: true, request_sequence: 1, ip_address: "203.0.113.7", user_agent: "TestBrowser/1.0", language: "de" },
    });
    expect(Date.parse(events[0].created_at)).toBeGreaterThanOrEqual(Date.parse(event.created_at));

    const second = await click(opt_in_url);
    expect(second.status).toBe(200);
    expect(await second.text()).toContain("Bereits bestätigt");
    const json = await click(opt_in_url, { Accept: "application/json" });
    expect(await json.json()).toEqual({ outcome: "already_confirmed", topic: "NEWSLETTER" });
    expect((await history(identifier)).filter((e) => e.type === "DOUBLE_OPT_IN")).toHaveLength(1);

    // GET after confirming tells the same.
    expect(await (await open(opt_in_url)).text()).toContain("Bereits bestätigt");
  });

  it("confirms concurrently at most once", async () => {
    const { identifier, opt_in_url } = await newOptIn();
    const responses = await Promise.all(Array.from({ length: 10 }, () => click(opt_in_url, { Accept: "application/json" })));
    const outcomes = await Promise.all(responses.map(async (r) => (await r.json<any>()).outcome));
    expect(outcomes.filter((o) => o === "confirmed")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "already_confirmed")).toHaveLength(9);
    expect((await history(identifier)).filter((e) => e.type === "DOUBLE_OPT_IN")).toHaveLength(1);
  });

  it("answers JSON with the recorded event", async () => {
    const { opt_in_url } = await newOptIn();
    const response = await click(opt_in_url, { Accept: "application/json" });
    expect(await response.json()).toMatchObject({ outcome: "confirmed", topic: "NEWSLETTER", event: { type: "DOUBLE_OPT_IN" } });
  });

  it("offers the allowed redirect after success", async () => {
    const { opt_in_url } = await newOptIn({ redirect_url: "https://www.acme.example/welcome?x=1&y=2" });
    const html = await (await click(opt_in_url)).text();
    expect(html).toContain('<a class="button" href="https://www.acme.example/welcome?x=1&amp;y=2" rel="noreferrer">Weiter</a>');
  });

  it("refuses a confirmation after a later OPT_OUT (the person withdrew)", async () => {
    const { identifier, opt_in_url } = await newOptIn();
    await publish({ type: "OPT_OUT", topic: "NEWSLETTER", identifier });
    const response = await click(opt_in_url);
    expect(response.status).toBe(409);
    expect(await response.text()).toContain("Einwilligung widerrufen");
    const json = await click(opt_in_url, { Accept: "application/json" });
    expect(json.status).toBe(409);
    expect(await json.json()).toMatchObject({ type: "urn:consent-gateway:problem:withdrawn", status: 409 });
    expect((await history(identifier)).map((e) => e.type)).toEqual(["OPT_OUT", "DOUBLE_OPT_IN_REQUESTED"]);
  });

  it("still confirms when the OPT_OUT came before the request", async () => {
    const identifier = uniqueEmail();
    await publish({ type: "OPT_OUT", topic: "NEWSLETTER", identifier });
    const { opt_in_url } = await newOptIn({ identifier });
    expect((await click(opt_in_url)).status).toBe(200);
    expect((await history(identifier))[0].type).toBe("DOUBLE_OPT_IN");
  });
});

describe("refused links record nothing", () => {
  async function ledgerLink(identifier: string, options: { now?: Date; key?: string; requestSequence?: number } = {}) {
    const { key, id } = await ledgerFor(env, "org-acme", identifier);
    const { token } = await signLink(
      { purpose: "opt-in", organizationId: key.organizationId, ledgerId: id.toString(), topic: "NEWSLETTER", requestSequence: options.requestSequence ?? 1 },
      { current: options.key ?? env.OPT_IN_SIGNING_KEY, previous: [] },
      { ttlSeconds: 30 * 86_400, now: options.now ?? new Date() },
    );
    return `https://consent.example.test/v1/opt-in/${token}`;
  }

  it("an expired link: 410 with what to do next", async () => {
    const { identifier } = await newOptIn();
    const link = await ledgerLink(identifier, { now: new Date(Date.now() - 31 * 86_400_000) });
    for (const response of [await open(link), await click(link)]) {
      expect(response.status).toBe(410);
      const html = await response.text();
      expect(html).toContain("Dieser Link ist abgelaufen");
      expect(html).toContain("melden Sie sich bitte erneut");
      // The signature still proves whose link it was: the page is theirs.
      expect(html).toContain("Im Auftrag von Acme &lt;Energy&gt;");
      expect(html).toContain('href="https://www.acme.example/privacy"');
    }
    expect((await history(identifier)).map((e) => e.type)).toEqual(["DOUBLE_OPT_IN_REQUESTED"]);
  });

  it("a genuine link to a request that does not exist: 400 'invalid', on the organization's page", async () => {
    const { identifier } = await newOptIn();
    const response = await open(await ledgerLink(identifier, { requestSequence: 99 }));
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("Dieser Link ist ungültig");
    expect(html).toContain("Im Auftrag von Acme &lt;Energy&gt;");
  });

  it("a link signed by a retired key: 410", async () => {
    const { identifier } = await newOptIn();
    const link = await ledgerLink(identifier, { key: "a-retired-signing-key-that-is-long-enough-000" });
    expect((await click(link)).status).toBe(410);
    const json = await click(link, { Accept: "application/json" });
    expect(await json.json()).toMatchObject({ type: "urn:consent-gateway:problem:expired_link", detail: "The link was signed with a key that has since been retired." });
    expect(await history(identifier)).toHaveLength(1);
  });

  it("a tampered, truncated or malformed link: 400 'invalid'", async () => {
    const { identifier, opt_in_url } = await newOptIn();
    const [path] = opt_in_url.split("?") as [string];
    const tampered = path.slice(0, -3) + (path.endsWith("abc") ? "xyz" : "abc");
    for (const link of [tampered, path.slice(0, -10), "https://consent.example.test/v1/opt-in/garbage"]) {
      const response = await click(link);
      expect(response.status, link).toBe(400);
      expect(await response.text()).toContain("Dieser Link ist ungültig");
      expect(response.headers.get("Cache-Control")).toBe("no-store");
    }
    expect(await history(identifier)).toHaveLength(1);
  });

  it("a validly signed link for a request that does not exist: 400", async () => {
    const { identifier } = await newOptIn();
    expect((await click(await ledgerLink(identifier, { requestSequence: 99 }))).status).toBe(400);
    expect((await click(await ledgerLink(uniqueEmail()))).status).toBe(400);
    expect(await history(identifier)).toHaveLength(1);
  });
});

describe("opt-out links", () => {
  it("GET shows a confirm page and changes nothing; POST records OPT_OUT once", async () => {
    const { identifier, opt_out_url } = await newOptIn({ lang: "en" });
    const page = await open(opt_out_url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Do you want to withdraw your consent for “NEWSLETTER”?");
    expect(html).toContain('<form method="post"');
    expect(await history(identifier)).toHaveLength(1);

    const done = await click(opt_out_url);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("You have been unsubscribed");
    expect(await click(opt_out_url)).toHaveProperty("status", 200);
    const events = await history(identifier);
    expect(events.map((e) => e.type)).toEqual(["OPT_OUT", "DOUBLE_OPT_IN_REQUESTED"]);
    expect(events[0]).toMatchObject({ source: "opt-out-link", meta: { one_click: false, ip_address: "203.0.113.7" } });
  });

  it("supports RFC 8058 one-click unsubscribe", async () => {
    const { identifier, opt_out_url } = await newOptIn();
    const response = await open(opt_out_url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ outcome: "unsubscribed", event: { type: "OPT_OUT", meta: { one_click: true } } });
    expect((await history(identifier))[0].type).toBe("OPT_OUT");
  });

  it("opts out again after a later opt-in, and blocks the earlier opt-in link", async () => {
    const { identifier, opt_in_url, opt_out_url } = await newOptIn();
    await click(opt_in_url);
    await click(opt_out_url);
    expect((await click(opt_in_url)).status).toBe(409);
    await publish({ type: "OPT_IN", topic: "NEWSLETTER", identifier });
    await click(opt_out_url);
    expect((await history(identifier)).map((e) => e.type)).toEqual(["OPT_OUT", "OPT_IN", "OPT_OUT", "DOUBLE_OPT_IN", "DOUBLE_OPT_IN_REQUESTED"]);
  });

  it("an opt-in link does not work as an opt-out link", async () => {
    const { identifier, opt_in_url } = await newOptIn();
    const swapped = opt_in_url.replace("/v1/opt-in/", "/v1/opt-out/");
    expect((await click(swapped)).status).toBe(400);
    expect(await history(identifier)).toHaveLength(1);
  });
});

describe("link bodies: the token first, then at most MAX_LINK_BODY_BYTES", () => {
  const MIB = 1024 * 1024;
  const form = { "Content-Type": "application/x-www-form-urlencoded" };
  /** A form body of `bytes` bytes that still says List-Unsubscribe=One-Click. */
  const oneClick = (bytes: number) => `List-Unsubscribe=One-Click&pad=${"x".repeat(bytes - "List-Unsubscribe=One-Click&pad=".length)}`;
  /** The same body without a Content-Length: sent in chunks, as the platform passes a chunked upload. */
  const streamed = (text: string) => new Blob([text]).stream();

  /** Calls the app with this very Request, so the test can see whether its body was read. */
  async function direct(request: Request) {
    const ctx = createExecutionContext();
    const response = await app.request(request, undefined, env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }

  it.each([
    ["with a Content-Length", (text: string) => text],
    ["streamed", streamed],
  ])("a 1 MiB body %s on a forged token: the invalid-link refusal, the body unread", async (_, body) => {
    for (const path of ["/v1/opt-in/garbage", "/v1/opt-out/garbage"]) {
      for (const accept of ["text/html", "application/json"]) {
        const request = new Request(`https://consent.example.test${path}`, { method: "POST", headers: { ...form, Accept: accept }, body: body(oneClick(MIB)) });
        const response = await direct(request);
        expect(response.status, `${path} ${accept}`).toBe(400);
        if (accept === "text/html") expect(await response.text()).toContain("Dieser Link ist ungültig");
        else expect(await response.json()).toMatchObject({ type: "urn:consent-gateway:problem:invalid_link" });
        expect(request.bodyUsed, `${path} ${accept}`).toBe(false);
      }
    }
  });

  it.each([
    ["with a Content-Length", (text: string) => text],
    ["streamed", streamed],
  ])("a body %s over the limit on a valid token: 413, on the link's page or as a problem, and nothing recorded", async (_, body) => {
    const { identifier, opt_in_url, opt_out_url } = await newOptIn();
    for (const url of [opt_in_url, opt_out_url]) {
      const page = await open(url, { method: "POST", headers: form, body: body(oneClick(MAX_LINK_BODY_BYTES + 1)) });
      expect(page.status, url).toBe(413);
      expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain("Die Anfrage ist zu groß");
      // The token was verified first: the page is the organization's.
      expect(html).toContain("Im Auftrag von Acme &lt;Energy&gt;");

      const problem = await open(url, { method: "POST", headers: { ...form, Accept: "application/json" }, body: body(oneClick(MIB)) });
      expect(problem.status, url).toBe(413);
      expect(problem.headers.get("Content-Type")).toBe("application/problem+json");
      expect(await problem.json()).toMatchObject({ type: "urn:consent-gateway:problem:payload_too_large", status: 413, detail: expect.stringContaining(`${MAX_LINK_BODY_BYTES} bytes`) });
    }
    expect((await history(identifier)).map((e) => e.type)).toEqual(["DOUBLE_OPT_IN_REQUESTED"]);
  });

  it.each([
    ["with a Content-Length", (text: string) => text],
    ["streamed", streamed],
  ])("a one-click body %s of exactly the limit still opts out", async (_, body) => {
    const { identifier, opt_out_url } = await newOptIn();
    const response = await open(opt_out_url, { method: "POST", headers: { ...form, Accept: "application/json" }, body: body(oneClick(MAX_LINK_BODY_BYTES)) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ outcome: "unsubscribed", event: { type: "OPT_OUT", meta: { one_click: true } } });
    expect((await history(identifier))[0].type).toBe("OPT_OUT");
  });
});

describe("links answer JSON to +json clients", () => {
  it.each(["application/problem+json", "application/vnd.foo+json", "text/html;q=0.5, application/problem+json"])("%s: problems for refusals, LinkResult for outcomes", async (accept) => {
    const refused = await click("https://consent.example.test/v1/opt-in/garbage", { Accept: accept });
    expect(refused.status).toBe(400);
    expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ type: "urn:consent-gateway:problem:invalid_link", status: 400 });

    const { opt_in_url } = await newOptIn();
    expect(await (await open(opt_in_url, { headers: { Accept: accept } })).json()).toEqual({ outcome: "pending", topic: "NEWSLETTER" });
    expect(await (await click(opt_in_url, { Accept: accept })).json()).toMatchObject({ outcome: "confirmed", event: { type: "DOUBLE_OPT_IN" } });
  });

  it("a +json range ranked below HTML gets the page", async () => {
    const refused = await click("https://consent.example.test/v1/opt-in/garbage", { Accept: "text/html, application/problem+json;q=0.9" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Dieser Link ist ungültig");
  });
});
