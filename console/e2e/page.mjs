// The browser side of a scenario: a page signed in as a demo user, and screenshots.
import { join } from "node:path";
import { PASSWORD } from "./api.mjs";

/** A fresh context and page at `viewport`, signed in through the sign-in screen. */
export async function signedInPage(browser, baseUrl, username, viewport = { width: 1366, height: 768 }) {
  const context = await browser.newContext({ viewport, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`  [page error] ${err.message}`));
  await page.goto(baseUrl);
  await page.fill("#username", username);
  await page.fill("#password", PASSWORD);
  await page.click('[data-testid="sign-in"]');
  await page.waitForSelector('[data-testid="user"]');
  return page;
}

/** Saves `name` into HOTLINE_E2E_SHOTS when it is set. */
export async function shot(page, shots, name) {
  if (!shots) return;
  await page.screenshot({ path: join(shots, name) });
  console.log(`  screenshot ${join(shots, name)}`);
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}
