// The console's benchmark (not a test): the bundle's size, the time to the first screen,
// and the manager wall under load: 200 seat agents signed in, calls offered at a given
// rate and worked (rung, answered, talked, wrapped up) through the telephony RPCs, a county
// manager's wall open in headless Chromium. Prints one JSON report:
//
//   HOTLINE_CONSOLE_URL=http://127.0.0.1:50791 node bench/wall.mjs [agents] [calls/s] [seconds]
//
// Wall delay: from the telephony event's acknowledgement to the wall showing it (the
// "今日来电 · 接通" line, watched by a MutationObserver in the page), per event. Browser
// CPU: the CPU time of every Chromium process over the loaded window, and the page's own
// main-thread task time (Performance.getMetrics), each per second of the window.
// Run it against a fresh `hotline serve --demo` with the rate limits lifted
// (scripts/console_bench.sh does all of it).
import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { Role } from "../src/gen/hotline/v1/common_pb.js";
import { Presence } from "../src/gen/hotline/v1/seats_pb.js";
import { signIn } from "../e2e/api.mjs";
import { signedInPage } from "../e2e/page.mjs";

const base = (process.env.HOTLINE_CONSOLE_URL ?? "").replace(/\/+$/, "");
const [agents, rate, seconds] = [
  Number(process.argv[2] ?? 200),
  Number(process.argv[3] ?? 0.5),
  Number(process.argv[4] ?? 120),
];
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
const BENCH_PASSWORD = "bench-agent-pw-1";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (lo, hi) => lo + Math.random() * (hi - lo);

function pct(values, p) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]);
}

/** Gzipped sizes: everything in dist/, and what the first screen loads (index.html's own files). */
function bundle() {
  const dist = new URL("../dist/", import.meta.url).pathname;
  const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  const files = ["index.html", ...readdirSync(join(dist, "assets")).map((f) => `assets/${f}`)];
  const index = readFileSync(join(dist, "index.html"), "utf8");
  const first = ["index.html", ...[...index.matchAll(/(?:src|href)="\/?(assets\/[^"]+)"/g)].map((m) => m[1])];
  const sum = (list) => list.reduce((n, f) => n + gz(f), 0);
  return {
    total_gz_kb: +(sum(files) / 1024).toFixed(1),
    first_screen_gz_kb: +(sum(first) / 1024).toFixed(1),
    files: files.length,
  };
}

/** First contentful paint and the sign-in form ready, from navigation start, cold cache. */
async function firstScreen(browser, runs = 5) {
  const fcp = [];
  const ready = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN" });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector("#username", { state: "visible" });
    const t = await page.evaluate(() => ({
      ready: performance.now(),
      fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
    }));
    ready.push(t.ready);
    if (t.fcp !== null) fcp.push(t.fcp);
    await context.close();
  }
  return {
    runs,
    fcp_ms_median: pct(fcp, 50),
    form_ready_ms_median: pct(ready, 50),
    form_ready_ms_max: Math.round(Math.max(...ready)),
  };
}

/** CPU seconds (user + system) of every Chromium process now. */
function chromiumCpuSeconds() {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!/chrom/i.test(comm)) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100; // USER_HZ
}

/** `f()`, again after the server's retry hint while it says it is busy (sign-ins are bounded). */
async function patiently(f) {
  for (;;) {
    try {
      return await f();
    } catch (e) {
      const hint = /retry after (\d+) ms/.exec(String(e));
      if (!hint) throw e;
      await sleep(Number(hint[1]));
    }
  }
}

async function agentsReady(admin) {
  const unit = admin.user.unitId;
  const clients = [];
  for (let i = 0; i < agents; i += 20) {
    const batch = [];
    for (let j = i; j < Math.min(agents, i + 20); j++) {
      const username = `bench-agent-${String(j + 1).padStart(3, "0")}`;
      batch.push(
        (async () => {
          await patiently(() =>
            admin.auth.createUser({
              requestId: `bench-user-${username}`,
              username,
              role: Role.SEAT_AGENT,
              unitId: unit,
              password: BENCH_PASSWORD,
            }),
          );
          const c = await patiently(() => signIn(base, username, BENCH_PASSWORD));
          await c.seats.signInSeat({ seat: `B${String(j + 1).padStart(3, "0")}` });
          return c;
        })(),
      );
    }
    clients.push(...(await Promise.all(batch)));
  }
  return new Map(clients.map((c) => [c.user.id, c]));
}

