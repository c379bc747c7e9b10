import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestTrackClient, type TestTrackClient } from "@testtrack/client";
import { TEST_PASSWORD } from "@testtrack/core/testing";
import {
  createTestPrincipal,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "@testtrack/server/testing";
import { findChromium } from "@testtrack/test-browser";
import type { AxeResults } from "axe-core";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";

const webDir = fileURLToPath(new URL("..", import.meta.url));
const screenshots = fileURLToPath(new URL("./screenshots/", import.meta.url));
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);

let distDir: string;
let server: TestServer;
let lead: TestPrincipal;
let sdk: TestTrackClient;
let browser: Browser;
let page: Page;
/** The seeded executions by name. */
const ids: Record<string, number> = {};
let checkoutId: number;

async function seed() {
  const checkout = await sdk.testCase.create.mutate({
    title: "Checkout with a saved card",
    description: "A returning customer pays with the card on file.",
    steps: [{ description: "Open the cart", expectedResult: "The cart shows one item" }],
    tags: ["checkout", "smoke"],
  });
  const signIn = await sdk.testCase.create.mutate({ title: "Sign in with SSO" });
  checkoutId = checkout.id;
  const run = async (
    name: string,
    testCaseId: number,
    where: { browser: string; environment: string },
    steps: ("pass" | "fail")[],
    finish?: { status: "completed" | "failed" | "cancelled"; durationSeconds?: number },
  ) => {
    const { executionId } = await sdk.execution.start.mutate({ testCaseId, ...where });
    ids[name] = executionId;
    if (steps.length > 0) {
      await sdk.step.record.mutate({
        executionId,
        steps: steps.map((result, index) => ({
          stepNumber: index + 1,
          stepDescription: index === 0 ? "Open the cart" : `Check step ${index + 1}`,
          result,
          expectedResult: "The order is confirmed",
          actualResult: result === "pass" ? "The order is confirmed" : "A payment error banner",
          durationSeconds: 1.5,
          ...(result === "fail"
            ? {
                errorMessage: "Timeout waiting for #confirmation",
                screenshotPath: "https://artifacts.example.com/run/failure.png",
              }
            : {}),
        })),
      });
    }
    if (finish) await sdk.execution.update.mutate({ id: executionId, ...finish });
  };
  const staging = { browser: "chromium", environment: "staging" };
  await run("passed", checkout.id, staging, ["pass", "pass", "pass"], {
    status: "completed",
    durationSeconds: 12.5,
  });
  await run(
    "failed",
    checkout.id,
    { browser: "firefox", environment: "staging" },
    ["pass", "fail"],
    {
      status: "failed",
      durationSeconds: 48,
    },
  );
  await run(
    "production",
    checkout.id,
    { browser: "chromium", environment: "production" },
    ["pass", "pass"],
    {
      status: "completed",
      durationSeconds: 3.2,
    },
  );
  await run("webkit", signIn.id, { browser: "webkit", environment: "staging" }, ["pass"], {
    status: "completed",
    durationSeconds: 95,
  });
  await run("cancelled", signIn.id, staging, [], { status: "cancelled", durationSeconds: 0.5 });
  await run("live", checkout.id, staging, ["pass"]);
}

beforeAll(async () => {
  // TESTTRACK_CHROMIUM, a system Chromium, Playwright's cache or the one an npm package ships.
  const found = await findChromium();
  distDir = mkdtempSync(join(tmpdir(), "testtrack-web-"));
  await build({ root: webDir, logLevel: "warn", build: { outDir: distDir, emptyOutDir: true } });
  server = await startTestServer({ dashboardDir: distDir });
  lead = await createTestPrincipal(server.database, "member");
  sdk = createTestTrackClient({ url: server.url, token: lead.token });
  await seed();
  mkdirSync(screenshots, { recursive: true });
  browser = await chromium.launch({ executablePath: found.executablePath, args: found.args });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (distDir) rmSync(distDir, { recursive: true, force: true });
});

/**
 * axe-core over the page as it is now: fails listing every serious or critical violation (rule,
 * help, elements). Loaded again after a full load; kept across the app's own navigations.
 */
