import { extname } from "node:path";
import {
  createTestTrackClient,
  type ExecutionRun,
  type RetryOptions,
  type RouterInputs,
  type RouterOutputs,
  type TestTrackClient,
  type TriggeredBy,
} from "@testtrack/client";
import { contentTypeOf, createArtifactUploader, kindOf } from "@testtrack/client/artifacts";
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
  type Shard,
  serverAddressFrom,
  settledWithin,
  TestCaseCatalog,
  tagsOf,
  testCaseKey,
  testCaseTitle,
} from "@testtrack/client/reporting";
import type { TestAttachment, TestError, UserConsoleLog } from "vitest";
import type { Reporter, TestCase, TestModule, TestRunEndReason, Vitest } from "vitest/node";

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
  /** Browser label; default: the browser of Vitest's browser mode, none for Node tests. */
  browser?: string;
  /** Default: `ci_cd` when the `CI` variable is set, otherwise `manual`. */
  triggeredBy?: TriggeredBy;
  /** Added to every execution's trigger details (a CI job URL, a commit). */
  triggerDetails?: string;
  /** Back-off for transient upload failures (see `@testtrack/client`). */
  retry?: RetryOptions;
  /** Longest wait at the end of the run for uploads to finish. Default 60 s. */
  flushTimeoutMs?: number;
  /**
   * Upload the files and bytes a test attaches (`context.annotate(message, { path | body })`,
   * and attachments of artifacts recorded with `recordArtifact`) as artifacts of its execution.
   * Default true.
   */
  uploadAttachments?: boolean;
}

type ExecutionUpdate = Omit<RouterInputs["execution"]["update"], "id">;
type Execution = RouterOutputs["execution"]["update"];

/** One test of this run: a TestTrack execution. */
interface Recording {
  testCase: TestCase;
  run?: Promise<ExecutionRun | undefined>;
  /** What `execution.start` was sent, with its idempotency key. */
  start?: RouterInputs["execution"]["start"];
  executionId?: number;
  /** How the execution is to be closed, once that is known. */
  outcome?: ExecutionUpdate;
  closed?: Promise<void>;
  /** The server has stored the outcome. */
  done?: boolean;
}

/**
 * Records every Vitest test as a TestTrack execution, opened when the test starts and closed
 * with its result, duration, errors and console output. Upload failures are reported on stderr
 * and never fail the run.
 *
 * ```ts
 * reporters: ["default", ["@testtrack/vitest-reporter", { url, token }]]
 * ```
 */
