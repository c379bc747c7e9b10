/**
 * `pnpm --filter @testtrack/bench bench:dashboard [--quick]`: the dashboard's run page in real
 * Chromium. Seeds a run of 1,000 and one of 10,000 tests (--quick: 100 and 1,000), opens each
 * run page and prints the time from navigation to interactive (first rows rendered and a click
 * answered, by the page's own Performance API clock), the frame rate while its tests table
 * scrolls, and the gzip size of the first page's JavaScript and CSS. Printed, never asserted.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { createTestTrackClient } from "@testtrack/client";
import { createUser, finishRun, openDatabase, startRun } from "@testtrack/core";
import { createHttpHost } from "@testtrack/server/http";
import { findChromium } from "@testtrack/test-browser";
import { sql } from "drizzle-orm";
import pino from "pino";
import { chromium, type Page } from "playwright-core";
import postgres from "postgres";
import { execute } from "./seed";

const GOALS = { interactiveMs: 1_000, fps: 50, firstPageKb: 350 };
const PASSWORD = "bench dashboard password";
const SCROLL_MS = 2_000;
/** Pixels the table scrolls each frame: about eight rows, faster than a flick of the wheel. */
const SCROLL_STEP_PX = 300;
/** Page loads measured per run size (after one warm-up); the median is printed. */
const LOADS = 5;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "database-url": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(`pnpm --filter @testtrack/bench bench:dashboard [--quick] [--database-url postgres://...]
Builds the dashboard, seeds runs of 1,000 and 10,000 tests (--quick: 100 and 1,000) in a database
of its own (testtrack_bench_dashboard, recreated on DATABASE_URL's server, default
postgres://postgres@127.0.0.1:5432/postgres) and measures the run page in Chromium.`);
  process.exit(0);
}
const sizes = args.quick ? [100, 1_000] : [1_000, 10_000];
const webDist = join(dirname(fileURLToPath(import.meta.url)), "../../web/dist");

/** The gzip size of every script and stylesheet index.html loads before the first page shows. */
function firstPageAssets(): { file: string; bytes: number; gzip: number }[] {
  const indexFile = join(webDist, "index.html");
  if (!existsSync(indexFile)) {
    throw new Error(`${indexFile} is missing: run pnpm --filter @testtrack/web build`);
  }
  const html = readFileSync(indexFile, "utf8");
  const referenced = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map(
    (match) => match[1] ?? "",
  );
  return [...new Set(referenced)].map((file) => {
    const content = readFileSync(join(webDist, file));
    return { file, bytes: content.length, gzip: gzipSync(content).length };
  });
}

async function createBenchDatabase() {
  const adminUrl =
    args["database-url"] ??
    process.env.DATABASE_URL ??
    "postgres://postgres@127.0.0.1:5432/postgres";
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe("drop database if exists testtrack_bench_dashboard with (force)");
  await admin.unsafe("create database testtrack_bench_dashboard");
  const url = new URL(adminUrl);
  url.pathname = "/testtrack_bench_dashboard";
  const handle = openDatabase({ url: url.toString(), maxConnections: 8 });
  await handle.migrate();
  return {
    handle,
    drop: async () => {
      await handle.close();
      await admin.unsafe("drop database if exists testtrack_bench_dashboard with (force)");
      await admin.end();
    },
  };
}

type BenchDatabase = Awaited<ReturnType<typeof createBenchDatabase>>["handle"];

/**
 * A finished run of `tests` tests in the user's personal project, written by the database
 * (INSERT ... SELECT): 90% passed, 7% failed with a message, 3% skipped. The run_tests roll-up
 * and the counts come from the same trigger a real upload fires.
 */
