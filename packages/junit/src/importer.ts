import { createHash } from "node:crypto";
import { access } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import {
  type RetryOptions,
  type RouterInputs,
  type TestTrackClient,
  type TriggeredBy,
  withRetry,
} from "@testtrack/client";
import {
  closeExecution,
  detectRun,
  fitDuration,
  fitEnd,
  fitStart,
  fitTimings,
  LIMITS,
  labelOf,
  RunJoin,
  type Shard,
  TestCaseCatalog,
  tagsOf,
  testCaseKey,
} from "@testtrack/client/reporting";
import {
  JUnitFormatError,
  type JUnitTestCase,
  type JUnitWarning,
  readJUnitFile,
  titleOf,
} from "./junit.js";

export interface ImportOptions {
  /** The project to import into (default: the token's project, else the personal one). */
  projectId?: number;
  environment?: string;
  browser?: string;
  triggeredBy?: TriggeredBy;
  retry?: RetryOptions;
  /** Test cases uploaded at once (their calls share HTTP batches). Default 16. */
  concurrency?: number;
  onProgress?: (progress: ImportProgress) => void;
  /**
   * The run (CI build) to import into: default the one CI's environment names (`detectRun`);
   * outside CI, none unless a key is given.
   */
  runKey?: string;
  /** This import's part of a sharded run ("--shard 2/4"); the run finishes with its last shard. */
  shard?: Shard;
  /**
   * Uploads the files a test names in its output with `[[ATTACHMENT|path]]` (the Jenkins
   * convention; relative paths from the report's folder, else the working directory) as
   * artifacts of its execution. Unset: attachments are left alone (`--attachments` sets it).
   */
  uploadArtifact?: (executionId: number, path: string) => Promise<unknown>;
}

export interface ImportProgress {
  file: string;
  /** Test cases imported so far, over all files. */
  done: number;
  total: number;
}

export interface ImportSummary {
  files: number;
  tests: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  /** Executions this import created. */
  created: number;
  /** Test cases an earlier import of the same file (and options) already stored. */
  alreadyImported: number;
  /** Files that were not imported at all, with the reason (file:line: ...). */
  rejected: Array<{ file: string; message: string }>;
  /** Test cases that could not be uploaded. */
  uploadErrors: Array<{ file: string; line: number; message: string }>;
  /**
   * What was odd in the imported files and how it was imported all the same (a test without a
   * name, a timestamp or duration TestTrack cannot store as written), by file and line.
   */
  warnings: JUnitWarning[];
  /** The run imported into, and its status afterwards. */
  run?: { id: number; key: string; status: string | undefined };
}

interface ValidFile {
  file: string;
  tests: number;
  sha256: string;
}

type ExecutionUpdate = Omit<RouterInputs["execution"]["update"], "id">;

/**
 * Imports JUnit XML files: each <testcase> becomes a completed execution of the test case
 * titled by its classname and name (created when missing). Every file is read through once
 * before anything is uploaded, so a malformed file imports nothing, and every value is fitted
 * to what the server accepts before an execution starts, so none is left half imported.
 * Execution starts carry an idempotency key made of the file's hash, the options and the test's
 * position: importing the same file again (say, after a network failure) completes what is
 * missing and duplicates nothing.
 */
export async function importJUnitFiles(
  client: TestTrackClient,
  files: string[],
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const summary: ImportSummary = {
    files: 0,
    tests: 0,
    passed: 0,
    failed: 0,
    errors: 0,
    skipped: 0,
    created: 0,
    alreadyImported: 0,
    rejected: [],
    uploadErrors: [],
    warnings: [],
  };
  const valid: ValidFile[] = [];
  for (const file of files) {
    try {
      const fitted: JUnitWarning[] = [];
      const { tests, sha256, warnings } = await readJUnitFile(file, (testCase) => {
        for (const message of outcomeOf(testCase).warnings) {
          fitted.push({ file, line: testCase.line, message });
        }
      });
      valid.push({ file, tests, sha256 });
      summary.warnings.push(...[...warnings, ...fitted].sort((a, b) => a.line - b.line));
    } catch (error) {
      summary.rejected.push({ file, message: rejectionOf(file, error) });
    }
  }
  const total = valid.reduce((sum, file) => sum + file.tests, 0);
  const catalog = new TestCaseCatalog(client, options.retry ?? {}, options.projectId);
  const join = runJoinOf(client, options, (message) =>
    summary.warnings.push({ file: "run", line: 0, message }),
  );
  const concurrency = options.concurrency ?? 16;
  let done = 0;
  for (const file of valid) {
    const upload = (testCase: JUnitTestCase) =>
      uploadTestCase(client, catalog, join, file, testCase, options).then(
        ({ created, final }) => {
          summary.created += created;
          if (final === "already imported") summary.alreadyImported++;
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          summary.uploadErrors.push({ file: file.file, line: testCase.line, message });
        },
      );
    const inFlight = new Set<Promise<void>>();
    await readJUnitFile(file.file, async (testCase) => {
      count(summary, testCase);
      const uploading = upload(testCase).finally(() => {
        inFlight.delete(uploading);
        options.onProgress?.({ file: file.file, done: ++done, total });
      });
      inFlight.add(uploading);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    });
    await Promise.all(inFlight);
    summary.files++;
  }
  const runId = await join?.runId();
  if (join && runId !== undefined) {
    summary.run = { id: runId, key: join.context.key, status: await join.finish() };
  }
  return summary;
}

