// `npm run e2e -- <scenario>...`: runs browser scenarios (e2e/scenarios/<name>.mjs, each
// exporting `run({ baseUrl, shots, browser })`) in headless Chromium against the console.
//
// The console is the one at HOTLINE_E2E_URL; without it, `vite preview` of dist/ is started
// here, passing the API paths to HOTLINE_API (a `hotline serve --demo`). Screenshots go to
// HOTLINE_E2E_SHOTS when it is set.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PREVIEW_PORT = 4180;

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main() {
  const names = process.argv.slice(2);
  if (names.length === 0) {
    console.error("usage: npm run e2e -- <scenario>... (e2e/scenarios/<scenario>.mjs)");
    process.exit(2);
  }
  let preview;
  let baseUrl = process.env.HOTLINE_E2E_URL;
  if (!baseUrl) {
    baseUrl = `http://127.0.0.1:${PREVIEW_PORT}`;
    // vite itself, not through npx, so that killing it at the end ends the server.
    const vite = new URL("../node_modules/vite/bin/vite.js", import.meta.url).pathname;
    preview = spawn(process.execPath, [vite, "preview", "--host", "127.0.0.1", "--port", String(PREVIEW_PORT), "--strictPort"], {
      cwd: new URL("..", import.meta.url).pathname,
      stdio: ["ignore", "ignore", "inherit"],
    });
    await waitFor(baseUrl, 20_000);
  }
  const shots = process.env.HOTLINE_E2E_SHOTS || undefined;
  if (shots) mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  let failed = 0;
  try {
    for (const name of names) {
      const started = Date.now();
      try {
        const scenario = await import(`./scenarios/${name}.mjs`);
        await scenario.run({ baseUrl, shots, browser });
        console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (err) {
        failed++;
        console.error(`FAIL ${name}: ${err?.stack ?? err}`);
      }
    }
  } finally {
    await browser.close();
    preview?.kill();
  }
  process.exit(failed ? 1 : 0);
}

main();
