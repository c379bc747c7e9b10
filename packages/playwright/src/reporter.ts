import type {
  FullConfig,
  FullProject,
  FullResult,
  Reporter,
  Suite,
  TestCase,
  TestError,
  TestResult,
  TestStep,
} from "@playwright/test/reporter";
import {
  createTestTrackClient,
  type ExecutionRun,
  type RecordedStep,
  type RetryOptions,
  type RouterInputs,
  type RouterOutputs,
  type TestTrackClient,
  type TriggeredBy,
} from "@testtrack/client";
import { type ArtifactKind, createArtifactUploader, kindOf } from "@testtrack/client/artifacts";
import {
  closeExecution,
  closeExecutionsSync,
  closeOnExit,
  fitEnd,
  fitStart,
  fitTimings,
  LIMITS,
  labelOf,
  type PendingClose,
  plainText,
  projectIdFrom,
  RunJoin,
  recordExecutionInRun,
  recordedSummary,
  type ServerAddress,
  serverAddressFrom,
  settledWithin,
  TestCaseCatalog,
  tagsOf,
  testCaseKey,
  testCaseTitle,
} from "@testtrack/client/reporting";

export interface TestTrackReporterOptions {
  /** The TestTrack server, e.g. `https://testtrack.example.com`. Default: `TESTTRACK_URL`. */
  url?: string;
  /** An API token (`auth.createApiToken`). Default: `TESTTRACK_TOKEN`. */
  token?: string;
  /**
   * The project to record into (its id). Default: `TESTTRACK_PROJECT`, else the token's project
   * (a project token), else the user's personal project.
   */
  projectId?: number;
  /** Environment label for every execution. Default: `TESTTRACK_ENVIRONMENT`. */
  environment?: string;
  /** Default: `ci_cd` when the `CI` variable is set, otherwise `manual`. */
  triggeredBy?: TriggeredBy;
  /** Added to every execution's trigger details (a CI job URL, a commit). */
  triggerDetails?: string;
  /** Back-off for transient upload failures (see `@testtrack/client`). */
  retry?: RetryOptions;
  /** Longest wait at the end of the run for uploads to finish. Default 60 s. */
  flushTimeoutMs?: number;
  /** Upload each attempt's attachments (screenshots, videos, traces) as artifacts. Default true. */
  uploadAttachments?: boolean;
}

type ExecutionUpdate = Omit<RouterInputs["execution"]["update"], "id">;
type Execution = RouterOutputs["execution"]["update"];

/** One attempt of one test: a TestTrack execution. */
interface Attempt {
  test: TestCase;
  result: TestResult;
  run?: Promise<ExecutionRun | undefined>;
  /** What `execution.start` was sent, with its idempotency key. */
  start?: RouterInputs["execution"]["start"];
  executionId?: number;
  /** How the execution is to be closed, once that is known. */
  outcome?: ExecutionUpdate;
  /** The server has stored the outcome. */
  done?: boolean;
  /** Top-level `test.step`s that began and have not ended yet, with their step numbers. */
  openSteps: Map<TestStep, number>;
  nextStepNumber: number;
  closed?: Promise<void>;
}

/**
 * Records every Playwright test attempt as a TestTrack execution and every top-level
 * `test.step` as one of its steps. Upload failures are reported on stderr and never fail the run.
 *
 * ```ts
 * reporter: [["list"], ["@testtrack/playwright", { url, token }]]
 * ```
 */
export class TestTrackReporter implements Reporter {
  private readonly server: ServerAddress | undefined;
  private readonly client: TestTrackClient | undefined;
  private readonly uploadArtifact: ReturnType<typeof createArtifactUploader> | undefined;
  private readonly catalog: TestCaseCatalog | undefined;
  /** The run (CI build) this process records into: joined in onBegin, where the shard is known. */
  private runJoin: RunJoin | undefined;
  private readonly options: TestTrackReporterOptions;
  private readonly retry: RetryOptions;
  private readonly attempts = new Map<TestResult, Attempt>();
  private readonly recorded: Execution[] = [];
  private uploadErrors = 0;
  /** Errors outside any test (global setup, a worker crash): a run with one fails regardless. */
  private globalErrors = 0;
  private finished: Promise<void> | undefined;

