import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  type ArtifactStore,
  artifactDeletions,
  artifacts,
  createLocalDiskStore,
  queryRows,
  testExecutions,
  testHealthDays,
} from "@testtrack/core";
import { insertExecution } from "@testtrack/core/testing";
import { inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startArtifactDeletionWorker } from "../../src/artifactDeletionWorker";
import {
  createOwnedObjects,
  createTestPrincipal,
  silentLog,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "../fixtures";

let server: TestServer;
let member: TestPrincipal;
let store: ArtifactStore;
let storeDir: string;

beforeAll(async () => {
  server = await startTestServer();
  store = server.artifacts.store;
  storeDir = store.description.replace(/^local disk \((.*)\)$/, "$1");
  member = await createTestPrincipal(server.database);
});
afterAll(() => server.close());

const db = () => server.database.db;

async function uploadTo(executionId: number, name = "shot.png") {
  const response = await fetch(
    `${server.url}/api/v1/executions/${executionId}/artifacts?name=${name}`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${member.token}`, "content-type": "image/png" },
      body: `bytes of ${name}`,
    },
  );
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: number };
  const [row] = await db().select().from(artifacts).where(sql`${artifacts.id} = ${id}`);
  if (!row) throw new Error("no row");
  return row;
}

function worker(storeOverride: ArtifactStore = store) {
  return startArtifactDeletionWorker(db(), storeOverride, silentLog, {
    pollMs: 60_000,
    claimMs: 60_000,
    retryDelaysMs: [5_000, 60_000],
  });
}

async function drained(storeOverride?: ArtifactStore) {
  const running = worker(storeOverride);
  const removed = await running.drain();
  await running.stop();
  return removed;
}

const outbox = () => db().select().from(artifactDeletions);
/** Everything due later becomes due now, as if the time had passed. */
const makeDue = () =>
  db().update(artifactDeletions).set({ dueAt: sql`now() - interval '1 second'` });

describe("deleting rows removes the bytes after commit", () => {
  it("artifact.delete queues the bytes, and the worker removes them", async () => {
    const { executionId } = await createOwnedObjects(member);
    const row = await uploadTo(executionId);
    expect(await store.exists(row.storageKey)).toBe(true);
    await member.caller.artifact.delete({ id: row.id });
    expect((await outbox()).map((entry) => entry.storageKey)).toEqual([row.storageKey]);
    expect(await store.exists(row.storageKey)).toBe(true);
    expect(await drained()).toBe(1);
    expect(await store.exists(row.storageKey)).toBe(false);
    expect(await outbox()).toEqual([]);
    await expect(member.caller.artifact.delete({ id: row.id })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it.each([
    [
      "an execution",
      (ids: { executionId: number }) => member.caller.execution.delete({ id: ids.executionId }),
    ],
    [
      "a test case",
      (ids: { testCaseId: number }) => member.caller.testCase.delete({ id: ids.testCaseId }),
    ],
    [
      "a project",
      async (ids: { executionId: number }) => {
        const { projectId } = await member.caller.execution.get({ id: ids.executionId });
        return member.caller.project.delete({ id: projectId });
      },
    ],
  ])("deleting %s removes every artifact's bytes", async (what, remove) => {
    const ids =
      what === "a project"
        ? await (async () => {
            const project = await member.caller.project.create({
              slug: `doomed-${Date.now()}`,
              name: "Doomed",
            });
            const testCase = await member.caller.testCase.create({
              projectId: project.id,
              title: "Doomed case",
            });
            const { executionId } = await member.caller.execution.start({
              testCaseId: testCase.id,
            });
            return { executionId, testCaseId: testCase.id };
          })()
        : await createOwnedObjects(member);
    const rows = [
      await uploadTo(ids.executionId, "a.png"),
      await uploadTo(ids.executionId, "b.png"),
    ];
    await remove(ids as never);
    expect(
      await db().select().from(artifacts).where(sql`${artifacts.executionId} = ${ids.executionId}`),
    ).toEqual([]);
    expect((await outbox()).map((entry) => entry.storageKey).sort()).toEqual(
      rows.map((row) => row.storageKey).sort(),
    );
    expect(await drained()).toBe(2);
    for (const row of rows) expect(await store.exists(row.storageKey)).toBe(false);
    expect(await outbox()).toEqual([]);
  });

  it("retries a failed deletion later, with the error recorded", async () => {
    const { executionId } = await createOwnedObjects(member);
    const row = await uploadTo(executionId);
    await member.caller.artifact.delete({ id: row.id });
    let failures = 1;
    const flaky: ArtifactStore = {
      ...store,
      delete: async (key) => {
        if (failures-- > 0) throw new Error("the store is down");
        await store.delete(key);
      },
    };
    expect(await drained(flaky)).toBe(0);
    const [entry] = await outbox();
    expect(entry).toMatchObject({ attempts: 1, lastError: "the store is down" });
    expect(entry && entry.dueAt.getTime() > Date.now() + 3_000).toBe(true);
    expect(await drained(flaky)).toBe(0); // not due yet
    await makeDue();
    expect(await drained(flaky)).toBe(1);
    expect(await store.exists(row.storageKey)).toBe(false);
    expect(await outbox()).toEqual([]);
  });
});

describe("run.delete", () => {
  it("deletes the run's executions and artifacts, and the worker removes their bytes", async () => {
    const { caller } = member;
    const testCase = await caller.testCase.create({ title: "Pays with a card" });
    const run = await caller.run.start({ key: `doomed-build-${Date.now()}` });
    const tries: number[] = [];
    for (const attempt of [0, 1]) {
      const { executionId } = await caller.execution.start({
        testCaseId: testCase.id,
        runId: run.id,
        attempt,
      });
      await caller.execution.update({ id: executionId, status: "running" });
      await caller.execution.update({
        id: executionId,
        status: "completed",
        result: attempt === 0 ? "fail" : "pass",
      });
      tries.push(executionId);
    }
    const doomed = [
      await uploadTo(tries[0] ?? 0, "failure.png"),
      await uploadTo(tries[1] ?? 0, "trace.zip"),
    ];
    const { executionId: kept } = await caller.execution.start({ testCaseId: testCase.id });
    const keptArtifact = await uploadTo(kept, "kept.png");
    await caller.run.finish({ runId: run.id });
    const healthDays = () =>
      db().select().from(testHealthDays).where(sql`${testHealthDays.testCaseId} = ${testCase.id}`);
    expect(await healthDays()).toHaveLength(1);

    const response = await fetch(`${server.url}/api/v1/runs/${run.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${member.token}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: run.id, executions: 2, artifacts: 2 });

    await expect(caller.run.get({ id: run.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const left = await db()
      .select({ id: testExecutions.id })
      .from(testExecutions)
      .where(sql`${testExecutions.testCaseId} = ${testCase.id}`);
    expect(left).toEqual([{ id: kept }]);
    expect(
      await db().select().from(artifacts).where(inArray(artifacts.executionId, tries)),
    ).toEqual([]);
    // The finished run's outcome no longer counts in the health roll-ups.
    expect(await healthDays()).toEqual([]);
    expect((await outbox()).map((entry) => entry.storageKey).sort()).toEqual(
      doomed.map((row) => row.storageKey).sort(),
    );
    for (const row of doomed) expect(await store.exists(row.storageKey)).toBe(true);
    expect(await drained()).toBe(2);
    for (const row of doomed) expect(await store.exists(row.storageKey)).toBe(false);
    expect(await outbox()).toEqual([]);
    expect(await store.exists(keptArtifact.storageKey)).toBe(true);
    expect(await caller.execution.get({ id: kept })).toMatchObject({
      artifacts: [expect.objectContaining({ id: keptArtifact.id })],
    });

    await expect(caller.run.delete({ id: run.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("also deletes an execution that joins the run while it is being deleted", async () => {
    const testCase = await member.caller.testCase.create({ title: "Joins late" });
    const run = await member.caller.run.start({ key: `raced-build-${Date.now()}` });
    await member.caller.execution.start({ testCaseId: testCase.id, runId: run.id });
    let commit = () => {};
    const committing = new Promise<void>((resolve) => {
      commit = resolve;
    });
    let joined = (_id: number) => {};
    const lateId = new Promise<number>((resolve) => {
      joined = resolve;
    });
    // A joining execution's transaction holds KEY SHARE on the run (its foreign key) until it
    // commits; run.delete has deleted the executions it could see and waits for the run's lock.
    const joining = db().transaction(async (tx) => {
      const late = await insertExecution(
        { db: tx },
        { testCaseId: testCase.id, userId: member.id, runId: run.id },
      );
      joined(late.id);
      await committing;
    });
    const late = await lateId;
    const deleting = member.caller.run.delete({ id: run.id });
    await expect
      .poll(async () => {
        const [row] = await queryRows<{ n: number }>(
          db(),
          sql`select count(*)::int as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'`,
        );
        return row?.n;
      })
      .toBe(1);
    commit();
    await joining;
    expect(await deleting).toEqual({ id: run.id, executions: 2, artifacts: 0 });
    expect(
      await db().select().from(testExecutions).where(sql`${testExecutions.id} = ${late}`),
    ).toEqual([]);
  });

  it("hides another user's run as NOT_FOUND and deletes nothing", async () => {
    const stranger = await createTestPrincipal(server.database);
    const run = await member.caller.run.start({ key: `kept-build-${Date.now()}` });
    const testCase = await member.caller.testCase.create({ title: "Stays" });
    const { executionId } = await member.caller.execution.start({
      testCaseId: testCase.id,
      runId: run.id,
    });
    const row = await uploadTo(executionId);
    await expect(stranger.caller.run.delete({ id: run.id })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `Run ${run.id} was not found`,
    });
    expect(await member.caller.run.get({ id: run.id })).toMatchObject({ id: run.id });
    expect(await member.caller.execution.get({ id: executionId })).toMatchObject({
      runId: run.id,
    });
    expect(await outbox()).toEqual([]);
    expect(await store.exists(row.storageKey)).toBe(true);
  });
});

/** Runs crashChild.ts in MODE until it says it reached its moment, then kills it with SIGKILL. */
async function killAt(mode: string, executionId: number): Promise<Record<string, unknown>> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("./crashChild.ts", import.meta.url))],
    {
      env: {
        ...process.env,
        DATABASE_URL: server.database.url,
        STORE_DIR: storeDir,
        MODE: mode,
        ACTOR: JSON.stringify(member.actor),
        EXECUTION_ID: String(executionId),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let errors = "";
  child.stderr.on("data", (chunk) => {
    errors += chunk;
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const detail = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.startsWith("ready ")) resolve(JSON.parse(line.slice(6)));
    });
    child.once("exit", () => reject(new Error(`the child exited early: ${errors}`)));
  });
  child.kill("SIGKILL");
  await exited;
  return detail;
}

describe("a process killed between the database and the store", () => {
  it("after the bytes were stored but before the row: the abandoned upload's bytes are removed", async () => {
    const { executionId } = await createOwnedObjects(member);
    const { storageKey } = (await killAt("upload-stored", executionId)) as { storageKey: string };
    expect(await store.exists(storageKey)).toBe(true);
    expect(
      await db().select().from(artifacts).where(sql`${artifacts.storageKey} = ${storageKey}`),
    ).toEqual([]);
    // The guard waits out the upload grace period first: nothing is removed early.
    expect(await drained()).toBe(0);
    expect(await store.exists(storageKey)).toBe(true);
    await makeDue();
    expect(await drained()).toBe(1);
    expect(await store.exists(storageKey)).toBe(false);
    expect(await outbox()).toEqual([]);
  }, 30_000);

  it("after the deletion committed but before the bytes went: the next worker removes them", async () => {
    const { executionId } = await createOwnedObjects(member);
    const row = await uploadTo(executionId);
    await killAt("deleted-not-removed", executionId);
    expect(await db().select().from(artifacts).where(sql`${artifacts.id} = ${row.id}`)).toEqual([]);
    expect(await store.exists(row.storageKey)).toBe(true);
    expect(await drained()).toBe(1);
    expect(await store.exists(row.storageKey)).toBe(false);
    expect(await outbox()).toEqual([]);
  }, 30_000);

  it("after the bytes went but before the outbox row: the claim lapses and a retry finishes", async () => {
    const { executionId } = await createOwnedObjects(member);
    const row = await uploadTo(executionId);
    await member.caller.artifact.delete({ id: row.id });
    expect(await killAt("removed-not-finished", executionId)).toEqual({ claimed: 1 });
    expect(await store.exists(row.storageKey)).toBe(false);
    expect(await outbox()).toHaveLength(1);
    expect(await drained()).toBe(0); // still claimed by the dead worker
    await makeDue();
    expect(await drained()).toBe(1);
    expect(await outbox()).toEqual([]);
  }, 30_000);
});

it("keeps the local store's objects under its root, whatever the key says", async () => {
  const local = createLocalDiskStore(storeDir);
  for (const key of ["../../etc/passwd", "1/../../x", "/abs", "1/not-a-uuid"]) {
    await expect(local.exists(key)).rejects.toThrow(/not an artifact storage key/);
  }
});
