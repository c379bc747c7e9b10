import { createHash } from "node:crypto";
import type { TestTrackClient } from "../client.js";
import { type RetryOptions, withRetry } from "../recorder.js";
import { LIMITS } from "./limits.js";

/** As many as one testCase.ensureMany call takes. */
const ENSURE_BATCH = 500;

interface Pending {
  key: string;
  title: string;
  tags: string[];
  resolve: (id: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Finds the caller's test case by its stable key (file + title path, JUnit classname + name),
 * creating it when there is none, through `testCase.ensureMany`: the asks of one tick go in one
 * request (up to 500 a call), each key once per run, and the server's upsert by key means that
 * parallel workers, shards and retries never create the same test case twice.
 */
export class TestCaseCatalog {
  private readonly ids = new Map<string, Promise<number>>();
  private queue: Pending[] = [];
  private scheduled = false;

  /** `projectId`: the project the test cases belong to (default: the token's, else personal). */
  constructor(
    private readonly client: TestTrackClient,
    private readonly retry: RetryOptions,
    private readonly projectId?: number,
  ) {}

  /** `key` from `testCaseKey`, `title` from `testCaseTitle`; `tags` are set only on creation. */
  idFor(key: string, title: string, tags: string[]): Promise<number> {
    const known = this.ids.get(key);
    if (known) return known;
    const id = new Promise<number>((resolve, reject) => {
      this.queue.push({ key, title, tags, resolve, reject });
    });
    this.ids.set(key, id);
    id.catch(() => this.ids.delete(key));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return id;
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.queue;
    this.queue = [];
    for (let from = 0; from < pending.length; from += ENSURE_BATCH) {
      void this.ensure(pending.slice(from, from + ENSURE_BATCH));
    }
  }

  private async ensure(batch: Pending[]): Promise<void> {
    try {
      const ensured = await withRetry(
        () =>
          this.client.testCase.ensureMany.mutate({
            projectId: this.projectId,
            testCases: batch.map(({ key, title, tags }) => ({ key, title, tags })),
          }),
        this.retry,
      );
      batch.forEach((ask, i) => {
        const found = ensured[i];
        if (found) ask.resolve(found.id);
        else ask.reject(new Error(`the server did not answer for test case ${ask.key}`));
      });
    } catch (error) {
      for (const ask of batch) ask.reject(error);
    }
  }
}

/**
 * A test's stable key: the parts of its path (file relative to the project, describe blocks,
 * title; or JUnit's classname and name) joined with " › ". A key longer than the server takes
 * keeps its start and a hash of the whole, so two long keys stay apart.
 */
export function testCaseKey(path: string[]): string {
  const key = path
    .map((part) => part.trim())
    .filter(Boolean)
    .join(" › ");
  if (key.length <= LIMITS.testCaseKey) return key;
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 16);
  return `${key.slice(0, LIMITS.testCaseKey - hash.length - 3).trimEnd()} #${hash}`;
}

/** The title path joined with " › ", as the server stores a title (trimmed, at most 500 characters). */
export function testCaseTitle(path: string[]): string {
  const title = path
    .map((part) => part.trim())
    .filter(Boolean)
    .join(" › ");
  return title.length <= LIMITS.title ? title : `${title.slice(0, LIMITS.title - 1).trimEnd()}…`;
}
