// Browser scenarios against a running `hotline serve --demo` that serves the console:
//
//   HOTLINE_CONSOLE_URL=http://127.0.0.1:50071 [HOTLINE_E2E_SHOTS=dir] npm run e2e -- <scenario>...
//
// With no scenario named, every one runs. Each scenario expects a fresh demo database
// and sets up what it needs through the API. Exit code 0 only when every scenario passed.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const SCENARIOS = ["admin", "counsel", "desks", "isolation", "retry", "seat", "wall"];
const SCENARIO_TIMEOUT_MS = 180_000;

const url = (process.env.HOTLINE_CONSOLE_URL ?? "").replace(/\/+$/, "");
const shots = process.env.HOTLINE_E2E_SHOTS;
const chosen = process.argv.slice(2).filter((a) => a !== "--");

if (!url) {
  console.error("e2e: set HOTLINE_CONSOLE_URL to the server that serves the console, e.g. http://127.0.0.1:50071");
  process.exit(2);
}
const unknown = chosen.filter((s) => !SCENARIOS.includes(s));
if (unknown.length > 0) {
  console.error(`e2e: unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.join(", ")}`);
  process.exit(2);
}
if (shots) mkdirSync(shots, { recursive: true });

/** A failed expectation, with what was expected in words. */
class Failed extends Error {}

function context(browser, name) {
  const pages = [];
  const cleanups = [];
  return {
    cleanups,
    /** Undone when the scenario ends, passed or failed. */
    cleanup(fn) {
      cleanups.push(fn);
    },
    url,
    browser,
    pages,
    check(condition, message) {
      if (!condition) throw new Failed(message);
    },
    fail(message) {
      throw new Failed(message);
    },
    /** A signed-in page of a demo user in its own browser context. */
    async signedIn(username, { width = 1280, height = 800, beforeSignIn, via = url } = {}) {
      const ctx = await browser.newContext({
        viewport: { width, height },
        locale: "zh-CN",
        timezoneId: "Asia/Shanghai",
      });
      const page = await ctx.newPage();
      pages.push(page);
      page.on("pageerror", (err) => console.error(`[${name}:${username}] page error: ${err.message}`));
      await page.goto(`${via}/`);
      await page.waitForSelector("#username");
      if (beforeSignIn) await beforeSignIn(page);
      await page.fill("#username", username);
      await page.fill("#password", "hotline-demo-1");
      await page.click("[data-testid=sign-in]");
      await page.waitForSelector("[data-testid=user]");
      return page;
    },
    async shot(page, file) {
      if (!shots) return;
      await page.screenshot({ path: join(shots, file), fullPage: false });
    },
    /** Waits until `probe` returns a truthy value (polled), or fails with `message`. */
    async until(probe, message, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value) return value;
        if (Date.now() > end) throw new Failed(message);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

async function run(name) {
  const browser = await chromium.launch({
    executablePath: process.env.HOTLINE_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const ctx = context(browser, name);
  const started = Date.now();
  let timer;
  try {
    // A scenario exports its steps as `default(ctx)`, or as `run({ baseUrl, shots, browser })`.
    const module = await import(`./scenarios/${name}.mjs`);
    const steps = module.default ? module.default(ctx) : module.run({ baseUrl: url, shots, browser });
    await Promise.race([
      steps,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Failed(`did not finish within ${SCENARIO_TIMEOUT_MS / 1000} s`)),
          SCENARIO_TIMEOUT_MS,
        );
      }),
    ]);
    console.log(`e2e ${name}: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return true;
  } catch (err) {
    console.error(`e2e ${name}: FAILED: ${err instanceof Failed ? err.message : (err?.stack ?? err)}`);
    if (shots) {
      for (const [i, page] of ctx.pages.entries()) {
        await page.screenshot({ path: join(shots, `failed-${name}-${i}.png`) }).catch(() => {});
      }
    }
    return false;
  } finally {
    clearTimeout(timer);
    await browser.close();
    for (const fn of ctx.cleanups.reverse()) await fn();
  }
}

// The server must answer, and serve the console, before any scenario is worth running.
try {
  const page = await (await fetch(`${url}/`)).text();
  if (!page.includes('id="app"')) {
    console.error(`e2e: ${url}/ answers, but not with the console's index.html (is console/dist/ served?)`);
    process.exit(1);
  }
} catch (err) {
  console.error(`e2e: ${url}/ cannot be reached: ${err.cause?.message ?? err.message}`);
  process.exit(1);
}

let ok = true;
for (const name of chosen.length > 0 ? chosen : SCENARIOS) ok = (await run(name)) && ok;
process.exit(ok ? 0 : 1);
