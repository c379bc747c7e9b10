import { errorCode, type TestTrackClient } from "../client.js";
import {
  type ExecutionRun,
  type RecordExecutionOptions,
  type RetryOptions,
  recordExecution,
  withRetry,
} from "../recorder.js";
import { detectRun, type RunContext } from "./ci.js";

/** Execution attempt numbers per CI attempt of a build (runners retry a test far fewer times). */
export const TRIES_PER_CI_ATTEMPT = 100;

/** Which part of a sharded run this process is: `current` of `total`, 1-based. */
export interface Shard {
  current: number;
  total: number;
}

export interface RunJoinOptions {
  projectId?: number;
  /** Default: detected from the CI environment (`detectRun`). */
  run?: RunContext;
  /** This process's shard; default `TESTTRACK_SHARD` ("2/4"), else none (one process is the run). */
  shard?: Shard | null;
  /** A display name for a new run (e.g. "Playwright"), when CI names none. */
  name?: string;
}

/**
 * What `run.start` is sent for a run context: its key, CI fields and attempt, this process's
 * shard, and `name` when CI names none.
 */
export function runStartInput(
  context: RunContext,
  options: { projectId?: number; shard?: Shard | null; name?: string },
) {
  return {
    projectId: options.projectId,
    key: context.key,
    name: context.name ?? options.name,
    branch: context.branch,
    commitSha: context.commitSha,
    commitMessage: context.commitMessage,
    pullRequest: context.pullRequest,
    ciProvider: context.provider ?? undefined,
    ciUrl: context.ciUrl,
    expectedShards: options.shard?.total,
    shard: options.shard?.current,
    attempt: context.attempt,
  };
}

/** "2/4" → { current: 2, total: 4 }; anything else is undefined. */
export function parseShard(value: string | undefined): Shard | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value ?? "");
  if (!match) return undefined;
  const current = Number(match[1]);
  const total = Number(match[2]);
  return current >= 1 && current <= total && total <= 1_000 ? { current, total } : undefined;
}

/**
 * A reporter's part in a run (one CI build): joins the run of the build's key once (`run.start`
 * is idempotent, so every shard and retry joins the same run), gives executions its id, and at
 * the end finishes this shard (the server finishes the run when the last expected shard has) or,
 * unsharded, the run itself. Failures are reported through `warn`; results are then recorded
 * without a run, never lost.
 */
export class RunJoin {
  readonly context: RunContext;
  readonly shard: Shard | null;
  private joined: Promise<number | undefined> | undefined;
  private projectId: number | undefined;
  private quarantine: Promise<Set<number>> | undefined;

  constructor(
    private readonly client: TestTrackClient,
    private readonly retry: RetryOptions,
    private readonly options: RunJoinOptions,
    private readonly warn: (message: string) => void,
  ) {
    this.context = options.run ?? detectRun();
    this.shard =
      options.shard === undefined
        ? (parseShard(process.env.TESTTRACK_SHARD) ?? null)
        : options.shard;
  }

  /** The run's id (joining it on the first call), or undefined when it could not be joined. */
  runId(): Promise<number | undefined> {
    this.joined ??= this.join();
    return this.joined;
  }

  /**
   * An execution's `attempt` for the runner's try `retry` (0 first): a CI re-run's tries count
   * from 100 × its attempt, so they come after every try of the run it repeats.
   */
  executionAttempt(retry: number): number {
    return this.context.attempt * TRIES_PER_CI_ATTEMPT + Math.min(retry, TRIES_PER_CI_ATTEMPT - 1);
  }

  private async join(): Promise<number | undefined> {
    const { context, shard } = this;
    try {
      const run = await withRetry(
        () =>
          this.client.run.start.mutate(
            runStartInput(context, {
              projectId: this.options.projectId,
              shard,
              name: this.options.name,
            }),
          ),
        this.retry,
      );
      this.projectId = run.projectId;
      return run.id;
    } catch (error) {
      this.warn(
        `could not join run ${context.key}: ${(error as Error).message}; recording without a run`,
      );
      return undefined;
    }
  }

  /**
   * The ids of the run's project's test cases in quarantine now, fetched once (at run start):
   * their failures do not fail the run, so a reporter may leave the runner's exit code alone.
   * Empty when there is no run or the list cannot be read (then failures count as usual).
   */
  quarantinedTestCases(): Promise<Set<number>> {
    this.quarantine ??= this.fetchQuarantine();
    return this.quarantine;
  }

  private async fetchQuarantine(): Promise<Set<number>> {
    const ids = new Set<number>();
    if ((await this.runId()) === undefined) return ids;
    try {
      let cursor: string | undefined;
      do {
        const page = await withRetry(
          () =>
            this.client.quarantine.list.query({ projectId: this.projectId, cursor, limit: 100 }),
          this.retry,
        );
        for (const entry of page.items) ids.add(entry.testCaseId);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    } catch (error) {
      this.warn(
        `could not read the quarantine: ${(error as Error).message}; failures count as usual`,
      );
      ids.clear();
    }
    return ids;
  }

  /**
   * This process is done: its shard is finished, or (unsharded) the whole run. Answers the
   * run's status afterwards, or undefined when there is no run.
   */
  async finish(): Promise<string | undefined> {
    if (!this.joined) return undefined;
    const runId = await this.joined;
    if (runId === undefined) return undefined;
    try {
      const run = await withRetry(
        () =>
          this.shard
            ? this.client.run.finishShard.mutate({ runId, shard: this.shard.current })
            : this.client.run.finish.mutate({ runId }),
        this.retry,
      );
      return run.status;
    } catch (error) {
      this.warn(`could not finish run ${this.context.key}: ${(error as Error).message}`);
      return undefined;
    }
  }
}

/**
 * `recordExecution` inside the run `join` belongs to: with its id, and the try's `attempt`. A
 * run that ended meanwhile (another job finished it) is no reason to lose the result: it is
 * then recorded without the run, with a warning.
 */
export async function recordExecutionInRun(
  client: TestTrackClient,
  start: RecordExecutionOptions,
  join: RunJoin | undefined,
  warn: (message: string) => void,
): Promise<ExecutionRun> {
  const runId = await join?.runId();
  if (runId === undefined) return recordExecution(client, start);
  try {
    return await recordExecution(client, { ...start, runId });
  } catch (error) {
    if (errorCode(error) !== "CONFLICT") throw error;
    warn(`${(error as Error).message}; recording test case ${start.testCaseId} without the run`);
    return recordExecution(client, start);
  }
}