  constructor(options: TestTrackReporterOptions = {}) {
    const server = serverAddressFrom(options);
    this.options = options;
    this.retry = options.retry ?? {};
    if (!server) {
      warn("set url and token (or TESTTRACK_URL and TESTTRACK_TOKEN); nothing will be recorded");
      return;
    }
    this.server = server;
    this.client = createTestTrackClient(this.server);
    if (options.uploadAttachments !== false) {
      this.uploadArtifact = createArtifactUploader(this.server);
    }
    this.catalog = new TestCaseCatalog(this.client, this.retry, projectIdFrom(options, warn));
    // Playwright ends the run itself on SIGINT (onEnd follows), but SIGTERM kills it outright.
    closeOnExit(() => this.closeOpenSync());
  }

  printsToStdio(): boolean {
    return false;
  }

  onBegin(config: FullConfig): void {
    if (!this.client) return;
    this.runJoin = new RunJoin(
      this.client,
      this.retry,
      {
        projectId: projectIdFrom(this.options, () => {}),
        // Without --shard, TESTTRACK_SHARD may still say which part of the build this is.
        shard: config.shard
          ? { current: config.shard.current, total: config.shard.total }
          : undefined,
        name: "Playwright",
      },
      warn,
    );
    void this.runJoin.runId();
    // The quarantine applies as it was when the run started.
    void this.runJoin.quarantinedTestCases();
  }

  onError(): void {
    this.globalErrors++;
  }

  onTestBegin(test: TestCase, result: TestResult): void {
    this.attemptOf(test, result);
  }

  onStepBegin(_test: TestCase, result: TestResult, step: TestStep): void {
    if (step.category !== "test.step" || step.parent) return;
    const attempt = this.attempts.get(result);
    if (!attempt) return;
    attempt.openSteps.set(step, attempt.nextStepNumber++);
  }

  onStepEnd(_test: TestCase, result: TestResult, step: TestStep): void {
    const attempt = this.attempts.get(result);
    const stepNumber = attempt?.openSteps.get(step);
    if (!attempt || stepNumber === undefined) return;
    attempt.openSteps.delete(step);
    const recorded = recordedStep(step, stepNumber, result.retry, this.warnFor(attempt));
    void attempt.run?.then((run) => run?.step(recorded));
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    // A skipped test may end without having begun.
    const attempt = this.attemptOf(test, result);
    if (!attempt || attempt.closed) return;
    const outcome = outcomeOf(test, result, this.warnFor(attempt));
    attempt.closed = this.close(attempt, outcome, result.status);
  }

  /**
   * Records what is left, and when every test that failed is in quarantine (and nothing else
   * went wrong), tells Playwright the run passed, so its exit code is 0.
   */
  async onEnd(result: FullResult): Promise<{ status?: FullResult["status"] } | undefined> {
    await this.finish(result.status);
    if (result.status !== "failed" || this.globalErrors > 0 || !this.runJoin) return undefined;
    const quarantined = await this.runJoin.quarantinedTestCases();
    if (quarantined.size === 0) return undefined;
    const failing = new Map<TestCase, number | undefined>();
    for (const attempt of this.attempts.values()) {
      const outcome = attempt.test.outcome();
      if (outcome === "unexpected") failing.set(attempt.test, attempt.start?.testCaseId);
    }
    if (failing.size === 0) return undefined;
    for (const testCaseId of failing.values()) {
      if (testCaseId === undefined || !quarantined.has(testCaseId)) return undefined;
    }
    warn(
      `${failing.size} failing test${failing.size === 1 ? " is" : "s are"} in quarantine: they do not fail the run`,
    );
    return { status: "passed" };
  }

  async onExit(): Promise<void> {
    await this.finish("interrupted");
  }

  private attemptOf(test: TestCase, result: TestResult): Attempt | undefined {
    if (!this.client || this.finished) return undefined;
    const known = this.attempts.get(result);
    if (known) return known;
    const attempt: Attempt = { test, result, openSteps: new Map(), nextStepNumber: 1 };
    attempt.run = this.start(attempt);
    this.attempts.set(result, attempt);
    return attempt;
  }

