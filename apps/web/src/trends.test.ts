import { describe, expect, it } from "vitest";
import { durationDistribution, passRateByDay } from "./trends";

const at = (day: number, hour = 12) => new Date(2026, 0, day, hour).toISOString();

describe("passRateByDay", () => {
  it("counts decided executions per local day, oldest first, as stats.get does", () => {
    const points = passRateByDay([
      { createdAt: at(3), result: "pass", durationSeconds: 1 },
      { createdAt: at(2), result: "pass", durationSeconds: 1 },
      { createdAt: at(2, 18), result: "fail", durationSeconds: 1 },
      { createdAt: at(2), result: "error", durationSeconds: 1 },
      { createdAt: at(2), result: "skip", durationSeconds: 1 },
      { createdAt: at(1), result: null, durationSeconds: null },
    ]);
    expect(points).toEqual([
      { day: "2026-01-02", decided: 3, passRate: 33.3 },
      { day: "2026-01-03", decided: 1, passRate: 100 },
    ]);
  });
});

describe("durationDistribution", () => {
  it("puts each duration in its bucket and skips executions without one", () => {
    const buckets = durationDistribution(
      [0.2, 0.99, 1, 4.9, 29, 61, 3600, null].map((durationSeconds) => ({
        createdAt: at(1),
        result: "pass",
        durationSeconds,
      })),
    );
    expect(Object.fromEntries(buckets.map((b) => [b.label, b.count]))).toEqual({
      "< 1 s": 2,
      "1–5 s": 2,
      "5–15 s": 0,
      "15–30 s": 1,
      "30–60 s": 0,
      "1–5 min": 1,
      "5–15 min": 0,
      "≥ 15 min": 1,
    });
  });
});
