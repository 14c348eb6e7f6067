import { readFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "./chromium";
import { e2eBasic } from "./settings";

const base = inject("gatewayUrl");
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

/** The README's screenshots in docs/, rewritten only when asked: `SCREENSHOTS=1 npm test`. */
async function screenshot(page: Page, name: string) {
  if (process.env.SCREENSHOTS !== "1") return;
  await page.screenshot({ path: path.resolve(import.meta.dirname, "../../docs", name), fullPage: true });
}

it("a person opens the double opt-in link, reads German, clicks once, and DOUBLE_OPT_IN is recorded", async () => {
  const identifier = "jane.doe@example.com";
  const requested = await fetch(`${base}/v1/consent/double-opt-in`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: e2eBasic },
    body: JSON.stringify({ topic: "Newsletter", identifier, source: "website" }),
  });
  expect(requested.status).toBe(201);
  const { opt_in_url } = (await requested.json()) as { opt_in_url: string };
  expect(opt_in_url.startsWith(`${base}/v1/opt-in/`)).toBe(true);

  // A German reader: the page follows the browser's Accept-Language.
  const context = await browser.newContext({ locale: "de-DE", viewport: { width: 420, height: 640 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const external: string[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(base)) external.push(request.url());
  });
  const scriptErrors: string[] = [];
  page.on("console", (message) => scriptErrors.push(message.text()));

  await page.goto(opt_in_url);
  expect(await page.getAttribute("html", "lang")).toBe("de");
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Bitte bestätigen Sie Ihre Einwilligung");
  expect(await page.textContent("body")).toContain("„Newsletter“");
  await screenshot(page, "opt-in-confirm.png");

  // Opening the page recorded nothing.
  const before = await events(identifier);
  expect(before.map((e) => e.type)).toEqual(["DOUBLE_OPT_IN_REQUESTED"]);

  await page.getByRole("button", { name: "Ja, ich bestätige" }).click();
  await page.waitForLoadState();
  expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Vielen Dank, Ihre Einwilligung ist bestätigt");
  await screenshot(page, "opt-in-success.png");

  const after = await events(identifier);
  expect(after.map((e) => e.type)).toEqual(["DOUBLE_OPT_IN", "DOUBLE_OPT_IN_REQUESTED"]);
  expect(after[0]!.meta).toMatchObject({ double_opt_in: true, request_sequence: 1, language: "de", user_agent: expect.stringContaining("Chrome") });
  expect(external).toEqual([]);
  expect(scriptErrors.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
  await context.close();
});

async function events(identifier: string) {
  const response = await fetch(`${base}/v1/consent/${encodeURIComponent(identifier)}`, { headers: { Authorization: e2eBasic } });
  return ((await response.json()) as { events: { type: string; meta?: Record<string, unknown> }[] }).events;
}

/** A person with a double opt-in on Newsletter (pending) and a grant of PRODUCT_UPDATES: their preference page link. */
async function personWithPreferences(identifier: string) {
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: e2eBasic }, body: JSON.stringify(body) });
  const requested = await post("/v1/consent/double-opt-in", { topic: "Newsletter", identifier, source: "website" });
  expect(requested.status).toBe(201);
  expect((await post("/v1/consent/publish", { type: "OPT_IN", topic: "PRODUCT_UPDATES", identifier })).status).toBe(201);
  return ((await requested.json()) as { preferences_url: string }).preferences_url;
}

describe("the preference page", () => {
  // A browser of its own: the packaged single-process Chromium does not survive the test above closing its context.
  let own: Browser;
  beforeAll(async () => {
    own = await launchChromium();
  });
  afterAll(() => own?.close());

it("a person manages every topic on the preference page without JavaScript: saves once, downloads their data, unsubscribes from everything", async () => {
  const identifier = `erika.musterfrau-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const url = await personWithPreferences(identifier);
  const context = await own.newContext({ locale: "de-DE", viewport: { width: 420, height: 640 }, deviceScaleFactor: 1, javaScriptEnabled: false, acceptDownloads: true });
  const page = await context.newPage();
  const external: string[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(base)) external.push(request.url());
  });

  await page.goto(url);
  expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Ihre Kommunikationseinstellungen");
  const box = (name: string) => page.getByRole("checkbox", { name, exact: true });
  expect(await box("Produktneuheiten").isChecked()).toBe(true);
  expect(await box("Newsletter").isChecked()).toBe(false);
  expect(await box("Angebote unserer Partner").isChecked()).toBe(false);
  expect(await page.textContent("body")).toContain("Wartet auf Ihre Bestätigung");
  // The screenshot test: the page renders at the phone's width, and is the README's picture.
  const png = await page.screenshot({ fullPage: true });
  expect(png.subarray(1, 4).toString()).toBe("PNG");
  expect(png.readUInt32BE(16)).toBe(420);
  await screenshot(page, "preference-page.png");
  // Opening the page recorded nothing.
  expect((await events(identifier)).length).toBe(2);

  await box("Newsletter").check();
  await box("Produktneuheiten").uncheck();
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Auswahl speichern" }).click()]);
  expect(await page.getByRole("status").textContent()).toBe("Ihre Auswahl wurde gespeichert.");
  expect(await box("Newsletter").isChecked()).toBe(true);
  expect(await box("Produktneuheiten").isChecked()).toBe(false);
  const saved = (await events(identifier)).slice(0, 2).reverse();
  expect(saved.map((e) => [e.type, (e as { topic?: string }).topic, (e as { source?: string }).source])).toEqual([
    ["OPT_IN", "Newsletter", "preference_page"],
    ["OPT_OUT", "PRODUCT_UPDATES", "preference_page"],
  ]);
  expect(saved[0]!.meta).toMatchObject({ language: "de", user_agent: expect.stringContaining("Chrome") });

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Meine Daten herunterladen" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^consent-export-[0-9a-f]{16}-\d{4}-\d{2}-\d{2}\.json$/);
  const exported = JSON.parse(readFileSync((await download.path())!, "utf8")) as { identifier: string; events: { type: string }[] };
  expect(exported.identifier).toBe(identifier);
  expect(exported.events).toHaveLength(4);

  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Von allem abmelden" }).click()]);
  for (const name of ["Newsletter", "Produktneuheiten", "Angebote unserer Partner"]) expect(await box(name).isChecked(), name).toBe(false);
  expect((await events(identifier)).slice(0, 2).map((e) => e.type)).toEqual(["OPT_OUT", "OPT_OUT"]);
  expect(external).toEqual([]);
});

it("with Global Privacy Control the page says it saw the signal, and saving opts out of the organization's GPC topics", async () => {
  const identifier = `gpc-${crypto.randomUUID()}@example.com`;
  const url = await personWithPreferences(identifier);
  const context = await own.newContext({ locale: "en-GB", extraHTTPHeaders: { "Sec-GPC": "1" } });
  const page = await context.newPage();
  await page.goto(url);
  expect(await page.textContent("body")).toContain("Your browser sent a Global Privacy Control signal");
  expect(await page.getByRole("checkbox", { name: "Partner offers" }).isDisabled()).toBe(true);
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save my choices" }).click()]);
  const [latest] = await events(identifier);
  expect(latest).toMatchObject({ type: "OPT_OUT", topic: "PARTNER_OFFERS", source: "preference_page", meta: { gpc: true } });
});
});
