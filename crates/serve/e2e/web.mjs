// End-to-end check of the page running in the browser (the WebAssembly build of crates/web):
// loads it from URL (a plain static server, or `serve --web-dir`), checks that it says it runs in
// the browser, draws a "1" with the mouse, then hands each example digit (examples/digits) to the
// drawing pad; each time it asserts the label and that every stage's canvas or tiles are painted.
// Then it compares the browser's answers with the native predictor's on the very same canvas
// pixels (NATIVE: crates/web/examples/native_answer): the framed 28x28 input within one gray
// level, the same label, logits within 1e-4. Throughout, no request may leave the static files.
// Prints the time per prediction in this headless Chromium.
// Usage: node web.mjs URL --native PATH_TO_native_answer [--screenshot FILE.png]
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const url = args[0];
const option = name => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1]; };
const native = option("--native");
const screenshot = option("--screenshot");
if (!url || !native) {
  console.error("usage: node web.mjs URL --native PATH_TO_native_answer [--screenshot FILE.png]");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const digits = join(dirname(fileURLToPath(import.meta.url)), "../../../examples/digits");
const examples = [
  ["zero.png", 0], ["one.png", 1], ["two.png", 2], ["three.png", 3],
  ["four.png", 4], ["seven.png", 7], ["seven-chalk.jpg", 7],
];
// The static folder's files (crates/web/build-site.sh); the favicon is the browser's own ask.
const STATIC = new Set(["/", "/index.html", "/web.js", "/web_bg.wasm", "/favicon.ico"]);
const STAGES = ["conv1", "pool1", "conv2", "pool2", "hidden", "outputs"];

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const scratch = mkdtempSync(join(tmpdir(), "mnist-cnn-web-e2e-"));
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [], requests = [];
  page.on("pageerror", err => errors.push(err.message));
  page.on("request", req => requests.push(`${req.method()} ${req.url()}`));
  await page.goto(url);
  await page.waitForFunction(() => window.mnistCnn?.ready, null, { timeout: 60000 });
  const mode = await page.locator("#mode").textContent();
  const runtime = await page.evaluate(() => window.mnistCnn.runtime);
  if (runtime !== "browser" || !mode.includes("in your browser")) problems.push(`mode: ${runtime}, "${mode}"`);

  // Waits for the answer to prediction number `n`, then returns it with the pad's pixels.
  const answer = async n => {
    await page.waitForFunction(k => window.mnistCnn.predictions >= k && document.getElementById("status").textContent === "live", n, { timeout: 30000 });
    return page.evaluate(() => {
      const pad = document.getElementById("pad");
      const rgba = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height);
      return { ...window.mnistCnn.last, rgba: Array.from(rgba.data), width: rgba.width, height: rgba.height };
    });
  };
  // Every stage painted: some canvas of each map stage, some hidden unit and output tile lit.
  const painted = () => page.evaluate(stages => {
    const lit = c => c.getContext("2d").getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 !== 3 && v > 0);
    const result = { input: lit(document.getElementById("seen")) };
    for (const s of stages) {
      const canvases = [...document.querySelectorAll(`#stage-${s} canvas`)];
      const tiles = [...document.querySelectorAll(`#stage-${s} .tiles > div`)];
      result[s] = canvases.length ? canvases.some(lit)
        : tiles.some(t => t.style.background && t.style.background !== "rgb(0, 0, 0)");
    }
    return result;
  }, STAGES);
  const check = async (what, got, want) => {
    if (got.label !== want) problems.push(`${what}: label ${got.label}, expected ${want}`);
    for (const [stage, ok] of Object.entries(await painted())) if (!ok) problems.push(`${what}: ${stage} not painted`);
  };

  // A "1" drawn with the mouse, as a person would: a short flag, then a long vertical stroke.
  const pad = await page.locator("#pad").boundingBox();
  const at = (x, y) => [pad.x + x, pad.y + y];
  await page.mouse.move(...at(115, 80));
  await page.mouse.down();
  for (const [x, y] of [[130, 60], [145, 45]]) await page.mouse.move(...at(x, y), { steps: 5 });
  for (let y = 45; y <= 235; y += 10) await page.mouse.move(...at(145, y), { steps: 2 });
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById("label").textContent === "1", null, { timeout: 30000 });
  let count = await page.evaluate(() => window.mnistCnn.predictions);
  const drawn = await answer(count);
  await check("the drawn 1", drawn, 1);
  // "Why this digit", computed in the tab when asked: the occlusion map of the drawn 1.
  await page.click("#explain");
  await page.waitForFunction(() => window.mnistCnn.explained !== null, null, { timeout: 30000 });
  drawn.why = await page.evaluate(() => window.mnistCnn.explained);
  const whyMs = await page.evaluate(() => document.getElementById("why-note").textContent.match(/(\d+) ms/)?.[1]);
  if (drawn.why.label !== 1 || drawn.why.drops.length !== 169) problems.push(`explain: label ${drawn.why.label}, ${drawn.why.drops.length} drops`);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const cases = [["drawn-one", drawn, 1]];

  // The example digits, scaled onto the pad by the browser's own decoder and canvas.
  for (const [file, digit] of examples) {
    const bytes = Array.from(readFileSync(join(digits, file)));
    count = await page.evaluate(async bytes => {
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)]));
      const pad = document.getElementById("pad");
      pad.getContext("2d").drawImage(bitmap, 0, 0, pad.width, pad.height);
      const before = window.mnistCnn.predictions;
      window.mnistCnn.drawn();
      return before + 1;
    }, bytes);
    const got = await answer(count);
    await check(file, got, digit);
    cases.push([file, got, digit]);
  }

  // Time per prediction: the page's own measure (framing, network, every stage's values) over
  // repeated predictions of the last drawing, after the first few warmed up.
  const times = [];
  for (let i = 0; i < 20; i++) {
    count = await page.evaluate(() => { window.mnistCnn.drawn(); return window.mnistCnn.predictions + 1; });
    const got = await answer(count);
    if (i >= 3) times.push(got.ms);
  }
  times.sort((a, b) => a - b);

  // The native predictor on the same canvas pixels.
  const files = cases.map(([name, got], i) => {
    const file = join(scratch, `${i}-${name}.rgba`);
    writeFileSync(file, Buffer.from(got.rgba));
    return file;
  });
  const { width, height } = cases[0][1];
  const lines = execFileSync(native, ["--width", String(width), "--height", String(height), ...files], { encoding: "utf8" })
    .trim().split("\n").map(l => JSON.parse(l));
  let worstLogit = 0, worstPixel = 0, worstHeat = 0;
  cases.forEach(([name, got], i) => {
    const ref = lines[i];
    const pixels = got.stages[0].values[0];
    const pixelGap = Math.max(...pixels.map((v, j) => Math.abs(v - ref.pixels[j])));
    const logitGap = Math.max(...got.logits.map((v, j) => Math.abs(v - ref.logits[j])));
    worstPixel = Math.max(worstPixel, pixelGap);
    worstLogit = Math.max(worstLogit, logitGap);
    if (pixelGap > 1) problems.push(`${name}: framed input differs from native by ${pixelGap} levels`);
    if (ref.label !== got.label) problems.push(`${name}: label ${got.label} in the browser, ${ref.label} native`);
    if (!(logitGap <= 1e-4)) problems.push(`${name}: logits differ from native by ${logitGap}`);
    if (got.why) {
      worstHeat = Math.max(...got.why.heat.map((v, j) => Math.abs(v - ref.heat[j])));
      if (!(worstHeat <= 1e-4)) problems.push(`${name}: occlusion heat differs from native by ${worstHeat}`);
    }
  });

  const origin = new URL(url).origin;
  const foreign = requests.filter(r => {
    const [method, address] = r.split(" ");
    if (address.startsWith("data:") || address.startsWith("blob:")) return false;
    const u = new URL(address);
    return method !== "GET" || u.origin !== origin || !STATIC.has(u.pathname);
  });
  if (foreign.length) problems.push(`requests beyond the static files: ${foreign.join(", ")}`);
  if (errors.length) problems.push(`page errors: ${errors.join("; ")}`);
  if (problems.length) throw new Error(problems.join("\n"));

  const median = times[Math.floor(times.length / 2)];
  console.log(`web e2e (${url}): mode "${mode}"`);
  console.log(`web e2e: labels ${cases.map(([n, g]) => `${n}=${g.label}`).join(" ")}; every stage painted each time`);
  console.log(`web e2e: same as native on ${cases.length} drawings: framed input within ${worstPixel} level(s), labels equal, logits within ${worstLogit.toExponential(2)}`);
  console.log(`web e2e: "why this digit" in the tab: 169 occluded copies in ${whyMs} ms, heat within ${worstHeat.toExponential(2)} of native`);
  console.log(`web e2e: ${requests.length} requests, all static: ${[...new Set(requests.map(r => new URL(r.split(" ")[1]).pathname))].join(" ")}`);
  console.log(`web e2e: time per prediction in headless Chromium: median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)} (${times.length} runs)`);
  if (screenshot) console.log(`web e2e: screenshot ${screenshot}`);
} finally {
  await browser.close();
  rmSync(scratch, { recursive: true, force: true });
}
