import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { RouterOutputs } from "@testtrack/client";
import { memo, useEffect, useRef, useState } from "react";
import { errorMessage, trpc } from "../api";
import { formatDateTime, formatDuration } from "../format";
import { RUN_OUTCOMES, RUN_SEARCH_MAX, type RunOutcome } from "../search";
import { RunBadge } from "./Runs";

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

/**
 * Deleting a run takes its executions, steps and artifacts with it (maintainers): the button
 * asks for a confirmation naming what goes, then leads back to the list of runs.
 */
function DeleteRun({ runId, tests }: { runId: number; tests: number }) {
  const [confirming, setConfirming] = useState(false);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const remove = useMutation(
    trpc.run.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.run.pathFilter());
        await navigate({ to: "/runs" });
      },
    }),
  );
  if (!confirming) {
    return (
      <p>
        <button type="button" onClick={() => setConfirming(true)}>
          Delete run
        </button>
      </p>
    );
  }
  return (
    <div role="alertdialog" aria-labelledby="delete-run-question">
      <p id="delete-run-question">
        Delete run #{runId} with the executions of its {tests} test{tests === 1 ? "" : "s"}, their
        steps and artifacts? This cannot be undone.
      </p>
      {remove.error && (
        <p role="alert" className="error">
          {errorMessage(remove.error)}
        </p>
      )}
      <button
        type="button"
        disabled={remove.isPending}
        onClick={() => remove.mutate({ id: runId })}
      >
        Yes, delete the run
      </button>{" "}
      <button type="button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </div>
  );
}

/** One CI build: its verdict, shards, what changed since the base run, and its tests by outcome. */
export function RunDetailPage() {
  const { id } = useParams({ from: "/runs/$id" });
  const run = useQuery(trpc.run.get.queryOptions({ id, limit: 1 }));
  const comparison = useQuery(trpc.run.compare.queryOptions({ runId: id, limit: 50 }));
  const groups = useQuery(trpc.health.failureGroups.queryOptions({ runId: id, limit: 50 }));
  const failure = run.error ?? comparison.error;
  const details = run.data;
  const counts: Record<RunOutcome, number> | undefined = details && {
    // A quarantined failure is a failed outcome, counted apart so it does not fail the run.
    failed: details.failed + details.quarantined,
    flaky: details.flaky,
    skipped: details.skipped,
    passed: details.passed,
    all: details.tests,
  };

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
      {details && <DeleteRun runId={id} tests={details.tests} />}
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
      <RunTests runId={id} counts={counts} />
    </section>
  );
}

type RunTestItem = RouterOutputs["run"]["get"]["testsPage"]["items"][number];

/** One test of the run; memoised, so scrolling renders only the rows that come into view. */
const RunTestRow = memo(function RunTestRow({
  index,
  test,
  measure,
}: {
  index: number;
  test: RunTestItem;
  measure: (row: HTMLTableRowElement | null) => void;
}) {
  const error = firstLine(test.errorMessage);
  return (
    <tr
      data-index={index}
      data-test-case-id={test.testCaseId}
      aria-rowindex={index + 2}
      ref={measure}
    >
      <td>
        <Link to="/executions/$id" params={{ id: test.executionId }}>
          {test.title}
        </Link>{" "}
        {test.quarantined && <span className="badge badge-quarantined">quarantined</span>}{" "}
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
      <td title={error || undefined}>{error}</td>
    </tr>
  );
});

/** Rows fetched per page as the table scrolls: the most the server sends at once. */
const TESTS_PAGE_SIZE = 100;
/** A row's height in pixels (one line: long titles and errors are cut with an ellipsis). */
const ROW_HEIGHT = 39;
/** Fetch the next page when the last rendered row is this close to the end of those loaded. */
const PREFETCH_ROWS = 30;
/** Typing settles this long before the search goes to the address and the server. */
const SEARCH_DELAY_MS = 250;

/**
 * The run's tests of one outcome (or all), searched by title on the server, in a virtualised
 * table: only the rows in view are in the page, and the next page loads by cursor as the end
 * of the loaded ones scrolls near. Outcome and search live in the address.
 */
