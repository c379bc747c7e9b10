import type { RouterOutputs } from "@testtrack/client";

type RunView = RouterOutputs["run"]["get"];
type Comparison = RouterOutputs["run"]["compare"];
type Bucket = keyof Comparison["buckets"];

/** GitHub refuses a job summary over 1 MiB: stay well under it. */
export const STEP_SUMMARY_LIMIT = 1_000_000;
/** Items listed per bucket before "and N more". */
const LISTED = 50;

export const FAIL_ON = ["new-failures", "failures", "never"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/**
 * Whether `--fail-on` holds for this run and comparison. Failures of quarantined tests are in
 * neither `run.failed` nor `newFailures` (they are counted as quarantined), so they never hold.
 */
export function failsOn(failOn: FailOn, run: RunView, comparison: Comparison): boolean {
  if (failOn === "failures") return run.failed > 0;
  if (failOn === "new-failures") return comparison.counts.newFailures > 0;
  return false;
}

const TITLES: Record<Bucket, string> = {
  newFailures: "New failures",
  stillFailing: "Still failing",
  fixed: "Fixed",
  flaky: "Flaky",
  added: "Added",
  removed: "Removed",
  slower: "Slower",
  durationRegressions: "Duration regressions",
  quarantined: "Quarantined failures",
};

/** The order buckets are shown in: what needs attention first. */
const ORDER: Bucket[] = [
  "newFailures",
  "flaky",
  "slower",
  "durationRegressions",
  "stillFailing",
  "quarantined",
  "fixed",
  "added",
  "removed",
];

function firstLine(text: string | null): string {
  const line = (text ?? "").split("\n").find((l) => l.trim()) ?? "";
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function seconds(value: number | null): string {
  if (value === null) return "?";
  if (value < 60) return `${Math.round(value * 10) / 10} s`;
  return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
}

/** Markdown-safe inline text: no line breaks, backticks or table pipes break out of it. */
function inline(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/[`|<>]/g, "'");
}

/**
 * The run and its comparison as markdown (a CI job summary, a PR comment): counts, then each
 * bucket with its tests (error's first line and a dashboard link for failures), lists cut at 50
 * with "and N more", and the whole kept under `limit` characters.
 */
export function summaryMarkdown(
  run: RunView,
  comparison: Comparison,
  dashboardUrl: string,
  limit = STEP_SUMMARY_LIMIT,
): string {
  const link = (path: string) => `${dashboardUrl.replace(/\/+$/, "")}${path}`;
  const head = [
    `## TestTrack: ${inline(run.name ?? run.key)} ${run.status === "running" ? "(running)" : `— ${run.status}`}`,
    "",
    `**${run.tests} tests**: ${run.passed} passed, ${run.failed} failed, ${run.flaky} flaky, ${run.skipped} skipped` +
      (run.quarantined > 0 ? `, ${run.quarantined} quarantined` : "") +
      (run.durationSeconds !== null ? ` · ${seconds(run.durationSeconds)}` : "") +
      ` · [open in TestTrack](${link(`/runs/${run.id}`)})`,
    "",
    comparison.base
      ? `Compared with run ${comparison.base.id} (${inline(comparison.base.branch ?? "?")}${comparison.base.commitSha ? ` ${comparison.base.commitSha.slice(0, 7)}` : ""}): ${ORDER.map((b) => `${comparison.counts[b]} ${TITLES[b].toLowerCase()}`).join(", ")}.`
      : "No earlier finished run of the default branch to compare with.",
  ];
  const sections: string[] = [];
  for (const bucket of ORDER) {
    const items = comparison.buckets[bucket];
    const count = comparison.counts[bucket];
    if (count === 0 || bucket === "added" || bucket === "removed" || bucket === "fixed") continue;
    const lines = items.slice(0, LISTED).map((item) => {
      const title = `\`${inline(item.title)}\``;
      if (bucket === "slower") {
        return `- ${title}: ${seconds(item.baseDurationSeconds)} → ${seconds(item.durationSeconds)}`;
      }
      if (bucket === "durationRegressions") {
        return `- ${title}: median ${seconds(item.baselineMedianSeconds)} → ${seconds(item.durationSeconds)}`;
      }
      const error = firstLine(item.errorMessage);
      const execution = item.executionId
        ? ` ([details](${link(`/executions/${item.executionId}`)}))`
        : "";
      return `- ${title}${error ? ` — ${inline(error)}` : ""}${execution}`;
    });
    if (count > lines.length) lines.push(`- and ${count - lines.length} more`);
    sections.push(`### ${TITLES[bucket]} (${count})\n\n${lines.join("\n")}`);
  }
  let markdown = [...head, "", ...sections.map((s) => `${s}\n`)].join("\n");
  if (markdown.length > limit) {
    const note = "\n\n… cut to stay under the size a job summary may have.\n";
    markdown = `${markdown.slice(0, limit - note.length)}${note}`;
  }
  return markdown;
}