export class TestTrackReporter implements Reporter {
  private readonly server: ServerAddress | undefined;
  private readonly client: TestTrackClient | undefined;
  private readonly uploadArtifact: ReturnType<typeof createArtifactUploader> | undefined;
  private readonly catalog: TestCaseCatalog | undefined;
  /** `--shard`, from onInit; undefined lets TESTTRACK_SHARD say. */
  private shard: Shard | undefined;
  /** The run (CI build) this test run records into; a watch-mode rerun joins afresh. */
  private runJoin: RunJoin | undefined;
  private readonly options: TestTrackReporterOptions;
  private readonly retry: RetryOptions;
  private recordings = new Map<string, Recording>();
  private logs = new Map<string, UserConsoleLog[]>();
  private recorded: Execution[] = [];
  private uploadErrors = 0;
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
    // Vitest exits on SIGINT and SIGTERM without telling its reporters.
    closeOnExit(() => this.closeOpenSync());
  }

  onInit(vitest: Vitest): void {
    const shard = vitest.config.shard;
    this.shard = shard ? { current: shard.index, total: shard.count } : undefined;
  }

  /** Watch mode runs again and again: each run records afresh. */
  onTestRunStart(): void {
    this.recordings = new Map();
    this.logs = new Map();
    this.recorded = [];
    this.uploadErrors = 0;
    this.finished = undefined;
    if (this.client) {
      this.runJoin = new RunJoin(
        this.client,
        this.retry,
        { projectId: projectIdFrom(this.options, () => {}), shard: this.shard, name: "Vitest" },
        warn,
      );
      void this.runJoin.runId();
      // The quarantine applies as it was when the run started.
      void this.runJoin.quarantinedTestCases();
    }
  }

  onTestCaseReady(testCase: TestCase): void {
    this.recordingOf(testCase);
  }

  onUserConsoleLog(log: UserConsoleLog): void {
    if (!log.taskId) return;
    const logs = this.logs.get(log.taskId) ?? [];
    logs.push(log);
    this.logs.set(log.taskId, logs);
  }

  onTestCaseResult(testCase: TestCase): void {
    // Skipped tests are reported without having started.
    const recording = this.recordingOf(testCase);
    if (!recording || recording.closed) return;
    const outcome = outcomeOf(testCase, this.logs.get(testCase.id) ?? [], (warning) =>
      warn(`"${testCase.fullName}": ${warning}`),
    );
    // Vitest retries inside one report: the execution is its last try, and a test that passed
    // on a retry gets its failed try recorded too, so the run counts it as flaky.
    const diagnostic = testCase.diagnostic();
    const retries = diagnostic?.retryCount ?? 0;
    if (retries > 0 && this.runJoin) outcome.attempt = this.runJoin.executionAttempt(retries);
    const passedOnRetry = retries > 0 && testCase.result().state === "passed";
    const failedTry = passedOnRetry ? this.recordFailedTry(recording, retries) : undefined;
    recording.closed = Promise.all([this.close(recording, outcome), failedTry]).then(() => {});
  }

  async onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: TestRunEndReason,
  ): Promise<void> {
    await this.finish(reason);
    if (reason === "failed" && unhandledErrors.length === 0) {
      await this.passIfOnlyQuarantinedFailed(testModules);
    }
  }

  /**
   * When every failing test is in quarantine (and no file failed on its own), the run passes:
   * Vitest 4 sets the exit code to 1 just before reporters hear the run ended, so it is set
   * back to 0 here.
   */
  private async passIfOnlyQuarantinedFailed(testModules: ReadonlyArray<TestModule>) {
    const quarantined = (await this.runJoin?.quarantinedTestCases()) ?? new Set<number>();
    if (quarantined.size === 0) return;
    let failing = 0;
    for (const module of testModules) {
      if (module.errors().length > 0) return;
      for (const test of module.children.allTests("failed")) {
        const testCaseId = this.recordings.get(test.id)?.start?.testCaseId;
        if (testCaseId === undefined || !quarantined.has(testCaseId)) return;
        failing++;
      }
    }
    if (failing === 0) return;
    warn(
      `${failing} failing test${failing === 1 ? " is" : "s are"} in quarantine: they do not fail the run`,
    );
    process.exitCode = 0;
  }

  /** Closes every execution still open and waits for all uploads, once per run. */
  private finish(reason: TestRunEndReason): Promise<void> {
    this.finished ??= this.closeAll(reason, this.options.flushTimeoutMs ?? 60_000);
    return this.finished;
  }

  private recordingOf(testCase: TestCase): Recording | undefined {
    if (!this.client || this.finished) return undefined;
    const known = this.recordings.get(testCase.id);
    if (known) return known;
    const recording: Recording = { testCase };
    recording.run = this.start(recording);
    this.recordings.set(testCase.id, recording);
    return recording;
  }

  private async start(recording: Recording): Promise<ExecutionRun | undefined> {
    const { client, catalog } = this;
    if (!client || !catalog) return undefined;
    const { testCase } = recording;
    try {
      const file = testCase.module.relativeModuleId;
      const project = testCase.project;
      const path = titlePathOf(testCase);
      const testCaseId = await catalog.idFor(
        testCaseKey(path),
        testCaseTitle(path),
        tagsOf([file, project.name, ...testCase.tags]),
      );
      const browser = project.config.browser.enabled ? project.config.browser.name : undefined;
      recording.start = {
        testCaseId,
        browser: labelOf(this.options.browser ?? browser),
        environment: labelOf(this.options.environment ?? process.env.TESTTRACK_ENVIRONMENT),
        triggeredBy: this.options.triggeredBy ?? (process.env.CI ? "ci_cd" : "manual"),
        triggerDetails: fitStart(
          [
            "Vitest",
            project.name ? `project ${project.name}` : undefined,
            `${file}${testCase.location ? `:${testCase.location.line}` : ""}`,
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
        { ...recording.start, attempt: this.runJoin?.executionAttempt(0) ?? 0, retry: this.retry },
        this.runJoin,
        warn,
      );
      recording.executionId = run.executionId;
      return run;
    } catch (error) {
      this.reportUploadError(testCase, error);
      return undefined;
    }
  }

  /** The tries before a flaky test passed, as one failed execution (Vitest keeps no details). */
  private async recordFailedTry(recording: Recording, retries: number): Promise<void> {
    const { client } = this;
    // The test's own execution first: its start (test case, labels) is the failed try's too.
    await recording.run;
    if (!client || !recording.start) return;
    try {
      const tried = await recordExecutionInRun(
        client,
        {
          ...recording.start,
          idempotencyKey: globalThis.crypto.randomUUID(),
          attempt: this.runJoin?.executionAttempt(0) ?? 0,
          retry: this.retry,
        },
        this.runJoin,
        warn,
      );
      await tried.finish({
        result: "fail",
        errorMessage: `failed ${retries === 1 ? "once" : `${retries} times`} before passing on a Vitest retry (Vitest keeps no details of failed tries)`,
      });
    } catch (error) {
      this.reportUploadError(recording.testCase, error);
    }
  }

  private async close(recording: Recording, outcome: ExecutionUpdate): Promise<void> {
    recording.outcome = outcome;
    const run = await recording.run;
    if (!run || !this.client) return;
    const client = this.client;
    try {
      await run.flush();
      const execution = await closeExecution(
        client,
        { executionId: run.executionId, status: "running" },
        outcome,
        this.retry,
      );
      recording.done = true;
      this.recorded.push(execution);
    } catch (error) {
      this.reportUploadError(recording.testCase, error);
    }
    await this.uploadAttachments(recording.testCase, run.executionId);
  }

  /** Each attachment with a file or bytes becomes an artifact; a failed upload is only reported. */
  private async uploadAttachments(testCase: TestCase, executionId: number): Promise<void> {
    const upload = this.uploadArtifact;
    if (!upload) return;
    for (const { label, attachment } of attachmentsOf(testCase)) {
      const source = attachmentSource(attachment);
      const name = attachmentName(label, attachment);
      if (source === undefined) {
        warn(`"${testCase.fullName}": attachment "${name}" is a URL, not a file: not uploaded`);
        continue;
      }
      const contentType = attachment.contentType ?? contentTypeOf(name);
      try {
        await upload(executionId, source, { name, contentType, kind: kindOf(contentType, name) });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        warn(`could not upload attachment "${name}" of "${testCase.fullName}": ${message}`);
      }
    }
  }

  /** The process is going down: closes what is still open, blocking until the server has it. */
  private closeOpenSync(): void {
    if (!this.server) return;
    const closes = [...this.recordings.values()].flatMap((recording): PendingClose[] => {
      if (recording.done || !recording.start) return [];
      recording.done = true;
      const update = recording.outcome ?? unfinishedOutcome("interrupted");
      return [
        recording.executionId === undefined
          ? { start: recording.start, update }
          : { executionId: recording.executionId, update },
      ];
    });
    closeExecutionsSync(this.server, closes);
  }

  private async closeAll(reason: TestRunEndReason, timeoutMs: number): Promise<void> {
    if (!this.client) return;
    for (const recording of this.recordings.values()) {
      recording.closed ??= this.close(recording, unfinishedOutcome(reason));
    }
    const uploads = Promise.all([...this.recordings.values()].map((r) => r.closed));
    if (!(await settledWithin(uploads, timeoutMs))) {
      warn(`gave up waiting for uploads after ${timeoutMs} ms`);
    }
    // An interrupted run leaves its shard open, for a re-run of it to finish.
    if (reason !== "interrupted") await this.runJoin?.finish();
    process.stdout.write(`${recordedSummary(this.recorded, this.uploadErrors)}\n`);
  }

  private reportUploadError(testCase: TestCase, error: unknown): void {
    this.uploadErrors++;
    const message = error instanceof Error ? error.message : String(error);
    warn(`could not record "${testCase.fullName}": ${message}`);
  }
}

function warn(message: string): void {
  process.stderr.write(`TestTrack reporter: ${message}\n`);
}

/** What a test attached: annotations' attachments, then those of its recorded artifacts. */
function attachmentsOf(testCase: TestCase): { label: string; attachment: TestAttachment }[] {
  const found = testCase
    .annotations()
    .flatMap((annotation) =>
      annotation.attachment
        ? [{ label: annotation.message, attachment: annotation.attachment }]
        : [],
    );
  // artifacts() came with Vitest 4.1; the reporter supports 4.0 too.
  const artifacts = typeof testCase.artifacts === "function" ? testCase.artifacts() : [];
  for (const artifact of artifacts) {
    for (const attachment of artifact.attachments ?? []) {
      const named = (attachment as { name?: unknown }).name;
      const label = typeof named === "string" ? named : artifact.type.replace(/^internal:/, "");
      found.push({ label, attachment });
    }
  }
  return found;
}

/** The file (Vitest copied it under attachmentsDir) or the bytes; undefined for a URL. */
function attachmentSource(attachment: TestAttachment): string | Uint8Array | undefined {
  const { path, body } = attachment;
  if (path) return /^https?:\/\//.test(path) ? undefined : path;
  if (body instanceof Uint8Array) return body;
  return Buffer.from(body ?? "", attachment.bodyEncoding === "utf-8" ? "utf8" : "base64");
}

const EXTENSIONS: Record<string, string> = {
  "image/png": ".png",
  "image/jpeg": ".jpg",
  "image/webp": ".webp",
  "image/gif": ".gif",
  "image/svg+xml": ".svg",
  "video/webm": ".webm",
  "video/mp4": ".mp4",
  "application/zip": ".zip",
  "application/json": ".json",
  "text/plain": ".txt",
  "text/html": ".html",
};

/**
 * A file name from the annotation's message (Vitest renames an attached file to
 * `<message>-<hash><ext>`, so the message is the name a person gave it) and the file's
 * extension, else one for its content type: "checkout page" with a PNG is `checkout page.png`.
 */
function attachmentName(label: string, attachment: TestAttachment): string {
  const extension = attachment.path
    ? extname(attachment.path)
    : (EXTENSIONS[attachment.contentType?.split(";")[0]?.trim().toLowerCase() ?? ""] ?? "");
  const base =
    [...label]
      .map((char) => (char === "/" || char === "\\" || char.charCodeAt(0) < 0x20 ? "-" : char))
      .join("")
      .trim()
      .slice(0, 200) || "attachment";
  const name = base.toLowerCase().endsWith(extension.toLowerCase()) ? base : `${base}${extension}`;
  return name === "." || name === ".." ? "attachment" : name;
}

/** File (relative to the project root), suite names and test name. */
function titlePathOf(testCase: TestCase): string[] {
  const path = [testCase.name];
  for (let parent = testCase.parent; parent.type === "suite"; parent = parent.parent) {
    path.unshift(parent.name);
  }
  return [testCase.module.relativeModuleId, ...path];
}

function errorText(error: TestError): string {
  const header = error.name ? `${error.name}: ${error.message}` : error.message;
  const body = error.stack?.includes(error.message)
    ? error.stack
    : `${header}\n${error.stack ?? ""}`;
  return plainText([body.trim(), error.diff?.trim()].filter(Boolean).join("\n\n"));
}

/** stdout and stderr of the test, and whether it needed retries (Vitest reports only the last try). */
function consoleLogOf(logs: UserConsoleLog[], retryCount: number): string | undefined {
  const text = (type: UserConsoleLog["type"]) =>
    logs
      .filter((log) => log.type === type)
      .map((log) => log.content)
      .join("");
  const sections = [
    ...(text("stdout") ? [`[stdout]\n${text("stdout")}`] : []),
    ...(text("stderr") ? [`[stderr]\n${text("stderr")}`] : []),
    ...(retryCount > 0 ? [`[vitest]\nretried ${retryCount} times`] : []),
  ];
  return sections.length > 0 ? fitEnd(sections.join("\n"), LIMITS.consoleLog) : undefined;
}

/** `onWarning` hears what had to change for the server to accept the timings. */
function outcomeOf(
  testCase: TestCase,
  logs: UserConsoleLog[],
  onWarning: (warning: string) => void,
): ExecutionUpdate {
  const result = testCase.result();
  const diagnostic = testCase.diagnostic();
  const startedAt = diagnostic ? new Date(diagnostic.startTime) : new Date();
  const { timings, warnings } = fitTimings(startedAt, (diagnostic?.duration ?? 0) / 1000);
  for (const warning of warnings) onWarning(warning);
  const recorded: ExecutionUpdate = {
    status: "completed",
    ...timings,
    consoleLog: consoleLogOf(logs, diagnostic?.retryCount ?? 0),
  };
  switch (result.state) {
    case "passed":
      return { ...recorded, result: "pass" };
    case "failed":
      return {
        ...recorded,
        result: "fail",
        errorMessage: fitStart(result.errors.map(errorText).join("\n\n"), LIMITS.message),
      };
    case "skipped":
      return { ...recorded, result: "skip" };
    case "pending":
      return {
        ...recorded,
        status: "cancelled",
        errorMessage: "The test was still pending when Vitest reported it.",
      };
  }
}

/** For a test that started and never reported a result: the run stopped under it. */
function unfinishedOutcome(reason: TestRunEndReason): ExecutionUpdate {
  if (reason === "interrupted") {
    return {
      status: "cancelled",
      errorMessage: "Interrupted: the Vitest run was stopped before this test finished.",
    };
  }
  return {
    status: "failed",
    result: "error",
    errorMessage: `The Vitest run ended (${reason}) before this test reported a result.`,
  };
}
