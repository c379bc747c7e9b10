/** What the trend charts need of an execution (a row of `execution.list`). */
export interface TrendSample {
  createdAt: string;
  result: string | null;
  durationSeconds: number | null;
}

export interface PassRatePoint {
  /** The day, YYYY-MM-DD in local time. */
  day: string;
  passRate: number;
  decided: number;
}

const DECIDED = new Set(["pass", "fail", "error"]);

function localDay(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * Pass rate per day, oldest first, counted as `stats.get` counts it: the share of decided
 * executions (pass, fail or error) that passed. Days without a decided execution are left out.
 */
export function passRateByDay(samples: TrendSample[]): PassRatePoint[] {
  const days = new Map<string, { passed: number; decided: number }>();
  for (const sample of samples) {
    if (!sample.result || !DECIDED.has(sample.result)) continue;
    const day = localDay(sample.createdAt);
    const tally = days.get(day) ?? { passed: 0, decided: 0 };
    tally.decided += 1;
    if (sample.result === "pass") tally.passed += 1;
    days.set(day, tally);
  }
  return [...days]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, { passed, decided }]) => ({
      day,
      decided,
      passRate: Math.round((passed / decided) * 1000) / 10,
    }));
}

export interface DurationBucket {
  /** "0–1 s", "1–5 s", ... */
  label: string;
  count: number;
}

const BUCKETS: { label: string; below: number }[] = [
  { label: "< 1 s", below: 1 },
  { label: "1–5 s", below: 5 },
  { label: "5–15 s", below: 15 },
  { label: "15–30 s", below: 30 },
  { label: "30–60 s", below: 60 },
  { label: "1–5 min", below: 300 },
  { label: "5–15 min", below: 900 },
  { label: "≥ 15 min", below: Number.POSITIVE_INFINITY },
];

/** How many executions took how long, in fixed buckets; executions without a duration are left out. */
export function durationDistribution(samples: TrendSample[]): DurationBucket[] {
  const counts = BUCKETS.map((bucket) => ({ label: bucket.label, count: 0 }));
  for (const sample of samples) {
    if (sample.durationSeconds === null) continue;
    const index = BUCKETS.findIndex((bucket) => (sample.durationSeconds ?? 0) < bucket.below);
    const bucket = counts[index];
    if (bucket) bucket.count += 1;
  }
  return counts;
}
