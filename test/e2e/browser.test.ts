import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
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