async function expectAccessible(name: string, target: Page = page) {
  // Evaluated rather than added as a <script>: the dashboard's CSP (script-src 'self') refuses
  // inline scripts, and the check must not weaken it.
  if (!(await target.evaluate(() => "axe" in window))) await target.evaluate(axeSource);
  const violations = await target.evaluate(async () => {
    const { axe } = window as unknown as { axe: { run(): Promise<AxeResults> } };
    const results = await axe.run();
    return results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map(
        (v) =>
          `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
      );
  });
  expect(violations, `axe-core on the ${name} page`).toEqual([]);
}

const rows = () => page.locator("table.executions tbody tr");
const count = () => page.getByTestId("execution-count");

it("serves the built dashboard with its content types, and index.html for its pages", async () => {
  const index = await fetch(`${server.url}/statistics`, { headers: { accept: "text/html" } });
  expect(index.status).toBe(200);
  expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
  const html = await index.text();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  const asset = await fetch(`${server.url}${script}`);
  expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  expect(asset.headers.get("cache-control")).toContain("immutable");
});

it("signs in and lists every execution with colored status badges", async () => {
  await page.goto(server.url);
  await expect
    .poll(() => page.getByRole("heading", { name: "Sign in to TestTrack" }).count())
    .toBe(1);
  await page.getByLabel("Email").fill(lead.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").waitFor();
  expect(await page.getByRole("alert").textContent()).toMatch(/password/i);

  await page.getByLabel("Password").fill(TEST_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Executions" }).waitFor();
  await expect.poll(() => count().textContent()).toBe("6 executions");
  expect(await rows().count()).toBe(6);
  expect(await page.evaluate(() => sessionStorage.getItem("testtrack.session"))).toContain(
    lead.email,
  );
  const failedBadge = rows()
    .filter({ hasText: `#${ids.failed}` })
    .locator(".badge-failed");
  expect(await failedBadge.textContent()).toBe("failed");
  const color = await failedBadge.evaluate((element) => getComputedStyle(element).color);
  expect(color).toBe("rgb(127, 29, 29)");
  await page.screenshot({ path: join(screenshots, "01-executions.png"), fullPage: true });
  await expectAccessible("executions");
});

it("filters the list by status, browser, environment and test case", async () => {
  await page.getByLabel("Status").selectOption("failed");
  await expect.poll(() => count().textContent()).toBe("1 execution match these filters");
  expect(await rows().first().textContent()).toContain("Checkout with a saved card");

  await page.getByRole("button", { name: "Clear filters" }).click();
  await page.getByLabel("Browser").selectOption("chromium");
  await expect.poll(() => count().textContent()).toBe("4 executions match these filters");

  await page.getByLabel("Browser").selectOption("");
  await page.getByLabel("Environment").selectOption("staging");
  await page.getByLabel("Test case").selectOption({ label: "Sign in with SSO" });
  await expect.poll(() => count().textContent()).toBe("2 executions match these filters");
  expect(page.url()).toContain("environment=staging");
  const shown = await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.executionId));
  expect(shown.map(Number).sort()).toEqual([ids.webkit, ids.cancelled].sort());
});

it("sorts the rows of the page and opens an execution from the keyboard", async () => {
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect.poll(() => count().textContent()).toBe("6 executions");
  await page.getByRole("button", { name: "Duration" }).click();
  const durations = await rows().evaluateAll((trs) => trs.map((tr) => tr.children[7]?.textContent));
  // Ascending, and the running execution, which has no duration yet, last.
  expect(durations).toEqual(["500 ms", "3.2 s", "12.5 s", "48.0 s", "1 min 35 s", "—"]);
  await page.getByRole("button", { name: "Duration" }).click();
  const descending = await rows().evaluateAll((trs) =>
    trs.map((tr) => tr.children[7]?.textContent),
  );
  expect(descending).toEqual(["1 min 35 s", "48.0 s", "12.5 s", "3.2 s", "500 ms", "—"]);

  await page.getByLabel("Status").selectOption("failed");
  await expect.poll(() => rows().count()).toBe(1);
  await rows().first().focus();
  await page.keyboard.press("Enter");
  await page
    .getByRole("heading", { name: `Execution #${ids.failed}: Checkout with a saved card` })
    .waitFor();
  expect(new URL(page.url()).pathname).toBe(`/executions/${ids.failed}`);
  expect(await page.getByTestId("step-summary").textContent()).toBe(
    "2 total · 1 passed · 1 failed · 0 skipped",
  );
  const failing = page.locator('li[data-step-number="2"]');
  expect(await failing.textContent()).toContain("Timeout waiting for #confirmation");
  expect(await failing.textContent()).toContain("A payment error banner");
  expect(await failing.getByRole("link").getAttribute("href")).toBe(
    "https://artifacts.example.com/run/failure.png",
  );
  expect(await page.getByRole("status").textContent()).toBe("Finished");
  await page.screenshot({ path: join(screenshots, "02-failed-execution.png"), fullPage: true });
  await expectAccessible("execution");
});