/** The run to import into: CI's build, or the given key; outside CI without a key, none. */
function runJoinOf(
  client: TestTrackClient,
  options: ImportOptions,
  warn: (message: string) => void,
): RunJoin | undefined {
  const run = detectRun();
  const key = options.runKey?.trim();
  if (!key && run.provider === null && !process.env.TESTTRACK_RUN_KEY) return undefined;
  return new RunJoin(
    client,
    options.retry ?? {},
    {
      projectId: options.projectId,
      run: key ? { ...run, key } : run,
      shard: options.shard,
      name: "JUnit import",
    },
    warn,
  );
}

function count(summary: ImportSummary, testCase: JUnitTestCase): void {
  summary.tests++;
  if (testCase.result === "pass") summary.passed++;
  else if (testCase.result === "fail") summary.failed++;
  else if (testCase.result === "error") summary.errors++;
  else summary.skipped++;
}

function rejectionOf(file: string, error: unknown): string {
  if (error instanceof JUnitFormatError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `${file}: ${message}`;
}

/** The one-line summary the CLI prints. */
export function summaryLine(summary: ImportSummary): string {
  const files = `${summary.files} file${summary.files === 1 ? "" : "s"}`;
  const counts = `${summary.passed} passed, ${summary.failed} failed, ${summary.errors} errors, ${summary.skipped} skipped`;
  const extra = [
    summary.alreadyImported ? `${summary.alreadyImported} already imported` : undefined,
    summary.rejected.length ? `${summary.rejected.length} files rejected` : undefined,
    summary.uploadErrors.length ? `${summary.uploadErrors.length} not uploaded` : undefined,
    summary.warnings.length
      ? `${summary.warnings.length} warning${summary.warnings.length === 1 ? "" : "s"}`
      : undefined,
  ].filter(Boolean);
  return `Imported ${files}: ${summary.tests} tests (${counts}); ${summary.created} executions created${extra.length ? `; ${extra.join(", ")}` : ""}`;
}

async function uploadTestCase(
  client: TestTrackClient,
  catalog: TestCaseCatalog,
  join: RunJoin | undefined,
  file: ValidFile,
  testCase: JUnitTestCase,
  options: ImportOptions,
): Promise<{ created: number; final: "created" | "already imported" }> {
  const { outcome } = outcomeOf(testCase);
  const testCaseId = await catalog.idFor(
    testCaseKey([testCase.classname, testCase.name]),
    titleOf(testCase),
    tagsOf(["junit", testCase.suite]),
  );
  const runId = await join?.runId();
  // Surefire's reruns of a test that passed at last: each failed try is an execution of its own.
  const tries = testCase.earlierTries ?? [];
  let created = 0;
  for (const [index, earlier] of tries.entries()) {
    const earlierTry = await uploadTry(
      client,
      join,
      runId,
      file,
      testCase,
      options,
      testCaseId,
      index,
      {
        ...outcome,
        status: "failed",
        result: earlier.result,
        errorMessage: fitStart(earlier.errorMessage, LIMITS.message),
        consoleLog: undefined,
      },
    );
    if (earlierTry === "created") created++;
  }
  const final = await uploadTry(
    client,
    join,
    runId,
    file,
    testCase,
    options,
    testCaseId,
    tries.length,
    outcome,
  );
  return { created: created + (final === "created" ? 1 : 0), final };
}

/** One try of a test case as one execution, started and closed (idempotently). */
async function uploadTry(
  client: TestTrackClient,
  join: RunJoin | undefined,
  runId: number | undefined,
  file: ValidFile,
  testCase: JUnitTestCase,
  options: ImportOptions,
  testCaseId: number,
  tryIndex: number,
  outcome: ExecutionUpdate,
): Promise<"created" | "already imported"> {
  const retry = options.retry ?? {};
  const attempt = join ? join.executionAttempt(tryIndex) : tryIndex;
  // Only what is set goes in (the idempotency key hashes it): a plain import keys as before.
  const start = {
    ...(runId !== undefined ? { runId } : {}),
    ...(attempt > 0 ? { attempt } : {}),
    testCaseId,
    browser: labelOf(options.browser),
    environment: labelOf(options.environment),
    triggeredBy: options.triggeredBy ?? (process.env.CI ? "ci_cd" : "manual"),
    triggerDetails: fitStart(
      `JUnit import of ${basename(file.file)}:${testCase.line}${testCase.suite ? ` (suite ${testCase.suite})` : ""}`,
      LIMITS.text,
    ),
  } satisfies RouterInputs["execution"]["start"];
  const started = await withRetry(
    () =>
      client.execution.start.mutate({
        ...start,
        idempotencyKey: idempotencyKeyOf(file, testCase, start),
      }),
    retry,
  );
  if (started.status !== "pending" && started.status !== "running") return "already imported";
  const closed = await closeExecution(client, started, outcome, retry);
  if (closed.closedElsewhere) return "already imported";
  // The last try carries the test's output, and so its attachments.
  if (options.uploadArtifact && tryIndex === (testCase.earlierTries?.length ?? 0)) {
    await uploadAttachments(options.uploadArtifact, started.executionId, file.file, testCase);
  }
  return "created";
}

const ATTACHMENT = /\[\[ATTACHMENT\|([^\]\r\n]+)\]\]/g;

