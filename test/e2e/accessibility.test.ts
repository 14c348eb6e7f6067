import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signLink } from "../../src/consent/link-token";
import { launchChromium } from "./chromium";
import { E2E_CLIENT, E2E_SETTINGS, e2eBasic } from "./settings";

const base = inject("gatewayUrl");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let browser: Browser;
let phone: BrowserContext;
beforeAll(async () => {
  browser = await launchChromium();
  // A 375 px phone. The pages allow no scripts, so axe is let in by bypassing CSP in this context only.
  phone = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: "de-DE", bypassCSP: true });
});
afterAll(() => browser?.close());

const api = (path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: e2eBasic }, body: JSON.stringify(body) });

async function doubleOptIn(topic: string) {
  const identifier = `a11y-${crypto.randomUUID()}@example.com`;
  const response = await api("/v1/consent/double-opt-in", { topic, identifier });
  expect(response.status).toBe(201);
  return { identifier, ...((await response.json()) as { opt_in_url: string; opt_out_url: string }) };
}

/** Opens `url` (or submits its first button), then checks the page with axe and for sideways scrolling (at 375 px, or the context's width). */
async function audit(url: string, { status, heading, click, context = phone }: { status: number; heading: string; click?: boolean; context?: BrowserContext }) {
  const page = await context.newPage();
  try {
    const response = await page.goto(url);
    if (click) {
      await Promise.all([page.waitForNavigation(), page.getByRole("button").first().click()]);
    } else {
      expect(response?.status(), url).toBe(status);
    }
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain(heading);
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => {
      const result = await (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
      return result.violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    });
    expect(violations, url).toEqual([]);
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(overflow, `${url} scrolls sideways at ${page.viewportSize()?.width} px`).toBeLessThanOrEqual(0);
  } finally {
    await page.close();
  }
}

describe("every page passes axe with no violation, and fits a 375 px screen", () => {
  // A topic with a word longer than the screen is wide.
  const longTopic = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabonnementbestätigungsnewsletter";

  it("confirm, confirmed and already confirmed", async () => {
    const { opt_in_url } = await doubleOptIn(longTopic);
    await audit(opt_in_url, { status: 200, heading: "Bitte bestätigen" });
    await audit(opt_in_url, { status: 200, heading: "Vielen Dank", click: true });
    await audit(opt_in_url, { status: 200, heading: "Bereits bestätigt" });
  });

  it("withdrawn", async () => {
    const { identifier, opt_in_url } = await doubleOptIn("NEWS");
    expect((await api("/v1/consent/publish", { type: "OPT_OUT", topic: "NEWS", identifier })).status).toBe(201);
    await audit(opt_in_url, { status: 409, heading: "widerrufen" });
  });

  it("unsubscribe and unsubscribed", async () => {
    const { opt_out_url } = await doubleOptIn(longTopic);
    await audit(opt_out_url, { status: 200, heading: "Abmelden" });
    await audit(opt_out_url, { status: 200, heading: "abgemeldet", click: true });
  });

  it("expired and invalid", async () => {
    const { token } = await signLink(
      { purpose: "opt-in", organizationId: E2E_CLIENT.organizationId, ledgerId: "0".repeat(64), topic: "NEWS", requestSequence: 1 },
      { current: E2E_SETTINGS.OPT_IN_SIGNING_KEY!, previous: [] },
      { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) },
    );
    await audit(`${base}/v1/opt-in/${token}`, { status: 410, heading: "abgelaufen" });
    await audit(`${base}/v1/opt-in/not-a-link`, { status: 400, heading: "ungültig" });
  });

  it("an Arabic page, right to left", async () => {
    const { opt_in_url } = await doubleOptIn("NEWS");
    await audit(`${opt_in_url}?lang=ar`, { status: 200, heading: "يُرجى تأكيد موافقتك" });
  });

  describe("the preference page, German and Arabic (right to left), and after saving", () => {
    async function preferencesUrl() {
      const identifier = `a11y-prefs-${crypto.randomUUID()}@example.com`;
      const response = await api("/v1/consent/double-opt-in", { topic: longTopic, identifier });
      expect(response.status).toBe(201);
      expect((await api("/v1/consent/publish", { type: "OPT_IN", topic: "PRODUCT_UPDATES", identifier })).status).toBe(201);
      return ((await response.json()) as { preferences_url: string }).preferences_url;
    }
    const contexts: Record<string, () => Promise<BrowserContext>> = {
      "at 375 px": async () => phone,
      "at 1280 px": () => browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "de-DE", bypassCSP: true }),
      "at 375 px with Global Privacy Control": () =>
        browser.newContext({ viewport: { width: 375, height: 740 }, locale: "de-DE", bypassCSP: true, extraHTTPHeaders: { "Sec-GPC": "1" } }),
    };
    it.each(Object.keys(contexts))("%s", async (name) => {
      // Contexts stay open until the browser closes: the packaged single-process Chromium does not survive closing one.
      const context = await contexts[name]!();
      const url = await preferencesUrl();
      await audit(url, { status: 200, heading: "Ihre Kommunikationseinstellungen", context });
      await audit(`${url}?lang=ar`, { status: 200, heading: "تفضيلات التواصل الخاصة بك", context });
      // The first button saves: the page then says so.
      await audit(`${url}?lang=en`, { status: 200, heading: "Your communication preferences", click: true, context });
    }, 90_000);
  });

  it("the API reference", async () => {
    await audit(`${base}/`, { status: 200, heading: "Consent gateway" });
  });
});
