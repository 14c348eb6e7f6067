import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import Chromium from "@sparticuz/chromium";
import { chromium, type Browser } from "playwright-core";

/**
 * Headless Chromium for the browser test, from npm (`@sparticuz/chromium`): nothing to install on the
 * machine. `CHROMIUM_PATH=/usr/bin/chromium` uses a system browser instead.
 */

const root = path.resolve(import.meta.dirname, "../..");
const packageDir = path.join(root, "node_modules/@sparticuz/chromium");

/** Flags that keep the browser off the network (this machine has none) and quiet. */
const OFFLINE = [
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--disable-domain-reliability",
  "--disable-breakpad",
  "--no-first-run",
  "--no-pings",
  "--metrics-recording-only",
];

/** The package's flags, less those that switch off the web's security model the pages rely on (CSP, origins). */
const PACKAGE_FLAGS = Chromium.args.filter(
  (flag) => !["--disable-web-security", "--allow-running-insecure-content", "--disable-site-isolation-trials"].includes(flag),
);

export async function launchChromium(): Promise<Browser> {
  const system = process.env.CHROMIUM_PATH;
  if (system) {
    return chromium.launch({ executablePath: system, headless: true, args: ["--no-sandbox", "--disable-gpu", ...OFFLINE] });
  }
  const dir = await unpacked();
  return chromium.launch({
    executablePath: path.join(dir, "chromium"),
    headless: true,
    args: [...PACKAGE_FLAGS, ...OFFLINE],
    // The package's fonts.conf names Lambda's /tmp/fonts: point fontconfig at our own.
    env: { ...process.env, FONTCONFIG_PATH: dir },
  });
}

/**
 * The package's Brotli archives unpacked once per version under node_modules/.cache, into a fresh
 * directory that is renamed into place when complete: concurrent or interrupted runs never see a
 * half-written binary (the package's own default, a shared /tmp/chromium, would).
 */
async function unpacked(): Promise<string> {
  const { version } = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string };
  const cache = path.join(root, "node_modules/.cache/consent-gateway");
  const dir = path.join(cache, `chromium-${version}`);
  if (existsSync(path.join(dir, "chromium"))) return dir;

  mkdirSync(cache, { recursive: true });
  const staging = mkdtempSync(path.join(cache, "unpacking-"));
  const tmpdir = process.env.TMPDIR;
  try {
    // The package unpacks into os.tmpdir(): the binary, swiftshader beside it, fonts/.
    process.env.TMPDIR = staging;
    await Chromium.executablePath(path.join(packageDir, "bin"));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
  }
  writeFileSync(
    path.join(staging, "fonts.conf"),
    `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>${path.join(dir, "fonts/fonts")}</dir>
  <cachedir>${path.join(dir, "fonts-cache")}</cachedir>
</fontconfig>
`,
  );
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another run got there first.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(path.join(dir, "chromium"))) throw error;
  }
  return dir;
}