it("shows steps of a running execution as the SDK records them, without reloading", async () => {
  await page.goto(`${server.url}/executions/${ids.live}`);
  await page.getByText("Live: steps appear as they are recorded").waitFor();
  expect(await page.locator("li.step").count()).toBe(1);
  await page.evaluate(() => {
    (window as unknown as { notReloaded: boolean }).notReloaded = true;
  });

  await sdk.step.record.mutate({
    executionId: ids.live as number,
    steps: { stepNumber: 2, stepDescription: "Pay with the saved card", result: "pass" },
  });
  await page.locator('li[data-step-number="2"]').waitFor();
  expect(await page.locator('li[data-step-number="2"]').textContent()).toContain(
    "Pay with the saved card",
  );
  expect(await page.getByTestId("step-summary").textContent()).toBe(
    "2 total · 2 passed · 0 failed · 0 skipped",
  );
  await page.screenshot({ path: join(screenshots, "03-live-execution.png"), fullPage: true });

  await sdk.execution.update.mutate({
    id: ids.live as number,
    status: "completed",
    durationSeconds: 20,
  });
  await page.locator(".headline .badge-completed").waitFor();
  await expect.poll(() => page.getByRole("status").textContent()).toBe("Finished");
  expect(
    await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
  ).toBe(true);
});