async function main() {
  if (!base) throw new Error("set HOTLINE_CONSOLE_URL");
  const browser = await chromium.launch({
    executablePath: process.env.HOTLINE_CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  const report = {
    agents,
    calls_per_second: rate,
    seconds,
    bundle: bundle(),
    first_screen: await firstScreen(browser),
  };

  const admin = await signIn(base, "admin");
  const cti = await signIn(base, "cti");
  const byId = await agentsReady(admin);

  const page = await signedInPage(browser, base, "county", { width: 1920, height: 1080 });
  await page.waitForSelector('[data-testid="tiles-today"]');
  // Each change of the "today" line, with the page's wall-clock time.
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="tiles-today"]');
    const read = () => {
      const m = /(\d+)\D+(\d+)/.exec(el.textContent ?? "");
      window.__seen.push({
        at: performance.timeOrigin + performance.now(),
        offered: Number(m?.[1]),
        answered: Number(m?.[2]),
      });
    };
    window.__seen = [];
    read();
    new MutationObserver(read).observe(el, { childList: true, characterData: true, subtree: true });
  });
  const [start] = await page.evaluate(() => window.__seen);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const metric = async () =>
    Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));

  const offers = []; // ack times, in order
  const answers = [];
  const errors = [];
  const pending = [];
  const cpu0 = chromiumCpuSeconds();
  const m0 = await metric();
  const t0 = Date.now();
  let n = 0;
  const work = async (callId) => {
    const offered = await cti.telephony.callOffered({
      callId,
      callerPhone: `1380000${String(n % 10000).padStart(4, "0")}`,
      line: "12348",
    });
    offers.push(Date.now());
    const agentId = offered.assignedAgentId;
    if (!agentId) return; // nobody free: it waits (never with 200 agents at these rates)
    await sleep(pick(2000, 4000));
    await cti.telephony.callAnswered({ callId, agentId });
    answers.push(Date.now());
    await sleep(pick(20_000, 40_000));
    await cti.telephony.callEnded({ callId });
    await sleep(pick(2000, 5000));
    await byId.get(agentId).seats.setPresence({ presence: Presence.AVAILABLE });
  };
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(-Math.log(1 - Math.random()) * (1000 / rate));
    n += 1;
    pending.push(work(`bench-${t0}-${n}`).catch((e) => errors.push(String(e))));
  }
  const window_s = (Date.now() - t0) / 1000;
  const cpu1 = chromiumCpuSeconds();
  const m1 = await metric();
  await sleep(3000); // the last events reach the wall
  const seen = await page.evaluate(() => window.__seen);
  const delay = (acks, key, from) =>
    acks.map((at, i) => {
      const shown = seen.find((s) => s[key] >= from + i + 1);
      return shown ? shown.at - at : null;
    });
  const offerDelays = delay(offers, "offered", start.offered);
  const answerDelays = delay(
    answers.sort((a, b) => a - b),
    "answered",
    start.answered,
  );
  const all = [...offerDelays, ...answerDelays];
  const missing = all.filter((d) => d === null).length;
  const got = all.filter((d) => d !== null);
  report.wall = {
    events: all.length,
    not_shown: missing,
    delay_ms: { p50: pct(got, 50), p99: pct(got, 99), max: got.length ? Math.round(Math.max(...got)) : null },
    offered_delay_p99_ms: pct(
      offerDelays.filter((d) => d !== null),
      99,
    ),
    answered_delay_p99_ms: pct(
      answerDelays.filter((d) => d !== null),
      99,
    ),
  };
  report.browser = {
    window_s: +window_s.toFixed(1),
    chromium_cpu_percent_of_a_core: +((100 * (cpu1 - cpu0)) / window_s).toFixed(2),
    page_main_thread_task_percent: +((100 * (m1.TaskDuration - m0.TaskDuration)) / window_s).toFixed(2),
    page_js_heap_mb: +(m1.JSHeapUsedSize / 1048576).toFixed(1),
  };
  report.errors = errors.length;
  if (errors.length) report.first_error = errors[0];
  console.log(JSON.stringify(report, null, 2));
  await browser.close();
  // Calls still in talk are left as they are: the database is thrown away.
  process.exit(missing || errors.length ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