  private async start(attempt: Attempt): Promise<ExecutionRun | undefined> {
    const { client, catalog } = this;
    if (!client || !catalog) return undefined;
    const { test, result } = attempt;
    try {
      const path = titlePathOf(test);
      const project = test.parent.project();
      const testCaseId = await catalog.idFor(
        testCaseKey(path),
        testCaseTitle(path),
        tagsOf([path[0], project?.name, ...test.tags.map((tag) => tag.replace(/^@/, ""))]),
      );
      attempt.start = {
        testCaseId,
        browser: labelOf(browserOf(project)),
        environment: labelOf(this.options.environment ?? process.env.TESTTRACK_ENVIRONMENT),
        baseUrl: baseUrlOf(project),
        triggeredBy: this.options.triggeredBy ?? (process.env.CI ? "ci_cd" : "manual"),
        triggerDetails: fitStart(
          [
            `Playwright attempt ${result.retry + 1} of ${test.retries + 1}`,
            project?.name ? `project ${project.name}` : undefined,
            `${path[0]}:${test.location.line}`,
            this.options.triggerDetails,
          ]
            .filter(Boolean)
            .join(", "),
          LIMITS.text,
        ),
        idempotencyKey: globalThis.crypto.randomUUID(),
      };
      const run = await recordExecutionInRun(
        client,
        {
          ...attempt.start,
          attempt: this.runJoin?.executionAttempt(result.retry) ?? result.retry,
          retry: this.retry,
        },
        this.runJoin,
        warn,
      );
      attempt.executionId = run.executionId;
      return run;
    } catch (error) {
      this.reportUploadError(test, result, error);
      return undefined;
    }
  }

  /** `ended` is how the test ended: a step still open then failed with it (a timeout) or broke off. */
  private async close(
    attempt: Attempt,
    outcome: ExecutionUpdate,
    ended: TestResult["status"] | FullResult["status"],
  ): Promise<void> {
    attempt.outcome = outcome;
    const run = await attempt.run;
    if (!run || !this.client) return;
    const client = this.client;
    const endedAt = outcome.completedAt ? new Date(outcome.completedAt) : new Date();
    for (const [step, stepNumber] of attempt.openSteps) {
      const duration = Math.max(0, endedAt.getTime() - step.startTime.getTime());
      const unfinished = { ...step, duration, error: undefined };
      run.step({
        ...recordedStep(unfinished, stepNumber, attempt.result.retry, this.warnFor(attempt)),
        result: ended === "failed" || ended === "timedOut" ? "fail" : "error",
        errorMessage: `The test ended (${ended}) before this step finished.`,
      });
    }
    attempt.openSteps.clear();
    try {
      await run.flush();
      const execution = await closeExecution(
        client,
        { executionId: run.executionId, status: "running" },
        outcome,
        this.retry,
      );
      attempt.done = true;
      this.recorded.push(execution);
    } catch (error) {
      this.reportUploadError(attempt.test, attempt.result, error);
    }
    await this.uploadAttachments(attempt, run.executionId);
  }

  /** Each attachment with a file or bytes (screenshot, video, trace...) becomes an artifact. */
  private async uploadAttachments(attempt: Attempt, executionId: number): Promise<void> {
    const upload = this.uploadArtifact;
    if (!upload) return;
    for (const attachment of attempt.result.attachments) {
      const source = attachment.path ?? attachment.body;
      if (!source) continue;
      const name = attachmentFileName(attachment);
      try {
        await upload(executionId, source, {
          name,
          contentType: attachment.contentType,
          kind: attachmentKind(attachment.name, attachment.contentType, name),
        });
      } catch (error) {
        this.reportUploadError(attempt.test, attempt.result, error);
      }
    }
  }