function RunTests({
  runId,
  counts,
}: {
  runId: number;
  counts: Record<RunOutcome, number> | undefined;
}) {
  const { outcome = "failed", search } = useSearch({ from: "/runs/$id" });
  const navigate = useNavigate({ from: "/runs/$id" });
  const [draft, setDraft] = useState(search ?? "");
  const scrollRef = useRef<HTMLDivElement>(null);

  // Back and forward change the address: the box shows what it now says.
  useEffect(
    () => setDraft((typed) => ((typed.trim() || undefined) === search ? typed : (search ?? ""))),
    [search],
  );
  useEffect(() => {
    const wanted = draft.trim() || undefined;
    if (wanted === search) return;
    const timer = setTimeout(
      () => navigate({ search: (previous) => ({ ...previous, search: wanted }), replace: true }),
      SEARCH_DELAY_MS,
    );
    return () => clearTimeout(timer);
  }, [draft, search, navigate]);

  const tests = useInfiniteQuery({
    ...trpc.run.get.infiniteQueryOptions(
      {
        id: runId,
        outcome: outcome === "all" ? undefined : outcome,
        search,
        limit: TESTS_PAGE_SIZE,
      },
      { getNextPageParam: (page) => page.testsPage.nextCursor ?? undefined },
    ),
    // A new search keeps the old rows on screen until its first page arrives.
    placeholderData: keepPreviousData,
  });
  const items = tests.data?.pages.flatMap((page) => page.testsPage.items) ?? [];
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (index) => items[index]?.testCaseId ?? index,
    overscan: 10,
  });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows[rows.length - 1]?.index ?? -1;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = tests;

  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= items.length - PREFETCH_ROWS) {
      void fetchNextPage();
    }
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastIndex, items.length]);
  useEffect(() => {
    // The bench's "rows rendered" moment (Performance API), once per page load.
    if (items.length > 0 && performance.getEntriesByName("run-tests-rendered").length === 0) {
      performance.mark("run-tests-rendered");
    }
  }, [items.length]);

  const chooseOutcome = (name: RunOutcome) => {
    scrollRef.current?.scrollTo({ top: 0 });
    navigate({ search: (previous) => ({ ...previous, outcome: name }), replace: true });
  };
  const paddingTop = rows[0]?.start ?? 0;
  const paddingBottom = virtualizer.getTotalSize() - (rows[rows.length - 1]?.end ?? 0);
  const total = search ? undefined : counts?.[outcome];

  return (
    <section aria-labelledby="tests-title">
      <h2 id="tests-title">Tests</h2>
      <div className="run-tests-controls">
        <div role="tablist" aria-label="Outcome">
          {RUN_OUTCOMES.map((name) => (
            <button
              key={name}
              type="button"
              role="tab"
              aria-selected={outcome === name}
              onClick={() => chooseOutcome(name)}
            >
              {name} ({counts?.[name] ?? 0})
            </button>
          ))}
        </div>
        <div className="field">
          <label htmlFor="run-tests-search">Search test titles</label>
          <input
            id="run-tests-search"
            type="search"
            value={draft}
            maxLength={RUN_SEARCH_MAX}
            onChange={(event) => setDraft(event.target.value)}
          />
        </div>
      </div>
      {tests.error && (
        <p role="alert" className="error">
          {errorMessage(tests.error)}
        </p>
      )}
      <p className="muted" role="status" data-testid="run-tests-status">
        {tests.isPending
          ? "Loading tests…"
          : items.length === 0
            ? search
              ? `No ${outcome === "all" ? "" : `${outcome} `}tests match “${search}”.`
              : `No ${outcome === "all" ? "" : `${outcome} `}tests.`
            : `${items.length}${total === undefined ? "" : ` of ${total}`} loaded${
                hasNextPage ? ", more load as you scroll" : ""
              }.`}
      </p>
      <div className="run-tests-scroll" ref={scrollRef}>
        {items.length > 0 && (
          <table className="run-tests" aria-rowcount={total === undefined ? -1 : total + 1}>
            <colgroup>
              <col className="col-test" />
              <col className="col-attempts" />
              <col className="col-duration" />
              <col />
            </colgroup>
            <thead>
              <tr aria-rowindex={1}>
                <th scope="col">Test</th>
                <th scope="col">Attempts</th>
                <th scope="col">Duration</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {paddingTop > 0 && (
                // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row, empty, is not focusable
                <tr aria-hidden="true" className="spacer">
                  <td colSpan={4} style={{ height: paddingTop }} />
                </tr>
              )}
              {rows.map((row) => {
                const test = items[row.index];
                return (
                  test && (
                    <RunTestRow
                      key={row.key}
                      index={row.index}
                      test={test}
                      measure={virtualizer.measureElement}
                    />
                  )
                );
              })}
              {paddingBottom > 0 && (
                // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row, empty, is not focusable
                <tr aria-hidden="true" className="spacer">
                  <td colSpan={4} style={{ height: paddingBottom }} />
                </tr>
              )}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
