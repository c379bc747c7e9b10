import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { useState } from "react";
import { errorMessage, trpc } from "../api";
import { formatDateTime, formatDuration } from "../format";
import { RunBadge } from "./Runs";

const OUTCOMES = ["failed", "flaky", "skipped", "passed"] as const;
type Outcome = (typeof OUTCOMES)[number];

const BUCKETS = [
  ["newFailures", "New failures"],
  ["flaky", "Flaky"],
  ["slower", "Slower"],
  ["durationRegressions", "Duration regressions"],
  ["quarantined", "Quarantined failures"],
  ["stillFailing", "Still failing"],
  ["fixed", "Fixed"],
  ["added", "Added"],
  ["removed", "Removed"],
] as const;

const firstLine = (text: string | null) => (text ?? "").split("\n").find((l) => l.trim()) ?? "";

/** One CI build: its verdict, shards, what changed since the base run, and its tests by outcome. */
export function RunDetailPage() {
  const { id } = useParams({ from: "/runs/$id" });
  const [outcome, setOutcome] = useState<Outcome>("failed");
  const run = useQuery(trpc.run.get.queryOptions({ id, limit: 1 }));
  const comparison = useQuery(trpc.run.compare.queryOptions({ runId: id, limit: 50 }));
  const groups = useQuery(trpc.health.failureGroups.queryOptions({ runId: id, limit: 50 }));
  const tests = useInfiniteQuery(
    trpc.run.get.infiniteQueryOptions(
      { id, outcome, limit: 50 },
      { getNextPageParam: (page) => page.testsPage.nextCursor ?? undefined },
    ),
  );
  const failure = run.error ?? comparison.error ?? tests.error;
  const details = run.data;
  const counts: Record<Outcome, number> = details
    ? {
        // A quarantined failure is a failed outcome, counted apart so it does not fail the run.
        failed: details.failed + details.quarantined,
        flaky: details.flaky,
        skipped: details.skipped,
        passed: details.passed,
      }
    : { failed: 0, flaky: 0, skipped: 0, passed: 0 };
  const items = tests.data?.pages.flatMap((page) => page.testsPage.items) ?? [];

  return (
    <section aria-labelledby="run-title">
      <p className="crumbs">
        <Link to="/runs">Runs</Link> / run #{id}
      </p>
      <h1 id="run-title">
        {details ? (details.name ?? details.key) : `Run #${id}`}{" "}
        {details && <RunBadge status={details.status} />}
      </h1>
      {failure && (
        <p role="alert" className="error">
          {errorMessage(failure)}
        </p>
      )}
      {details && (
        <dl className="facts">
          <dt>Key</dt>
          <dd>
            <code>{details.key}</code>
          </dd>
          <dt>Branch</dt>
          <dd>{details.branch ?? "—"}</dd>
          <dt>Commit</dt>
          <dd>
            <code>{details.commitSha ?? "—"}</code>
            {details.commitMessage ? ` ${firstLine(details.commitMessage)}` : ""}
          </dd>
          <dt>Tests</dt>
          <dd>
            {details.tests}: {details.passed} passed, {details.failed} failed, {details.flaky}{" "}
            flaky, {details.skipped} skipped
            {details.quarantined > 0 &&
              `, ${details.quarantined} quarantined (not failing the run)`}
          </dd>
          <dt>Started</dt>
          <dd>{formatDateTime(details.startedAt)}</dd>
          <dt>Duration</dt>
          <dd>
            {details.durationSeconds === null ? "running" : formatDuration(details.durationSeconds)}
          </dd>
          <dt>Shards</dt>
          <dd>
            {details.shards.length === 0
              ? "—"
              : details.shards
                  .map(
                    (s) =>
                      `${s.shard}${details.expectedShards ? `/${details.expectedShards}` : ""} ${s.finishedAt ? "finished" : "running"}${s.attempt > 0 ? ` (re-run ${s.attempt})` : ""}`,
                  )
                  .join(", ")}
          </dd>
          {details.ciUrl && (
            <>
              <dt>CI</dt>
              <dd>
                <a href={details.ciUrl} rel="noreferrer">
                  {details.ciProvider ?? "build"}
                </a>
              </dd>
            </>
          )}
        </dl>
      )}
      {comparison.data && (
        <section aria-labelledby="compare-title">
          <h2 id="compare-title">
            {comparison.data.base ? (
              <>
                Compared with{" "}
                <Link to="/runs/$id" params={{ id: comparison.data.base.id }}>
                  run #{comparison.data.base.id}
                </Link>
              </>
            ) : (
              "No earlier run of the default branch to compare with"
            )}
          </h2>
          <ul className="buckets">
            {BUCKETS.map(([bucket, title]) => (
              <li key={bucket} data-bucket={bucket}>
                <strong>
                  {title}: {comparison.data.counts[bucket]}
                </strong>
                {comparison.data.buckets[bucket].length > 0 &&
                  bucket !== "added" &&
                  bucket !== "removed" && (
                    <ul>
                      {comparison.data.buckets[bucket].map((item) => (
                        <li key={item.testCaseId}>
                          {item.executionId ? (
                            <Link to="/executions/$id" params={{ id: item.executionId }}>
                              {item.title}
                            </Link>
                          ) : (
                            item.title
                          )}
                          {bucket === "slower"
                            ? ` ${formatDuration(item.baseDurationSeconds)} → ${formatDuration(item.durationSeconds)}`
                            : bucket === "durationRegressions"
                              ? ` median ${formatDuration(item.baselineMedianSeconds)} → ${formatDuration(item.durationSeconds)}`
                              : item.errorMessage
                                ? ` — ${firstLine(item.errorMessage)}`
                                : ""}
                        </li>
                      ))}
                    </ul>
                  )}
              </li>
            ))}
          </ul>
        </section>
      )}
      {groups.data && groups.data.items.length > 0 && (
        <section aria-labelledby="groups-title">
          <h2 id="groups-title">Failure groups ({groups.data.items.length})</h2>
          <ul className="failure-groups">
            {groups.data.items.map((group) => (
              <li key={group.fingerprint} data-fingerprint={group.fingerprint}>
                {group.isNew && <span className="badge badge-run-failed">new</span>}{" "}
                <code>{firstLine(group.sampleMessage)}</code> — {group.occurrences} failure
                {group.occurrences === 1 ? "" : "s"} in {group.tests} test
                {group.tests === 1 ? "" : "s"} ({group.sampleTests.map((t) => t.title).join(", ")})
                {!group.isNew && `, first seen ${formatDateTime(String(group.firstSeenAt))}`}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section aria-labelledby="tests-title">
        <h2 id="tests-title">Tests</h2>
        <div role="tablist" aria-label="Outcome">
          {OUTCOMES.map((name) => (
            <button
              key={name}
              type="button"
              role="tab"
              aria-selected={outcome === name}
              onClick={() => setOutcome(name)}
            >
              {name} ({counts[name]})
            </button>
          ))}
        </div>
        {tests.isSuccess && items.length === 0 && <p className="muted">No {outcome} tests.</p>}
        {items.length > 0 && (
          <table className="run-tests">
            <thead>
              <tr>
                <th scope="col">Test</th>
                <th scope="col">Attempts</th>
                <th scope="col">Duration</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {items.map((test) => (
                <tr key={test.testCaseId}>
                  <td>
                    <Link to="/executions/$id" params={{ id: test.executionId }}>
                      {test.title}
                    </Link>{" "}
                    {test.quarantined && (
                      <span className="badge badge-quarantined">quarantined</span>
                    )}{" "}
                    <Link
                      to="/test-cases/$id"
                      params={{ id: test.testCaseId }}
                      className="muted"
                      aria-label={`Health and history of ${test.title}`}
                    >
                      health
                    </Link>
                  </td>
                  <td>{test.attempts}</td>
                  <td>{formatDuration(test.durationSeconds)}</td>
                  <td>{firstLine(test.errorMessage)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {tests.hasNextPage && (
          <button
            type="button"
            onClick={() => tests.fetchNextPage()}
            disabled={tests.isFetchingNextPage}
          >
            {tests.isFetchingNextPage ? "Loading…" : "Load more"}
          </button>
        )}
      </section>
    </section>
  );
}
