import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { executionHistory, listExecutions, updateExecution } from "../src/executions";
import { cleanText } from "../src/limits";
import { executionStatistics } from "../src/stats";
import { listSteps, recordSteps } from "../src/steps";
import { createTestCase, getTestCase } from "../src/testCases";
import { createApiToken } from "../src/tokens";
import {
  createExecutionScenario,
  createTestUser,
  openTestDatabase,
  rejectionOf,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

const HALF_EMOJI = "\uD83D"; // the high half of 😀, as a runner that cuts strings leaves it
const REPLACED = "\uFFFD";

describe("text inputs", () => {
  it("replaces lone surrogates and NUL with U+FFFD and keeps whole emoji", () => {
    expect(cleanText(`a${HALF_EMOJI}b`)).toBe(`a${REPLACED}b`);
    expect(cleanText("\uDE00x")).toBe(`${REPLACED}x`);
    expect(cleanText("x\uD83D")).toBe(`x${REPLACED}`);
    expect(cleanText("nul\u0000here")).toBe(`nul${REPLACED}here`);
    expect(cleanText("ok 😀 ✓")).toBe("ok 😀 ✓");
  });

  it("stores a lone surrogate in test-case steps (JSON) as U+FFFD instead of failing", async () => {
    const user = await createTestUser(h);
    const created = await createTestCase(h.db, user.actor, {
      title: `Emoji ${HALF_EMOJI}`,
      steps: [{ description: `Tap ${HALF_EMOJI}`, expectedResult: `nul\u0000` }],
      tags: [`t${HALF_EMOJI}`],
    });
    const stored = await getTestCase(h.db, user.actor, { id: created.id });
    expect(stored.title).toBe(`Emoji ${REPLACED}`);
    expect(stored.steps).toEqual([
      { description: `Tap ${REPLACED}`, expectedResult: `nul${REPLACED}` },
    ]);
    expect(stored.tags).toEqual([`t${REPLACED}`]);
  });

  it("records a batch of steps whose messages hold lone surrogates and NUL, all of it", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, {
      executionId,
      steps: [
        { stepNumber: 1, stepDescription: `cut ${HALF_EMOJI}`, result: "pass" },
        {
          stepNumber: 2,
          stepDescription: "nul",
          result: "fail",
          errorMessage: `expected \u0000 got \uDE00`,
          actualResult: HALF_EMOJI,
        },
      ],
    });
    const steps = await listSteps(h.db, actor, { executionId });
    expect(steps.map((s) => s.stepDescription)).toEqual([`cut ${REPLACED}`, "nul"]);
    expect(steps[1]?.errorMessage).toBe(`expected ${REPLACED} got ${REPLACED}`);
    expect(steps[1]?.actualResult).toBe(REPLACED);
  });

  it("cleans plain-text execution fields by the same rule", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const updated = await updateExecution(h.db, actor, {
      id: executionId,
      consoleLog: `log ${HALF_EMOJI}\u0000`,
    });
    expect(updated.consoleLog).toBe(`log ${REPLACED}${REPLACED}`);
  });
});

describe("date inputs", () => {
  const outside = [
    "0000-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59-12:00",
  ];

  it.each(outside)("refuses %s (outside 1970 to 9999 in UTC) in every date field", async (date) => {
    const { actor, executionId } = await createExecutionScenario(h);
    const attempts: (() => Promise<unknown>)[] = [
      () => updateExecution(h.db, actor, { id: executionId, startedAt: date }),
      () =>
        recordSteps(h.db, actor, {
          executionId,
          steps: [{ stepNumber: 1, stepDescription: "s", result: "pass", startedAt: date }],
        }),
      () => executionStatistics(h.db, actor, { since: date }),
      () => createApiToken(h.db, actor, { name: "ci", expiresAt: date }),
    ];
    for (const attempt of attempts) {
      const error = await rejectionOf(Promise.resolve().then(attempt));
      expect(error).toBeInstanceOf(ZodError);
      expect(String((error as ZodError).issues[0]?.message)).toMatch(/between 1970-01-01/);
    }
    expect(await listSteps(h.db, actor, { executionId })).toEqual([]);
  });

  it("accepts both ends of the range", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, {
      executionId,
      steps: [
        { stepNumber: 1, stepDescription: "a", result: "pass", startedAt: "1970-01-01T00:00:00Z" },
        { stepNumber: 2, stepDescription: "b", result: "pass", startedAt: "9999-12-31T23:59:59Z" },
      ],
    });
    const steps = await listSteps(h.db, actor, { executionId });
    expect(steps.map((s) => s.startedAt?.toISOString())).toEqual([
      "1970-01-01T00:00:00.000Z",
      "9999-12-31T23:59:59.000Z",
    ]);
  });

  it("answers statistics since the last second of year 9999 with zeros", async () => {
    const { actor } = await createExecutionScenario(h);
    const stats = await executionStatistics(h.db, actor, { since: "9999-12-31T23:59:59Z" });
    expect(stats.totalExecutions).toBe(0);
    expect(stats.executionsLast24h).toBe(0);
  });
});

describe("paging cursors", () => {
  const forged = (text: string) => Buffer.from(text).toString("base64url");
  const cursors = [
    forged("2147483648:1767225600000"),
    forged("1:-62198755200001"),
    forged("1:253402300800000"),
    forged("1:8640000000000000"),
    forged("1.5:0"),
    forged("1:2:3"),
    "not base64 at all!",
  ];

  it.each(cursors)(
    "refuses the hand-made cursor %s as not one execution.list returned",
    async (cursor) => {
      const { actor, testCase } = await createExecutionScenario(h);
      for (const attempt of [
        () => listExecutions(h.db, actor, { cursor }),
        () => executionHistory(h.db, actor, { testCaseId: testCase.id, cursor }),
      ]) {
        const error = await rejectionOf(Promise.resolve().then(attempt));
        expect(error).toBeInstanceOf(ZodError);
        expect((error as ZodError).issues[0]?.message).toBe(
          "is not a cursor returned by execution.list",
        );
      }
    },
  );
});
