/**
 * A real browser for the tests: Debian's chromium (.ci/run installs it), driven by
 * puppeteer-core. Where no chromium is installed the browser tests skip and say why; CI never
 * skips them because it installs chromium first.
 */
import { existsSync } from "node:fs";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].filter((p): p is string => Boolean(p));

/** The browser executable, or undefined when none is installed. */
export const chromiumPath: string | undefined = CANDIDATES.find((p) => existsSync(p));

export const skipReason = chromiumPath ? "" : `no chromium found (looked at ${CANDIDATES.join(", ")}): install it with apt-get install chromium, or set CHROMIUM_PATH`;

export async function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath!,
    headless: true,
    // --no-sandbox: the tests run as root in CI containers, where chromium's sandbox cannot start.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** Everything the page reports as going wrong: console errors, uncaught exceptions, failed requests. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`exception: ${(e as Error).message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  return errors;
}
