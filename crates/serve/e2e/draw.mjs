// End-to-end check of the draw-a-digit page in headless Chromium (Debian's `chromium`):
// draws a "1" with mouse events, waits for the prediction, then checks that every stage of the
// lecture's network is shown with its shape, formula and parameters, that each grid holds one
// tile per map / unit, and that the tiles were painted; then presses "Explain" and checks the
// occlusion map ("why this digit"), asked for once and never with the strokes' predictions;
// saves a screenshot if asked.
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
  const explainRequests = [];
  page.on("request", req => { if (req.url().includes("explain=true")) explainRequests.push(req.url()); });
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
  if (explainRequests.length) problems.push(`strokes asked for an explanation: ${explainRequests.length} requests`);

  // "Why this digit": one request, a 13x13 map of drops for the predicted digit, painted red
  // somewhere over the input, its arithmetic shown.
  await page.click("#explain");
  await page.waitForFunction(() => window.mnistCnn.explained !== null, null, { timeout: 20000 });
  const why = await page.evaluate(() => {
    const map = window.mnistCnn.explained, c = document.getElementById("why");
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] > 200 && px[i + 1] < 80) red++;
    return { label: map.label, drops: map.drops.length, red, note: document.getElementById("why-note").textContent };
  });
  if (why.label !== 1) problems.push(`explain: label ${why.label}, expected 1`);
  if (why.drops !== 169) problems.push(`explain: ${why.drops} drops, expected 13x13 = 169`);
  if (why.red === 0) problems.push("explain: no red pixel in the heat map");
  if (!why.note.includes("floor((28-4)/2)+1 = 13")) problems.push(`explain: note "${why.note}"`);
  if (explainRequests.length !== 1) problems.push(`explain: ${explainRequests.length} requests, expected 1`);
  if (errors.length) problems.push(`page errors: ${errors.join("; ")}`);
  if (problems.length) throw new Error(problems.join("\n"));

  // The bars are digit, bar, percentage per row: the 4th span is the percentage of "1".
  const top = await page.locator("#bars span").nth(3).textContent();
  console.log(`e2e: predicted 1 (${top}); ${expected.length} stages with their shapes, formulas and params; tiles ${expected.map(e => e.tiles).filter(Boolean).join("/")} painted; explained: ${why.red} red pixels (${why.note.split(". ").pop()})`);
  if (screenshot) {
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`e2e: screenshot ${screenshot}`);
  }
} finally {
  await browser.close();
}
