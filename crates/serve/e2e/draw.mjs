// End-to-end check of the draw-a-digit page in headless Chromium (Debian's `chromium`):
// draws a "1" with mouse events, waits for the prediction, then checks that every stage of the
// lecture's network is shown with its shape, formula and parameters, that each grid holds one
// tile per map / unit, and that the tiles were painted; saves a screenshot if asked.
// Usage: node draw.mjs http://127.0.0.1:8080 [screenshot.png]
import { chromium } from "playwright-core";

const url = process.argv[2] ?? "http://127.0.0.1:8080";
const screenshot = process.argv[3];
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

// The served model is the lecture's (the shipped one): these are the numbers the page must show.
const expected = [
  { stage: "input", shape: "28x28x1", tiles: 0 },
  { stage: "conv1", shape: "26x26x32", formula: "floor((28-3)/1)+1 = 26", params: "32*(3*3*1+1) = 320", tiles: 32 },
  { stage: "pool1", shape: "13x13x32", formula: "floor((26-2)/2)+1 = 13", tiles: 32 },
  { stage: "conv2", shape: "11x11x64", formula: "floor((13-3)/1)+1 = 11", params: "64*(3*3*32+1) = 18,496", tiles: 64 },
  { stage: "pool2", shape: "5x5x64", formula: "floor((11-2)/2)+1 = 5", tiles: 64 },
  { stage: "hidden", shape: "512", formula: "flatten 5*5*64 = 1600 -> 512 units", params: "512*(1600+1) = 819,712", tiles: 512 },
  { stage: "outputs", shape: "10", params: "10*(512+1) = 5,130", tiles: 10 },
];

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  page.on("pageerror", err => errors.push(err.message));
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
  // The last answer may still be painting: wait until the status says it is shown.
  await page.waitForFunction(() => document.getElementById("status").textContent === "live", null, { timeout: 20000 });

  const problems = [];
  // Served by `serve` without --web-dir: the page computes on the server and says so.
  const mode = await page.locator("#mode").textContent();
  if (!mode.includes("on the server")) problems.push(`mode: "${mode}", expected it to run on the server`);
  for (const want of expected) {
    const stage = page.locator(`[data-stage="${want.stage}"]`);
    const text = (selector) => stage.locator(selector).first().textContent();
    if ((await stage.count()) !== 1) { problems.push(`${want.stage}: not on the page`); continue; }
    const shape = await text(".shape");
    if (shape !== want.shape) problems.push(`${want.stage}: shape "${shape}", expected "${want.shape}"`);
    const formula = await text(".formula");
    if (want.formula && formula !== want.formula) problems.push(`${want.stage}: formula "${formula}", expected "${want.formula}"`);
    const params = await text(".params");
    if (want.params && params !== `params ${want.params}`) problems.push(`${want.stage}: "${params}", expected "params ${want.params}"`);
    if (want.tiles) {
      const tiles = await stage.locator(".tiles > *").count();
      if (tiles !== want.tiles) problems.push(`${want.stage}: ${tiles} tiles, expected ${want.tiles}`);
    }
  }
  // Painted, not only laid out: the input the network sees, the conv1 maps and the hidden units
  // hold something other than black.
  const painted = await page.evaluate(() => {
    const lit = c => c.getContext("2d").getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 !== 3 && v > 0);
    const units = [...document.querySelectorAll("#stage-hidden .tiles > div")];
    return {
      input: lit(document.getElementById("seen")),
      conv1: [...document.querySelectorAll("#stage-conv1 canvas")].some(lit),
      pool2: [...document.querySelectorAll("#stage-pool2 canvas")].some(lit),
      hidden: units.some(u => u.style.background && u.style.background !== "rgb(0, 0, 0)"),
    };
  });
  for (const [what, ok] of Object.entries(painted)) if (!ok) problems.push(`${what}: nothing painted`);
  if (errors.length) problems.push(`page errors: ${errors.join("; ")}`);
  if (problems.length) throw new Error(problems.join("\n"));

  // The bars are digit, bar, percentage per row: the 4th span is the percentage of "1".
  const top = await page.locator("#bars span").nth(3).textContent();
  console.log(`e2e: predicted 1 (${top}); ${expected.length} stages with their shapes, formulas and params; tiles ${expected.map(e => e.tiles).filter(Boolean).join("/")} painted`);
  if (screenshot) {
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`e2e: screenshot ${screenshot}`);
  }
} finally {
  await browser.close();
}