  /** The process is going down: closes what is still open, blocking until the server has it. */
  private closeOpenSync(): void {
    if (!this.server) return;
    const closes = [...this.attempts.values()].flatMap((attempt): PendingClose[] => {
      if (attempt.done || !attempt.start) return [];
      attempt.done = true;
      const update = attempt.outcome ?? unfinishedOutcome(attempt.result, "interrupted");
      return [
        attempt.executionId === undefined
          ? { start: attempt.start, update }
          : { executionId: attempt.executionId, update },
      ];
    });
    closeExecutionsSync(this.server, closes);
  }

  /** Closes every execution still open (a crashed or interrupted run), waits for all uploads. */
  private finish(runStatus: FullResult["status"]): Promise<void> {
    this.finished ??= this.closeAll(runStatus, this.options.flushTimeoutMs ?? 60_000);
    return this.finished;
  }

  private async closeAll(runStatus: FullResult["status"], timeoutMs: number): Promise<void> {
    if (!this.client) return;
    for (const attempt of this.attempts.values()) {
      attempt.closed ??= this.close(
        attempt,
        unfinishedOutcome(attempt.result, runStatus),
        runStatus,
      );
    }
    const uploads = Promise.all([...this.attempts.values()].map((attempt) => attempt.closed));
    if (!(await settledWithin(uploads, timeoutMs))) {
      warn(`gave up waiting for uploads after ${timeoutMs} ms`);
    }
    // An interrupted process leaves its shard open, for a re-run of it to finish.
    if (runStatus !== "interrupted") await this.runJoin?.finish();
    process.stdout.write(`${recordedSummary(this.recorded, this.uploadErrors)}\n`);
  }

  /** Warns about a value of this attempt that had to change for the server to accept it. */
  private warnFor(attempt: Attempt): (warning: string) => void {
    return (warning) =>
      warn(`"${attempt.test.title}" (attempt ${attempt.result.retry + 1}): ${warning}`);
  }

  private reportUploadError(test: TestCase, result: TestResult, error: unknown): void {
    this.uploadErrors++;
    const message = error instanceof Error ? error.message : String(error);
    warn(`could not record "${test.title}" (attempt ${result.retry + 1}): ${message}`);
  }
}

function warn(message: string): void {
  process.stderr.write(`TestTrack reporter: ${message}\n`);
}

/** File, describe blocks and test title: the same test in every project maps to one test case. */
function titlePathOf(test: TestCase): string[] {
  const path = [test.title];
  for (let suite: Suite | undefined = test.parent; suite; suite = suite.parent) {
    if (suite.type === "file" || suite.type === "describe") path.unshift(suite.title);
  }
  return path;
}

function browserOf(project: FullProject | undefined): string | undefined {
  return (
    project?.use.browserName ?? project?.use.defaultBrowserType ?? (project?.name || undefined)
  );
}

function baseUrlOf(project: FullProject | undefined): string | undefined {
  const url = project?.use.baseURL;
  return url && /^https?:\/\//.test(url) && url.length <= LIMITS.path ? url : undefined;
}

function errorText(error: TestError): string {
  const message = error.message ?? error.value ?? "Unknown error";
  const text = error.stack?.includes(message) ? error.stack : [message, error.stack].join("\n");
  return plainText(text.trim());
}

function errorsOf(errors: TestError[]): string | undefined {
  return errors.length > 0
    ? fitStart(errors.map(errorText).join("\n\n"), LIMITS.message)
    : undefined;
}

function lastPath(
  attachments: TestResult["attachments"],
  contentType: "image/" | "video/",
): string | undefined {
  const found = attachments.findLast(
    (a) => a.path && a.contentType.startsWith(contentType) && a.path.length <= LIMITS.path,
  );
  return found?.path;
}

function recordedStep(
  step: TestStep,
  stepNumber: number,
  retryCount: number,
  onWarning: (warning: string) => void,
): RecordedStep {
  const skipped = step.annotations?.some((annotation) => annotation.type === "skip");
  // Playwright reports -1 for a step that has not ended.
  const { timings, warnings } = fitTimings(step.startTime, Math.max(0, step.duration) / 1000);
  for (const warning of warnings) onWarning(`step "${step.title}": ${warning}`);
  return {
    stepNumber,
    stepDescription: fitStart(step.title.trim() || "(untitled step)", LIMITS.text),
    result: step.error ? "fail" : skipped ? "skip" : "pass",
    errorMessage: step.error ? fitStart(errorText(step.error), LIMITS.message) : undefined,
    ...timings,
    screenshotPath: lastPath(step.attachments ?? [], "image/"),
    retryCount,
  };
}

