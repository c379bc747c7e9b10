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

/** Runs `fn` `runs` times one after another (after `warmup` unmeasured runs); milliseconds. */
export async function latency(
  runs: number,
  fn: (i: number) => Promise<unknown>,
  warmup = 3,
): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    p50: round(percentile(times, 50)),
    p99: round(percentile(times, 99)),
    mean: round(times.reduce((a, b) => a + b, 0) / times.length),
    runs,
  };
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