it("shows an execution's screenshot, video and log in place through signed URLs", async () => {
  const upload = async (name: string, contentType: string, body: Buffer | string) => {
    const kind = { "image/png": "screenshot", "video/webm": "video", "text/plain": "log" }[
      contentType
    ];
    const response = await fetch(
      `${server.url}/api/v1/executions/${ids.failed}/artifacts?name=${name}&kind=${kind ?? "trace"}`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${lead.token}`, "content-type": contentType },
        body: typeof body === "string" ? body : new Uint8Array(body),
      },
    );
    expect(response.status).toBe(201);
  };
  await upload("failure.png", "image/png", await page.screenshot());
  await upload("run.webm", "video/webm", Buffer.from("not a real video"));
  await upload("console.log", "text/plain", "GET /cart 200\nPOST /pay 502\n");
  await upload("trace.zip", "application/zip", "PK");
  await page.goto(`${server.url}/executions/${ids.failed}`);
  await page.getByRole("heading", { name: "Artifacts" }).waitFor({ timeout: 10_000 });
  const image = page.getByRole("img", { name: "screenshot: failure.png" });
  await image.waitFor({ timeout: 10_000 });
  await expect
    .poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth))
    .toBeGreaterThan(0);
  expect(await page.locator("video").getAttribute("src")).toMatch(
    /^\/api\/v1\/artifacts\/\d+\?expires=/,
  );
  await page.getByText("POST /pay 502").waitFor();
  const trace = page.getByRole("link", { name: "trace.zip" });
  expect(await trace.getAttribute("download")).toBe("trace.zip");
  await page.screenshot({ path: join(screenshots, "02b-execution-artifacts.png"), fullPage: true });
  await expectAccessible("execution artifacts");
});

it("opens a test case's history from an execution", async () => {
  await page.getByRole("link", { name: "Checkout with a saved card (history)" }).click();
  await page.getByRole("heading", { name: "Checkout with a saved card" }).waitFor();
  expect(new URL(page.url()).pathname).toBe(`/test-cases/${checkoutId}`);
  await expect.poll(() => rows().count()).toBe(4);
  expect(await page.getByRole("list", { name: "Test case summary" }).textContent()).toContain(
    "75% pass rate",
  );
  await expectAccessible("test case");
});

it("shows statistics with breakdowns and trend charts", async () => {
  await page.getByRole("link", { name: "Statistics" }).click();
  await page.getByRole("heading", { name: "Statistics" }).waitFor();
  const stat = (label: string) => page.locator(`[data-stat="${label}"] .card-value`).textContent();
  await expect.poll(() => stat("Executions")).toBe("6");
  expect(await stat("Pass rate")).toBe("80%");
  expect(await stat("Last 24 hours")).toBe("6");
  const browsers = page.locator("table.breakdown", { hasText: "By browser" });
  expect(await browsers.locator('tr[data-key="chromium"] .count').textContent()).toBe("4");
  expect(await browsers.locator('tr[data-key="webkit"] .count').textContent()).toBe("1");
  const statuses = page.locator("table.breakdown", { hasText: "By status" });
  expect(await statuses.locator('tr[data-key="running"] .count').textContent()).toBe("0");
  const mostExecuted = page.locator("table.most-executed tbody tr").first();
  expect(await mostExecuted.textContent()).toBe("Checkout with a saved card4");

  await page.locator("figure.chart svg.recharts-surface").nth(1).waitFor();
  expect(await page.locator("figure.chart").count()).toBe(2);
  expect(await page.getByText("Pass rate over time").count()).toBe(1);
  expect(await page.locator("figure.chart").first().textContent()).toContain("all 6 executions");
  // Durations 0.5, 3.2, 12.5, 20, 48 and 95 s: one bar in each of six buckets.
  const bars = page.locator("figure.chart").nth(1).locator(".recharts-bar-rectangle path");
  await expect.poll(() => bars.count()).toBe(6);
  await page.screenshot({ path: join(screenshots, "04-statistics.png"), fullPage: true });
  await expectAccessible("statistics");
});

it("switches to a shared project, shows its runs with the flaky test, and its members", async () => {
  const teammate = await createTestPrincipal(server.database, "member");
  const project = await sdk.project.create.mutate({ slug: "team-shop", name: "Team shop" });
  await sdk.project.addMember.mutate({
    projectId: project.id,
    email: teammate.email,
    role: "viewer",
  });
  const [login, cart] = await sdk.testCase.ensureMany.mutate({
    projectId: project.id,
    testCases: [
      { key: "team › login", title: "Team login" },
      { key: "team › cart", title: "Team cart" },
    ],
  });
  const run = await sdk.run.start.mutate({
    projectId: project.id,
    key: "team-build-1",
    name: "Team CI",
    branch: "main",
  });
  const attempt = async (testCaseId: number, result: "pass" | "fail", attemptNumber: number) => {
    const { executionId } = await sdk.execution.start.mutate({
      testCaseId,
      runId: run.id,
      attempt: attemptNumber,
      browser: "chromium",
    });
    await sdk.execution.update.mutate({ id: executionId, status: "running" });
    await sdk.execution.update.mutate({
      id: executionId,
      status: result === "pass" ? "completed" : "failed",
      result,
      errorMessage: result === "fail" ? "login button missing" : undefined,
    });
  };
  await attempt(login?.id ?? 0, "fail", 0);
  await attempt(login?.id ?? 0, "pass", 1);
  await attempt(cart?.id ?? 0, "pass", 0);
  await sdk.run.finish.mutate({ runId: run.id });

  page.setDefaultTimeout(15_000);
  // The project list is read once per page load: a reload shows the new project.
  await page.reload();
  await page.getByRole("link", { name: "Projects" }).click();
  await page.getByRole("heading", { name: "Projects", exact: true }).waitFor();
  await expect.poll(() => page.locator("table.projects").textContent()).toContain("Team shop");
  await expectAccessible("projects");

  await page.locator(".project-switcher select").selectOption({ label: "Team shop" });
  await page.getByRole("link", { name: "Executions", exact: true }).click();
  await expect.poll(() => count().textContent()).toBe("3 executions");
  expect(await rows().first().textContent()).toContain("Team");

  await page.getByRole("link", { name: "Runs", exact: true }).click();
  await page.getByRole("heading", { name: "Runs" }).waitFor();
  const runRow = page.locator("table.runs tbody tr", { hasText: "Team CI" });
  await runRow.waitFor();
  expect(await runRow.locator(".badge").textContent()).toBe("passed");
  await expectAccessible("runs");
  await runRow.getByRole("link", { name: "Team CI" }).click();
  await page.getByRole("heading", { name: /Team CI/ }).waitFor();
  // The failed try's message makes one failure group, new in this run.
  const group = page.locator("ul.failure-groups li");
  await expect.poll(() => group.count()).toBe(1);
  expect(await group.textContent()).toMatch(
    /^new login button missing — 1 failure in 1 test \(Team login\)$/,
  );
  await page.getByRole("tab", { name: "flaky (1)" }).click();
  await expect
    .poll(() => page.locator("table.run-tests tbody").textContent())
    .toContain("Team login");
  expect(await page.locator("table.run-tests tbody tr").first().textContent()).toContain("2");
  await page.screenshot({ path: join(screenshots, "05-run.png"), fullPage: true });
  await expectAccessible("run");

  // The flaky test's own page: its outcomes as a strip (fail, then pass) and its flaky run.
  await page.goto(`${server.url}/test-cases/${login?.id}?project=${project.id}`);
  await expect.poll(() => page.locator("ol.strip li").count()).toBe(2);
  expect(
    await page.locator("ol.strip .tick").evaluateAll((ticks) => ticks.map((t) => t.className)),
  ).toEqual(["tick tick-fail", "tick tick-pass"]);
  expect(await page.getByRole("list", { name: "Flaky evidence" }).textContent()).toBe(
    "Passed on a retry in run team-build-1 (main)",
  );

  await page.goto(`${server.url}/projects/${project.id}`);
  await expect.poll(() => page.locator("table.members tbody tr").count()).toBe(2);
  expect(await page.locator("table.members").textContent()).toContain(teammate.email);
  expect(await page.getByRole("form", { name: "Add a member" }).count()).toBe(1);
  await expectAccessible("project");

  // The viewer sees the same members but no form to change them.
  const viewerPage = await browser.newPage();
  try {
    await viewerPage.goto(`${server.url}/projects/${project.id}`);
    await viewerPage.getByLabel("Email").fill(teammate.email);
    await viewerPage.getByLabel("Password").fill(TEST_PASSWORD);
    await viewerPage.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => viewerPage.locator("table.members tbody tr").count()).toBe(2);
    expect(await viewerPage.getByRole("form", { name: "Add a member" }).count()).toBe(0);
    expect(await viewerPage.locator("table.members select").count()).toBe(0);
  } finally {
    await viewerPage.close();
  }
});

it("follows a new failure from its run to its test, quarantines it, and the next run passes", async () => {
  const project = await sdk.project.get.query({ slug: "team-shop" });
  const [, cart] = await sdk.testCase.ensureMany.mutate({
    projectId: project.id,
    testCases: [
      { key: "team › login", title: "Team login" },
      { key: "team › cart", title: "Team cart" },
    ],
  });
  const cartId = cart?.id ?? 0;
  const build = async (key: string, cartResult: "pass" | "fail") => {
    const run = await sdk.run.start.mutate({
      projectId: project.id,
      key,
      name: key,
      branch: "main",
    });
    const { executionId } = await sdk.execution.start.mutate({ testCaseId: cartId, runId: run.id });
    await sdk.execution.update.mutate({ id: executionId, status: "running" });
    await sdk.execution.update.mutate({
      id: executionId,
      status: cartResult === "pass" ? "completed" : "failed",
      result: cartResult,
      errorMessage: cartResult === "fail" ? "TimeoutError: cart total never appeared" : undefined,
    });
    return sdk.run.finish.mutate({ runId: run.id });
  };
  const broken = await build("team-build-2", "fail");
  expect(broken.status).toBe("failed");

  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/runs/${broken.id}?project=${project.id}`);
  const newFailures = page.locator('[data-bucket="newFailures"]');
  await expect.poll(() => newFailures.textContent()).toContain("New failures: 1");
  expect(await newFailures.textContent()).toContain("Team cart");
  // From the failed test in the run to its page.
  await page.getByRole("link", { name: "Health and history of Team cart" }).click();
  await page.getByRole("heading", { name: "Team cart", level: 1 }).waitFor();
  await page.getByLabel("Reason").fill("cart total times out on the CDN");
  await page.getByRole("button", { name: "Quarantine" }).click();
  const quarantine = page.getByRole("region", { name: "Quarantine" });
  await expect
    .poll(() => quarantine.locator(".badge-quarantined").textContent())
    .toBe("quarantined");
  expect(await quarantine.textContent()).toContain("cart total times out on the CDN");
  await page.screenshot({ path: join(screenshots, "07-test-quarantined.png"), fullPage: true });
  await expectAccessible("test case (quarantined)");

  // The same failure in the next build: recorded, counted as quarantined, the run passes.
  const next = await build("team-build-3", "fail");
  expect(next).toMatchObject({ status: "passed", failed: 0, quarantined: 1 });
  await page.goto(`${server.url}/runs/${next.id}?project=${project.id}`);
  await page.getByRole("heading", { name: /team-build-3/ }).waitFor();
  expect(await page.getByRole("heading", { name: /team-build-3/ }).textContent()).toContain(
    "passed",
  );
  await expect
    .poll(() => page.locator(".facts").textContent())
    .toContain("1 quarantined (not failing the run)");
  await expect
    .poll(() => page.locator('[data-bucket="quarantined"]').textContent())
    .toContain("Quarantined failures: 1");
  await expect
    .poll(() => page.locator("table.run-tests tbody").textContent())
    .toContain("quarantined");

  // The health page: the flaky login test of the first build, and the quarantine.
  await page.getByRole("link", { name: "Health", exact: true }).click();
  await page.getByRole("heading", { name: "Test health" }).waitFor();
  await expect
    .poll(() => page.locator("table.flaky-tests tbody").textContent())
    .toContain("Team login");
  await expectAccessible("health (flaky tests)");
  await page.getByRole("tab", { name: "Quarantine" }).click();
  await expect.poll(() => page.url()).toContain("tab=quarantine");
  await expect
    .poll(() => page.locator("table tbody").textContent())
    .toContain("cart total times out on the CDN");
  await page.screenshot({ path: join(screenshots, "08-health.png"), fullPage: true });
  await expectAccessible("health (quarantine)");
  await page.getByRole("tab", { name: "Failure groups" }).click();
  await expect
    .poll(() => page.locator("ul.failure-groups").textContent())
    .toContain("TimeoutError: cart total never appeared");
  await expectAccessible("health (failure groups)");
});

it("adds a webhook from the project page, shows its secret once, and lists a test delivery", async () => {
  const project = await sdk.project.get.query({ slug: "team-shop" });
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/projects/${project.id}`);
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  const form = page.getByRole("form", { name: "Add a webhook" });
  await form.getByLabel("URL").fill("https://hooks.example.com/team-shop");
  await form.getByLabel("a new failure group appears").check();
  await form.getByLabel("Format").selectOption("slack");
  await form.getByLabel("only runs that failed").check();
  await form.getByRole("button", { name: "Add webhook" }).click();
  await expect.poll(() => form.getByRole("status").textContent()).toMatch(/whsec_/);
  const item = page.locator("ul.webhooks li").first();
  await expect
    .poll(() => item.textContent())
    .toContain("run.finished, test.new_failure as slack, failed runs only");
  await item.getByRole("button", { name: "Send a test" }).click();
  await item.getByRole("button", { name: "Deliveries" }).click();
  await expect.poll(() => item.locator("table.deliveries tbody").textContent()).toContain("ping");
  expect(await item.locator("table.deliveries tbody").textContent()).toContain("pending");
  const [hook] = (await sdk.webhook.list.query({ projectId: project.id })).items;
  expect(hook).toMatchObject({ format: "slack", onlyFailedRuns: true, enabled: true });
  await page.screenshot({ path: join(screenshots, "09-webhooks.png"), fullPage: true });
  await expectAccessible("webhooks");
  await item.getByRole("button", { name: "Disable" }).click();
  await expect.poll(() => item.locator(".badge").first().textContent()).toBe("disabled");
});

it("keeps the chosen project in the address: a shared link opens it, and a viewer only reads it", async () => {
  const viewer = await createTestPrincipal(server.database, "member");
  const admin = await createTestPrincipal(server.database, "admin");
  const project = await sdk.project.create.mutate({ slug: "web-shop", name: "Web shop" });
  await sdk.project.addMember.mutate({
    projectId: project.id,
    email: viewer.email,
    role: "viewer",
  });
  const searchCase = await sdk.testCase.create.mutate({
    projectId: project.id,
    title: "Search the catalogue",
  });
  const shopIds: number[] = [];
  for (const [name, status] of [
    ["chromium", "completed"],
    ["firefox", "failed"],
  ] as const) {
    const { executionId } = await sdk.execution.start.mutate({
      testCaseId: searchCase.id,
      browser: name,
      environment: "staging",
    });
    await sdk.execution.update.mutate({ id: executionId, status: "running" });
    await sdk.execution.update.mutate({ id: executionId, status, durationSeconds: 2 });
    shopIds.push(executionId);
  }
  const personal = `${lead.name} (personal)`;
  const projectParam = () => new URL(page.url()).searchParams.get("project");
  const shownIds = () =>
    rows().evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.executionId)));

  // Without a choice: the personal project, and no "All projects" for a non-admin.
  await page.goto(`${server.url}/executions`);
  await expect.poll(() => count().textContent()).toBe("6 executions");
  const switcher = page.getByLabel("Project", { exact: true });
  await expect.poll(() => switcher.locator("option:checked").textContent()).toBe(personal);
  expect(await switcher.locator("option", { hasText: "All projects" }).count()).toBe(0);

  await switcher.selectOption({ label: "Web shop" });
  await expect.poll(() => count().textContent()).toBe("2 executions");
  expect(projectParam()).toBe(String(project.id));
  expect((await shownIds()).sort((a, b) => a - b)).toEqual(shopIds);

  // The choice follows the links: statistics and a test case's history read the same project.
  await page.getByRole("link", { name: "Statistics" }).click();
  const executionsStat = page.locator('[data-stat="Executions"] .card-value');
  await expect.poll(() => executionsStat.textContent()).toBe("2");
  expect(projectParam()).toBe(String(project.id));
  await page.getByRole("link", { name: "Search the catalogue" }).click();
  await page.getByRole("heading", { name: "Search the catalogue" }).waitFor();
  await expect.poll(() => rows().count()).toBe(2);
  expect(projectParam()).toBe(String(project.id));

  // Switching away from one object's page opens the executions of the other project.
  await switcher.selectOption({ label: personal });
  await expect.poll(() => count().textContent()).toBe("6 executions");
  expect(new URL(page.url()).pathname).toBe("/executions");
  expect((await shownIds()).some((id) => shopIds.includes(id))).toBe(false);

  await page.getByRole("link", { name: "Projects", exact: true }).click();
  const shopRow = page.locator("table.projects tbody tr", { hasText: "Web shop" });
  await shopRow.waitFor();
  expect(await shopRow.textContent()).toContain("maintainer");

  // The server's own words when it refuses: a taken slug, the last maintainer stepping down.
  await page.getByLabel("Slug").fill("web-shop");
  await page.getByLabel("Name", { exact: true }).fill("Another shop");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect
    .poll(() => page.getByRole("alert").textContent())
    .toBe('a project with slug "web-shop" already exists; choose another slug');

  await shopRow.getByRole("link", { name: "Web shop", exact: true }).click();
  await page.getByRole("heading", { name: "Web shop" }).waitFor();
  const memberRows = page.locator("table.members tbody tr");
  await expect.poll(() => memberRows.count()).toBe(2);
  expect(await memberRows.filter({ hasText: lead.email }).textContent()).toContain(lead.name);
  expect(await memberRows.filter({ hasText: viewer.email }).textContent()).toContain(viewer.name);
  await page.getByLabel(`Role of ${lead.email}`).selectOption("member");
  await expect
    .poll(() => page.getByRole("alert").textContent())
    .toBe("a project needs at least one maintainer: make someone else maintainer first");

  await page.getByLabel("Retention days").fill("30");
  await page.getByLabel("Keep artifacts of passed executions (days)").fill("7");
  await page.getByLabel("Keep artifacts of failed executions (days)").fill("90");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  const saved = await sdk.project.get.query({ id: project.id });
  expect(saved.retentionDays).toBe(30);
  expect(saved.artifactRetentionDays).toEqual({ passed: 7, failed: 90 });
  await page.screenshot({ path: join(screenshots, "06-project.png"), fullPage: true });

  const signIn = async (target: Page, who: TestPrincipal, url: string) => {
    await target.goto(url);
    await target.getByLabel("Email").fill(who.email);
    await target.getByLabel("Password").fill(TEST_PASSWORD);
    await target.getByRole("button", { name: "Sign in" }).click();
  };

  // A viewer opening the shared link sees the project's executions, its members, no controls.
  const viewerPage = await browser.newPage();
  try {
    await signIn(viewerPage, viewer, `${server.url}/executions?project=${project.id}`);
    const viewerCount = viewerPage.getByTestId("execution-count");
    await expect.poll(() => viewerCount.textContent()).toBe("2 executions");
    const viewerSwitcher = viewerPage.getByLabel("Project", { exact: true });
    await expect
      .poll(() => viewerSwitcher.locator("option:checked").textContent())
      .toBe("Web shop");

    await viewerPage.goto(`${server.url}/projects/${project.id}`);
    const viewerMembers = viewerPage.locator("table.members tbody tr");
    await expect.poll(() => viewerMembers.count()).toBe(2);
    expect(await viewerPage.locator("table.members tbody").textContent()).toContain(lead.email);
    expect(await viewerPage.getByRole("form", { name: "Add a member" }).count()).toBe(0);
    expect(await viewerPage.locator("table.members select").count()).toBe(0);
    expect(await viewerPage.getByRole("button", { name: /^Remove/ }).count()).toBe(0);
    expect(await viewerPage.getByRole("button", { name: "Save settings" }).count()).toBe(0);

    // Anyone may leave: the project is then gone from their list.
    await viewerPage.getByRole("button", { name: "Leave this project" }).click();
    await viewerPage.getByRole("heading", { name: "Projects", exact: true }).waitFor();
    await viewerPage.locator("table.projects").waitFor();
    expect(await viewerPage.locator("table.projects").textContent()).not.toContain("Web shop");
    expect((await sdk.project.members.query({ projectId: project.id })).total).toBe(1);
  } finally {
    await viewerPage.close();
  }

  // An admin starts on every project, and may narrow to one.
  const adminPage = await browser.newPage();
  try {
    const adminSdk = createTestTrackClient({ url: server.url, token: admin.token });
    const everything = (await adminSdk.execution.list.query({ limit: 1 })).total;
    await signIn(adminPage, admin, `${server.url}/executions`);
    const adminCount = adminPage.getByTestId("execution-count");
    await expect.poll(() => adminCount.textContent()).toBe(`${everything} executions`);
    expect(everything).toBeGreaterThan(6 + 2);
    const adminSwitcher = adminPage.getByLabel("Project", { exact: true });
    expect(await adminSwitcher.locator("option:checked").textContent()).toBe("All projects");
    await adminSwitcher.selectOption({ label: "Web shop" });
    await expect.poll(() => adminCount.textContent()).toBe("2 executions");
  } finally {
    await adminPage.close();
  }
});

it("virtualises a run's tests, loads more by cursor as it scrolls, and searches titles on the server", async () => {
  const project = await sdk.project.create.mutate({ slug: "big-suite", name: "Big suite" });
  const titles = [
    ...Array.from({ length: 248 }, (_, i) => `Catalogue item ${String(i + 1).padStart(3, "0")}`),
    "Cart shows 100% discount",
    "cart_total rounds down",
  ];
  const cases = await sdk.testCase.ensureMany.mutate({
    projectId: project.id,
    testCases: titles.map((title) => ({ key: `big › ${title}`, title })),
  });
  const run = await sdk.run.start.mutate({ projectId: project.id, key: "big-1", branch: "main" });
  for (let i = 0; i < cases.length; i += 25) {
    await Promise.all(
      cases.slice(i, i + 25).map(async (testCase) => {
        const { executionId } = await sdk.execution.start.mutate({
          testCaseId: testCase.id,
          runId: run.id,
        });
        await sdk.execution.update.mutate({ id: executionId, status: "running" });
        await sdk.execution.update.mutate({ id: executionId, status: "completed", result: "pass" });
      }),
    );
  }
  await sdk.run.finish.mutate({ runId: run.id });

  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/runs/${run.id}?project=${project.id}&outcome=all`);
  const status = page.getByTestId("run-tests-status");
  await expect.poll(() => status.textContent()).toBe("100 of 250 loaded, more load as you scroll.");
  const testRows = page.locator("table.run-tests tbody tr[data-test-case-id]");
  // Only the rows in view (and a few around them) are in the page.
  expect(await testRows.count()).toBeLessThan(40);
  expect(await page.getByRole("tab", { name: "all (250)" }).getAttribute("aria-selected")).toBe(
    "true",
  );
  await expectAccessible("run (virtualised tests)");

  // Scrolling to the end of what is loaded fetches the next pages by cursor.
  const box = page.locator(".run-tests-scroll");
  await expect
    .poll(async () => {
      await box.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
      return status.textContent();
    })
    .toBe("250 of 250 loaded.");
  // The last page grew the table under the scroll position: scroll to its new end.
  await expect
    .poll(async () => {
      await box.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
      return testRows.last().textContent();
    })
    .toContain("cart_total rounds down");
  expect(await testRows.count()).toBeLessThan(40);

  // The search runs on the server, and the address keeps it: % and _ are plain characters.
  const search = page.getByLabel("Search test titles");
  await search.fill("CART");
  await expect.poll(() => new URL(page.url()).searchParams.get("search")).toBe("CART");
  await expect.poll(() => testRows.count()).toBe(2);
  await search.fill("100%");
  await expect.poll(() => testRows.count()).toBe(1);
  expect(await testRows.first().textContent()).toContain("Cart shows 100% discount");
  await search.fill("t_t");
  await expect
    .poll(() => testRows.allTextContents())
    .toEqual([expect.stringContaining("cart_total rounds down")]);
  await search.fill("no such test");
  await expect.poll(() => status.textContent()).toBe("No tests match “no such test”.");

  // A shared link opens the same filter and search; the rows' links are reached by keyboard.
  await page.goto(
    `${server.url}/runs/${run.id}?project=${project.id}&outcome=passed&search=item%2000`,
  );
  await expect.poll(() => testRows.count()).toBe(9);
  expect(await search.inputValue()).toBe("item 00");
  expect(await page.getByRole("tab", { name: /^passed/ }).getAttribute("aria-selected")).toBe(
    "true",
  );
  await search.focus();
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Catalogue item 001");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: /Catalogue item 001/ }).waitFor();
});