async function seedRun(database: BenchDatabase, userId: number, tests: number) {
  const actor = { id: userId, role: "member" as const };
  const [project] = await execute(
    database,
    sql`select id from projects where personal_user_id = ${userId}`,
  );
  const projectId = Number(project?.id);
  const run = await startRun(database.db, actor, {
    projectId,
    key: `bench-${tests}`,
    name: `Bench run of ${tests} tests`,
    branch: "main",
  });
  await execute(
    database,
    sql`with cases as (
        insert into test_cases (project_id, user_id, key, title)
        select ${projectId}, ${userId}, 'bench-' || ${tests}::int || ' › ' || g,
               'Bench ' || ${tests}::int || ' › checkout flow ' || g || ' keeps the cart total'
        from generate_series(1, ${tests}::int) g
        returning id)
      insert into test_executions (project_id, test_case_id, user_id, run_id, attempt, status, result,
        started_at, completed_at, duration_seconds, error_message, triggered_by)
      select ${projectId}, c.id, ${userId}, ${run.id}, 0,
        (case when c.id % 100 < 7 then 'failed' else 'completed' end)::execution_status,
        (case when c.id % 100 < 7 then 'fail' when c.id % 100 < 10 then 'skip' else 'pass' end)::execution_result,
        now() - interval '10 minutes', now(), 0.2 + (c.id % 50) / 10.0,
        case when c.id % 100 < 7 then 'AssertionError: expected total 42.00 to equal ' || c.id end, 'ci_cd'
      from cases c`,
  );
  await finishRun(database.db, actor, { runId: run.id });
  return { runId: run.id, projectId };
}

/**
 * Opens the run page and, inside the page, waits for the first table rows, clicks the "failed"
 * tab and waits until it shows as selected and a frame is painted. Times are milliseconds since
 * navigation start (performance.now()).
 */
// The page-side scripts are strings: tsx names the functions it compiles (`__name(...)`), a
// helper that exists in Node but not in the page.
const INTERACTIVE_SCRIPT = `(async () => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  while (!document.querySelector("table.run-tests tbody tr[data-test-case-id]")) await frame();
  const rows = performance.now();
  const tab = [...document.querySelectorAll('[role="tab"]')].find((b) => b.textContent.startsWith("failed"));
  if (!tab) throw new Error("no failed tab on the run page");
  const clicked = performance.now();
  tab.click();
  while (tab.getAttribute("aria-selected") !== "true") await frame();
  await frame();
  const answered = performance.now();
  return { rows, clickMs: answered - clicked, interactive: answered };
})()`;

const scrollScript = (durationMs: number, stepPx: number) => `(async () => {
  const box = document.querySelector(".run-tests-scroll");
  if (!box) throw new Error("no tests table on the run page");
  const frames = [];
  await new Promise((resolve) => {
    let last = performance.now();
    const end = last + ${durationMs};
    const step = (now) => {
      frames.push(now - last);
      last = now;
      box.scrollTop += ${stepPx};
      if (now < end) requestAnimationFrame(step);
      else resolve();
    };
    requestAnimationFrame(step);
  });
  const loaded = document.querySelector('[data-testid="run-tests-status"]').textContent;
  return { frames: frames.slice(1), loaded };
})()`;

/**
 * Opens the run page and, inside the page, waits for the first table rows, clicks the "failed"
 * tab and waits until it shows as selected and a frame is painted. Times are milliseconds since
 * navigation start (performance.now()).
 */
async function timeToInteractive(page: Page, url: string) {
  await page.goto(url, { waitUntil: "commit" });
  return page.evaluate<{ rows: number; clickMs: number; interactive: number }>(INTERACTIVE_SCRIPT);
}

