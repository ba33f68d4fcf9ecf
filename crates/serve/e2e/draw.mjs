// End-to-end check of the draw-a-digit page in headless Chromium (Debian's `chromium`):
// draws a "1" with mouse events, waits for the prediction and the feature maps, and saves a
// screenshot. Usage: node draw.mjs http://127.0.0.1:8080 [screenshot.png]
import { chromium } from "playwright-core";

const url = process.argv[2] ?? "http://127.0.0.1:8080";
const screenshot = process.argv[3];
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(url);
  const pad = await page.locator("#pad").boundingBox();
  // A "1": a short flag, then a long vertical stroke, as a person would draw it.
  const at = (x, y) => [pad.x + x, pad.y + y];
  await page.mouse.move(...at(115, 80));
  await page.mouse.down();
  for (const [x, y] of [[130, 60], [145, 45]]) await page.mouse.move(...at(x, y), { steps: 5 });
  for (let y = 45; y <= 235; y += 10) await page.mouse.move(...at(145, y), { steps: 2 });
  await page.mouse.up();

  await page.waitForFunction(() => document.getElementById("label").textContent === "1", null, { timeout: 20000 });
  const conv1 = await page.locator("#conv1 canvas").count();
  const conv2 = await page.locator("#conv2 canvas").count();
  if (conv1 !== 32 || conv2 !== 64) throw new Error(`feature maps: ${conv1} conv1, ${conv2} conv2`);
  // The maps were drawn: some pixel of the conv1 grid is not black.
  const lit = await page.evaluate(() => [...document.querySelectorAll("#conv1 canvas")].some(c =>
    c.getContext("2d").getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 !== 3 && v > 0)));
  if (!lit) throw new Error("feature maps are empty");
  const top = await page.locator("#bars span").nth(2).textContent();
  console.log(`e2e: predicted 1 (${top}), 32 conv1 and 64 conv2 maps drawn`);
  if (screenshot) {
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`e2e: screenshot ${screenshot}`);
  }
} finally {
  await browser.close();
}
