/**
 * The README's picture of the report: opens a report (default: the demo's, bnnas-demo/report.html)
 * in Chromium and writes a PNG of the sections people look at first.
 *
 *   npm run demo                      # writes bnnas-demo/report.html
 *   npm run report:screenshot -- [--report bnnas-demo/report.html] [-o docs/report.png]
 *     [--sections indicator,pareto] [--width 1000] [--chromium /usr/bin/chromium]
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import puppeteer from "puppeteer-core";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const report = resolve(arg("--report", "bnnas-demo/report.html"));
  const out = resolve(arg("-o", "docs/report.png"));
  const sections = arg("--sections", "indicator,pareto").split(",");
  const width = Number(arg("--width", "1000"));
  const chromium = arg("--chromium", ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) ?? "");
  if (!existsSync(report)) throw new Error(`${report} does not exist: run npm run demo first, or pass --report FILE`);
  if (!chromium) throw new Error("no chromium found: apt-get install chromium, or pass --chromium PATH");
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width, height: 800, deviceScaleFactor: 1 });
    await page.goto(`file://${report}`, { waitUntil: "load" });
    // Only the chosen sections (and the title), so the picture stays small enough to read in a README.
    await page.addStyleTag({ content: `section${sections.map((id) => `:not(#${id})`).join("")}{display:none}` });
    await page.screenshot({ path: out as `${string}.png`, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${out} (${(statSync(out).size / 1024).toFixed(0)} KB) from ${report}, sections ${sections.join(", ")}`);
}

main().catch((e: unknown) => {
  console.error(`report-screenshot: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