/** The files named by `[[ATTACHMENT|path]]` lines of a test's output, each once. */
export function attachmentPaths(output: string | undefined): string[] {
  const paths = [...(output ?? "").matchAll(ATTACHMENT)].map((match) => (match[1] ?? "").trim());
  return [...new Set(paths.filter(Boolean))];
}

async function uploadAttachments(
  upload: NonNullable<ImportOptions["uploadArtifact"]>,
  executionId: number,
  reportFile: string,
  testCase: JUnitTestCase,
): Promise<void> {
  const failures: string[] = [];
  for (const named of attachmentPaths(testCase.consoleLog)) {
    const candidates = isAbsolute(named)
      ? [named]
      : [resolve(dirname(reportFile), named), resolve(named)];
    let found: string | undefined;
    for (const candidate of candidates) {
      if (
        await access(candidate).then(
          () => true,
          () => false,
        )
      ) {
        found = candidate;
        break;
      }
    }
    if (!found) {
      failures.push(`attachment ${named}: no such file`);
      continue;
    }
    await upload(executionId, found).catch((error: unknown) =>
      failures.push(`attachment ${named}: ${error instanceof Error ? error.message : error}`),
    );
  }
  if (failures.length > 0) throw new Error(failures.join("; "));
}

/** The update that completes a test case's execution, fitted to the server's limits. */
function outcomeOf(testCase: JUnitTestCase): { outcome: ExecutionUpdate; warnings: string[] } {
  const seconds = testCase.durationSeconds ?? 0;
  // Without a timestamp the test is taken to have just finished.
  const startedAt =
    testCase.startedAt ?? new Date(Date.now() - fitDuration(seconds).seconds * 1000);
  const { timings, warnings } = fitTimings(startedAt, seconds);
  const outcome: ExecutionUpdate = {
    status: "completed",
    result: testCase.result,
    ...timings,
    errorMessage: testCase.errorMessage && fitStart(testCase.errorMessage, LIMITS.message),
    consoleLog: testCase.consoleLog && fitEnd(testCase.consoleLog, LIMITS.consoleLog),
  };
  return { outcome, warnings };
}

function idempotencyKeyOf(file: ValidFile, testCase: JUnitTestCase, start: object): string {
  const options = createHash("sha256").update(JSON.stringify(start)).digest("hex");
  return `junit:${file.sha256}:${options.slice(0, 16)}:${testCase.index}`;
}
