import { createApiToken, type DatabaseHandle, openDatabase } from "@testtrack/core";
import { createTestUser } from "@testtrack/core/testing";
import { createHttpHost, type HttpHost } from "@testtrack/server/http";
import { silentLog } from "@testtrack/server/testing";
import { afterAll, expect, it } from "vitest";
import { createTestTrackClient, recordExecution } from "../../src/index";
import { type PrivatePostgres, startPrivatePostgres } from "./privatePostgres";

let cluster: PrivatePostgres | undefined;
let database: DatabaseHandle | undefined;
let host: HttpHost | undefined;

afterAll(async () => {
  await host?.close();
  await database?.close();
  await cluster?.destroy();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("recovers from a PostgreSQL restart during a recorder upload and stores every step exactly once (restarts a private cluster)", async () => {
  cluster = await startPrivatePostgres();
  database = openDatabase({ url: cluster.url, maxConnections: 5 });
  await database.migrate();
  host = createHttpHost(
    {
      port: 0,
      host: "127.0.0.1",
      corsOrigins: [],
      maxBodyBytes: 5_000_000,
      maxBatchSize: 50,
      development: false,
    },
    database,
    silentLog,
  );
  const url = await host.listen();
  const user = await createTestUser(database);
  const { token } = await createApiToken(database.db, user.actor, { name: "runner" });

  const failures: { at: number; status: number; code: string; message: string }[] = [];
  const successes: number[] = [];
  const observingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (response.ok) successes.push(Date.now());
    else {
      const body = (await response.clone().json()) as
        | { error?: { message: string; data: { code: string } } }
        | { error?: { message: string; data: { code: string } } }[];
      const error = (Array.isArray(body) ? body.find((b) => b.error) : body)?.error;
      failures.push({
        at: Date.now(),
        status: response.status,
        code: error?.data.code ?? "?",
        message: error?.message ?? "",
      });
    }
    return response;
  };
  const client = createTestTrackClient({ url, token, fetch: observingFetch });
  const reader = createTestTrackClient({ url, token });
  const testCase = await reader.testCase.create.mutate({ title: "Upload across a restart" });
  const run = await recordExecution(client, {
    testCaseId: testCase.id,
    batchSize: 10,
    retry: { retries: 40, minDelayMs: 100, maxDelayMs: 1_000 },
  });

  let readyAt = 0;
  let healthDuringOutage = 0;
  const STEPS = 300;
  let restart: Promise<void> | undefined;
  for (let n = 1; n <= STEPS; n++) {
    run.step({ stepDescription: `step ${n}`, result: n % 50 === 0 ? "fail" : "pass" });
    if (n % 10 === 0) {
      run.flush().catch(() => {});
      await sleep(15);
    }
    if (n === 100) {
      restart = (async () => {
        await cluster?.stop();
        healthDuringOutage = (await fetch(`${url}/healthz`)).status;
        await sleep(1_500);
        await cluster?.start();
        readyAt = Date.now();
      })();
    }
  }
  await restart;
  await run.finish();

  const execution = await reader.execution.get.query({ id: run.executionId });
  const numbers = execution.steps.map((s) => s.stepNumber);
  const firstSuccessAfter = successes.find((t) => t >= readyAt) ?? Number.NaN;
  console.log(
    `postgres restart: ${failures.length} requests failed during the outage ` +
      `(${[...new Set(failures.map((f) => `${f.status} ${f.code}`))].join(", ")}), ` +
      `first success ${firstSuccessAfter - readyAt} ms after PostgreSQL was back, ` +
      `${numbers.length} of ${STEPS} steps stored, ${numbers.length - new Set(numbers).size} duplicates`,
  );
  expect(healthDuringOutage).toBe(503);
  expect(failures.length).toBeGreaterThan(0);
  for (const failure of failures) {
    expect(failure).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE" });
    expect(failure.message).toMatch(/database .*(unavailable|restarting|starting)/);
  }
  expect(numbers).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  expect(execution).toMatchObject({ totalSteps: STEPS, failedSteps: 6, status: "completed" });
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
}, 120_000);