it("follows the system's dark mode with no contrast violation on the executions and run pages", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  try {
    const project = await sdk.project.get.query({ slug: "team-shop" });
    const runs = await sdk.run.list.query({ projectId: project.id });
    const failedRun = runs.items.find((run) => run.key === "team-build-2");
    await page.goto(`${server.url}/runs/${failedRun?.id}?project=${project.id}`);
    await page.locator("table.run-tests tbody tr").first().waitFor();
    const background = await page.evaluate(
      () => getComputedStyle(document.documentElement).backgroundColor,
    );
    expect(background).not.toBe("rgb(243, 244, 246)");
    await expectAccessible("run (dark)");
    await page.screenshot({ path: join(screenshots, "09-run-dark.png"), fullPage: true });

    await page.goto(`${server.url}/executions`);
    await expect.poll(() => count().textContent()).toBe("6 executions");
    await expectAccessible("executions (dark)");
    await page.screenshot({ path: join(screenshots, "10-executions-dark.png"), fullPage: true });
  } finally {
    await page.emulateMedia({ colorScheme: "light" });
  }
});

it("deletes a run from its page only after a confirmation, and its executions with it", async () => {
  const testCase = await sdk.testCase.create.mutate({ title: "Pay by invoice" });
  const run = await sdk.run.start.mutate({ key: "doomed-nightly", name: "Doomed nightly" });
  const { executionId } = await sdk.execution.start.mutate({
    testCaseId: testCase.id,
    runId: run.id,
  });
  const own = await browser.newPage();
  try {
    await own.goto(`${server.url}/runs/${run.id}`);
    await own.getByLabel("Email").fill(lead.email);
    await own.getByLabel("Password").fill(TEST_PASSWORD);
    await own.getByRole("button", { name: "Sign in" }).click();
    await own.getByRole("heading", { name: /Doomed nightly/ }).waitFor();

    await own.getByRole("button", { name: "Delete run" }).click();
    const question = own.getByRole("alertdialog");
    expect(await question.textContent()).toContain(`Delete run #${run.id} with the executions`);
    await expectAccessible("run deletion", own);
    await question.getByRole("button", { name: "Cancel" }).click();
    await own.getByRole("button", { name: "Delete run" }).waitFor();
    expect(await sdk.run.get.query({ id: run.id })).toMatchObject({ id: run.id });

    await own.getByRole("button", { name: "Delete run" }).click();
    await own.getByRole("button", { name: "Yes, delete the run" }).click();
    await expect.poll(() => new URL(own.url()).pathname).toBe("/runs");
    await expect(sdk.run.get.query({ id: run.id })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });
    await expect(sdk.execution.get.query({ id: executionId })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });
  } finally {
    await own.close();
  }
});
