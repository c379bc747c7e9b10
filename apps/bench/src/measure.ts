import { performance } from "node:perf_hooks";

export interface Latency {
  p50: number;
  p99: number;
  mean: number;
  runs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function summarise(times: number[]): Latency {
  times.sort((a, b) => a - b);
  return {
    p50: round(percentile(times, 50)),
    p99: round(percentile(times, 99)),
    mean: round(times.reduce((a, b) => a + b, 0) / times.length),
    runs: times.length,
  };
}

/** Runs `fn` `runs` times one after another (after `warmup` unmeasured runs); milliseconds. */
export function latency(
  runs: number,
  fn: (i: number) => Promise<unknown>,
  warmup = 3,
): Promise<Latency> {
  return compare(runs, { only: fn }, warmup).then((latencies) => latencies.only);
}

/**
 * Latencies of several ways of doing the same thing, taking turns call by call, so whatever
 * else the machine does at the time (autovacuum, a checkpoint) weighs on each of them alike.
 * Every other round runs them in reverse order: whichever runs first after another one finds
 * the caches that one left (the same execution's row, say), and neither should always get that.
 */
export async function compare<K extends string>(
  runs: number,
  fns: Record<K, (i: number) => Promise<unknown>>,
  warmup = 3,
): Promise<Record<K, Latency>> {
  const entries = Object.entries(fns) as [K, (i: number) => Promise<unknown>][];
  for (let i = 0; i < warmup; i++) for (const [, fn] of entries) await fn(-1 - i);
  const times = new Map<K, number[]>(entries.map(([key]) => [key, []]));
  const reversed = [...entries].reverse();
  for (let i = 0; i < runs; i++) {
    for (const [key, fn] of i % 2 === 0 ? entries : reversed) {
      const started = performance.now();
      await fn(i);
      times.get(key)?.push(performance.now() - started);
    }
  }
  return Object.fromEntries(
    entries.map(([key]) => [key, summarise(times.get(key) ?? [])]),
  ) as Record<K, Latency>;
}

/** Wall time of one run of `fn`, in milliseconds. */
export async function once(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return round(performance.now() - started);
}

/** Runs `tasks` with at most `concurrency` at a time. */
export async function pool<T>(concurrency: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}
