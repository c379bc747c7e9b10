import {
  isTransientError,
  type RouterInputs,
  type RouterOutputs,
  type TestTrackClient,
} from "./client.js";

type StartInput = RouterInputs["execution"]["start"];
type StepInput = Extract<RouterInputs["step"]["record"]["steps"], unknown[]>[number];
type UpdateInput = RouterInputs["execution"]["update"];
type Execution = RouterOutputs["execution"]["update"];

export interface RetryOptions {
  /** Attempts after the first one for a transient failure. Default 6. */
  retries?: number;
  /** First back-off delay; doubled on each retry, with jitter. Default 200 ms. */
  minDelayMs?: number;
  /** Longest back-off delay. Default 5 s. */
  maxDelayMs?: number;
}

export interface RecordExecutionOptions extends Omit<StartInput, "idempotencyKey"> {
  /**
   * Makes `execution.start` safe to retry: the same key returns the same execution. A random
   * key is used when none is given.
   */
  idempotencyKey?: string;
  /** Steps sent per request. Default 50 (the server takes at most 2,000). */
  batchSize?: number;
  retry?: RetryOptions;
}

/** A step as a runner reports it; `stepNumber` is assigned in order when omitted. */
export type RecordedStep = Omit<StepInput, "stepNumber"> & { stepNumber?: number };

export interface FinishOptions
  extends Pick<
    UpdateInput,
    "result" | "errorMessage" | "consoleLog" | "screenshotPath" | "videoPath"
  > {
  /** Default: `failed` when result is `error`, otherwise `completed`. */
  status?: "completed" | "failed" | "cancelled";
}

/** Thrown by `finish` when some steps or the final status could not be stored. */
export class RecorderError extends Error {
  override name = "RecorderError";
  constructor(
    message: string,
    readonly executionId: number,
    /** Step numbers the server has not confirmed. */
    readonly unstoredSteps: number[],
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `fn`, retrying transient failures (network, 5xx, TOO_MANY_REQUESTS) with back-off. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { retries = 6, minDelayMs = 200, maxDelayMs = 5_000 } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= retries || !isTransientError(error)) throw error;
      const delay = Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stepRange(numbers: number[]): string {
  if (numbers.length === 0) return "none";
  const first = numbers[0];
  const last = numbers[numbers.length - 1];
  return numbers.length === 1 ? `${first}` : `${first}-${last} (${numbers.length} steps)`;
}

/**
 * Starts an execution, marks it running and returns a run that records steps in batches.
 *
 * ```ts
 * const run = await recordExecution(client, { testCaseId, browser: "chromium" });
 * run.step({ stepDescription: "Open the login page", result: "pass" });
 * await run.finish();
 * ```
 */
export async function recordExecution(
  client: TestTrackClient,
  options: RecordExecutionOptions,
): Promise<ExecutionRun> {
  const { batchSize = 50, retry = {}, idempotencyKey, ...start } = options;
  const key = idempotencyKey ?? globalThis.crypto.randomUUID();
  const started = await withRetry(
    () => client.execution.start.mutate({ ...start, idempotencyKey: key }),
    retry,
  );
  const startedAt = new Date();
  await withRetry(
    () =>
      client.execution.update.mutate({
        id: started.executionId,
        status: "running",
        startedAt: startedAt.toISOString(),
      }),
    retry,
  );
  return new ExecutionRun(client, started.executionId, startedAt, batchSize, retry);
}

/** One execution being recorded. Steps are buffered and uploaded in order, in batches. */
export class ExecutionRun {
  private readonly pending: StepInput[] = [];
  private readonly stored = new Set<number>();
  private nextStepNumber = 1;
  private uploads: Promise<void> = Promise.resolve();
  private lastUploadError: unknown;
  private draining = false;

  constructor(
    private readonly client: TestTrackClient,
    readonly executionId: number,
    readonly startedAt: Date,
    private readonly batchSize: number,
    private readonly retry: RetryOptions,
  ) {}

  /** Buffers one step and returns its step number; a full batch is uploaded in the background. */
  step(step: RecordedStep): number {
    const stepNumber = step.stepNumber ?? this.nextStepNumber;
    this.nextStepNumber = Math.max(this.nextStepNumber, stepNumber + 1);
    const durationSeconds =
      step.durationSeconds ??
      (step.startedAt && step.completedAt
        ? (new Date(step.completedAt).getTime() - new Date(step.startedAt).getTime()) / 1000
        : undefined);
    this.pending.push({
      ...step,
      stepNumber,
      ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    });
    // One background upload at a time drains the buffer, full batches first; while it runs,
    // new steps join the buffer instead of queueing another upload each.
    if (this.pending.length >= this.batchSize && !this.draining) {
      this.draining = true;
      this.flush().catch((error: unknown) => {
        this.lastUploadError = error;
      });
    }
    return stepNumber;
  }

  /** Step numbers the server has confirmed. */
  get storedSteps(): number[] {
    return [...this.stored].sort((a, b) => a - b);
  }

  /** Uploads every buffered step; rejects if some could not be stored after retries. */
  flush(): Promise<void> {
    this.uploads = this.uploads.then(
      () => this.uploadPending(),
      () => this.uploadPending(),
    );
    return this.uploads;
  }

  private async uploadPending(): Promise<void> {
    try {
      await this.uploadBatches();
    } finally {
      this.draining = false;
    }
  }

  private async uploadBatches(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.batchSize);
      // The stored steps would only echo the batch back: the summary is enough here.
      await withRetry(
        () =>
          this.client.step.record.mutate({
            executionId: this.executionId,
            steps: batch,
            returnSteps: false,
          }),
        this.retry,
      );
      this.pending.splice(0, batch.length);
      for (const step of batch) this.stored.add(step.stepNumber);
    }
  }

  /**
   * Uploads what is left and closes the execution. Throws a RecorderError naming the steps the
   * server has not stored when it cannot reach it even after retries.
   */
  async finish(options: FinishOptions = {}): Promise<Execution> {
    const { status, ...rest } = options;
    try {
      await this.flush();
    } catch (error) {
      const unstored = this.pending.map((step) => step.stepNumber).sort((a, b) => a - b);
      throw new RecorderError(
        `execution ${this.executionId}: steps ${stepRange(unstored)} were not stored: ${describe(error ?? this.lastUploadError)}`,
        this.executionId,
        unstored,
        error,
      );
    }
    const completedAt = new Date();
    const update: UpdateInput = {
      id: this.executionId,
      ...rest,
      status: status ?? (options.result === "error" ? "failed" : "completed"),
      completedAt: completedAt.toISOString(),
      durationSeconds: (completedAt.getTime() - this.startedAt.getTime()) / 1000,
    };
    try {
      return await withRetry(() => this.client.execution.update.mutate(update), this.retry);
    } catch (error) {
      throw new RecorderError(
        `execution ${this.executionId}: every step was stored, but it could not be marked ${update.status}: ${describe(error)}`,
        this.executionId,
        [],
        error,
      );
    }
  }

  /** Closes the execution as failed with the error's message and stack. */
  fail(error: unknown, options: Omit<FinishOptions, "status" | "errorMessage"> = {}) {
    const errorMessage =
      error instanceof Error
        ? `${error.message}${error.stack ? `\n${error.stack}` : ""}`
        : String(error);
    return this.finish({ result: "error", ...options, status: "failed", errorMessage });
  }
}