function chunksText(chunks: Array<string | Buffer>): string {
  return chunks.map((chunk) => chunk.toString()).join("");
}

/** stdout, stderr and the list of attached files (traces have no column of their own). */
function consoleLogOf(result: TestResult): string | undefined {
  const sections: string[] = [];
  const stdout = chunksText(result.stdout);
  const stderr = chunksText(result.stderr);
  const files = result.attachments
    .filter((a) => a.path)
    .map((a) => `${a.name} (${a.contentType}): ${a.path}`);
  if (stdout) sections.push(`[stdout]\n${stdout}`);
  if (stderr) sections.push(`[stderr]\n${stderr}`);
  if (files.length > 0) sections.push(`[attachments]\n${files.join("\n")}`);
  return sections.length > 0 ? fitEnd(sections.join("\n"), LIMITS.consoleLog) : undefined;
}

/** `onWarning` hears what had to change for the server to accept the timings. */
function outcomeOf(
  test: TestCase,
  result: TestResult,
  onWarning: (warning: string) => void,
): ExecutionUpdate {
  const { timings, warnings } = fitTimings(result.startTime, Math.max(0, result.duration) / 1000);
  for (const warning of warnings) onWarning(warning);
  const recorded: ExecutionUpdate = {
    status: "completed",
    ...timings,
    errorMessage: errorsOf(result.errors),
    consoleLog: consoleLogOf(result),
    screenshotPath: lastPath(result.attachments, "image/"),
    videoPath: lastPath(result.attachments, "video/"),
  };
  switch (result.status) {
    case "passed":
      return { ...recorded, result: "pass" };
    case "failed":
      return { ...recorded, result: "fail" };
    case "timedOut":
      return {
        ...recorded,
        result: "fail",
        errorMessage: fitStart(
          [`Timeout: the test exceeded its ${test.timeout} ms timeout.`, recorded.errorMessage]
            .filter(Boolean)
            .join("\n\n"),
          LIMITS.message,
        ),
      };
    case "skipped":
      return { ...recorded, result: "skip" };
    case "interrupted":
      return {
        ...recorded,
        status: "cancelled",
        errorMessage: "Interrupted: the Playwright run was stopped before this test finished.",
      };
  }
}

/** For an attempt that never reported its end: the run stopped or crashed under it. */
function unfinishedOutcome(result: TestResult, runStatus: FullResult["status"]): ExecutionUpdate {
  const completedAt = new Date();
  const startedAt = result.startTime <= completedAt ? result.startTime : completedAt;
  const timings = {
    startedAt: startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
    durationSeconds: (completedAt.getTime() - startedAt.getTime()) / 1000,
  };
  if (runStatus === "interrupted") {
    return {
      ...timings,
      status: "cancelled",
      errorMessage: "Interrupted: the Playwright run was stopped before this test finished.",
    };
  }
  return {
    ...timings,
    status: "failed",
    result: "error",
    errorMessage: `The Playwright run ended (${runStatus}) before this test reported a result.`,
  };
}

type Attachment = TestResult["attachments"][number];

/** The file's own name (`test-failed-1.png`, `video.webm`), or the attachment's, made safe. */
function attachmentFileName(attachment: Attachment): string {
  const fromPath = attachment.path?.split(/[\\/]/).pop();
  const name = fromPath || attachment.name || "attachment";
  const safe = [...name]
    .map((char) => (char === "/" || char === "\\" || char.charCodeAt(0) < 0x20 ? "_" : char))
    .join("")
    .slice(0, 255);
  return safe === "." || safe === ".." ? "attachment" : safe;
}

function attachmentKind(name: string, contentType: string, fileName: string): ArtifactKind {
  if (name === "screenshot" || name === "video" || name === "trace") return name;
  return kindOf(contentType, fileName);
}