/** Scrolls the tests table a step every frame for SCROLL_MS and returns the frame times. */
async function scrollFrames(page: Page, url: string) {
  await page.goto(url);
  await page.locator("table.run-tests tbody tr[data-test-case-id]").first().waitFor();
  return page.evaluate<{ frames: number[]; loaded: string }>(
    scrollScript(SCROLL_MS, SCROLL_STEP_PX),
  );
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const mark = (ok: boolean) => (ok ? "meets" : "MISSES");

async function main() {
  const assets = firstPageAssets();
  const gzipKb = assets.reduce((sum, asset) => sum + asset.gzip, 0) / 1024;

  const database = await createBenchDatabase();
  const host = createHttpHost(
    {
      port: 0,
      host: "127.0.0.1",
      corsOrigins: [],
      maxBodyBytes: 5 * 1024 * 1024,
      maxBatchSize: 50,
      development: false,
      dashboardDir: webDist,
    },
    database.handle,
    pino({ level: "silent" }),
  );
  const serverUrl = await host.listen();
  const found = await findChromium();
  const browser = await chromium.launch({ executablePath: found.executablePath, args: found.args });
  try {
    const user = await createUser(database.handle.db, {
      email: "bench-dashboard@bench.test",
      name: "Bench dashboard",
      password: PASSWORD,
    });
    const login = await createTestTrackClient({ url: serverUrl }).auth.login.mutate({
      email: user.email,
      password: PASSWORD,
    });
    const seeded = [];
    for (const tests of sizes) {
      const started = performance.now();
      seeded.push({ tests, ...(await seedRun(database.handle, user.id, tests)) });
      console.log(
        `seeded a run of ${tests} tests in ${Math.round(performance.now() - started)} ms`,
      );
    }

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Signed in as the dashboard's own sign-in form leaves it: the session in sessionStorage.
    const session = JSON.stringify({ token: login.token, user: login.user });
    await context.addInitScript({
      content: `sessionStorage.setItem("testtrack.session", ${JSON.stringify(session)});`,
    });
    const page = await context.newPage();
    const results = [];
    for (const run of seeded) {
      const url = `${serverUrl}/runs/${run.runId}?project=${run.projectId}&outcome=all`;
      await timeToInteractive(page, url);
      const loads = [];
      for (let i = 0; i < LOADS; i++) loads.push(await timeToInteractive(page, url));
      const scroll = await scrollFrames(page, url);
      const meanFrame = scroll.frames.reduce((a, b) => a + b, 0) / scroll.frames.length;
      results.push({
        tests: run.tests,
        rowsMs: median(loads.map((l) => l.rows)),
        clickMs: median(loads.map((l) => l.clickMs)),
        interactiveMs: median(loads.map((l) => l.interactive)),
        fps: 1000 / meanFrame,
        p5Fps: 1000 / percentile(scroll.frames, 95),
        worstFrameMs: Math.max(...scroll.frames),
        frames: scroll.frames.length,
        loaded: scroll.loaded,
      });
    }
    await context.close();

    console.log(
      `\nRun page in Chromium ${browser.version()} (1280×900, median of ${LOADS} loads, warm cache):`,
    );
    for (const r of results) {
      console.log(
        `  ${String(r.tests).padStart(6)} tests: rows at ${r.rowsMs.toFixed(0)} ms, click answered in ${r.clickMs.toFixed(0)} ms, interactive at ${r.interactiveMs.toFixed(0)} ms (goal ≤ ${GOALS.interactiveMs} ms at the larger run: ${mark(r.interactiveMs <= GOALS.interactiveMs)})`,
      );
      console.log(
        `         scrolling ${SCROLL_MS / 1000} s: ${r.fps.toFixed(1)} fps average, 5th-percentile frame ${r.p5Fps.toFixed(1)} fps, worst frame ${r.worstFrameMs.toFixed(1)} ms over ${r.frames} frames (goal ≥ ${GOALS.fps} fps: ${mark(r.fps >= GOALS.fps)}); ${r.loaded}`,
      );
    }
    const [small, large] = results;
    if (small && large) {
      console.log(
        `  interactive ${large.tests} / ${small.tests} tests: ${(large.interactiveMs / small.interactiveMs).toFixed(2)}×`,
      );
    }
    console.log(
      `\nFirst page (index.html's scripts and styles): ${gzipKb.toFixed(1)} KB gzip (goal ≤ ${GOALS.firstPageKb} KB: ${mark(gzipKb <= GOALS.firstPageKb)})`,
    );
    for (const asset of assets) {
      console.log(
        `  ${asset.file}: ${(asset.bytes / 1024).toFixed(1)} KB, ${(asset.gzip / 1024).toFixed(1)} KB gzip`,
      );
    }
  } finally {
    await browser.close();
    await host.close();
    await database.drop();
  }
}

await main();
