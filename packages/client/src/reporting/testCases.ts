import type { TestTrackClient } from "../client.js";
import { type RetryOptions, withRetry } from "../recorder.js";
import { LIMITS } from "./limits.js";

const PAGE_SIZE = 100;

/**
 * Finds the caller's test case by exact title, creating it when there is none. Each title is
 * looked up once per run, and concurrent asks for one title share one lookup, so parallel
 * workers and retries never create the same test case twice.
 */
export class TestCaseCatalog {
  private readonly ids = new Map<string, Promise<number>>();

  constructor(
    private readonly client: TestTrackClient,
    private readonly retry: RetryOptions,
  ) {}

  /** `title` should already fit (see `testCaseTitle`); `tags` are set only on creation. */
  idFor(title: string, tags: string[]): Promise<number> {
    const known = this.ids.get(title);
    if (known) return known;
    const id = this.findOrCreate(title, tags);
    this.ids.set(title, id);
    id.catch(() => this.ids.delete(title));
    return id;
  }

  private async findOrCreate(title: string, tags: string[]): Promise<number> {
    for (let skip = 0; ; skip += PAGE_SIZE) {
      const page = await withRetry(
        () => this.client.testCase.list.query({ search: title, skip, limit: PAGE_SIZE }),
        this.retry,
      );
      const found = page.items.find((testCase) => testCase.title === title);
      if (found) return found.id;
      if (skip + page.items.length >= page.total || page.items.length === 0) break;
    }
    const created = await withRetry(
      () => this.client.testCase.create.mutate({ title, tags }),
      this.retry,
    );
    return created.id;
  }
}

/** The title path joined with " › ", as the server stores a title (trimmed, at most 500 characters). */
export function testCaseTitle(path: string[]): string {
  const title = path
    .map((part) => part.trim())
    .filter(Boolean)
    .join(" › ");
  return title.length <= LIMITS.title ? title : `${title.slice(0, LIMITS.title - 1).trimEnd()}…`;
}
