import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { useId } from "react";
import { errorMessage, trpc } from "../api";
import { formatDateTime } from "../format";
import { useProjectInput } from "../project";

const TABS = [
  ["flaky", "Flaky tests"],
  ["groups", "Failure groups"],
  ["quarantine", "Quarantine"],
] as const;
type Tab = (typeof TABS)[number][0];
const WINDOWS = [7, 14, 30, 90] as const;

/** The health page's tab and window, as the address bar holds them. */
export interface HealthSearch {
  tab?: Tab;
  window?: number;
}

export function validateHealthSearch(search: Record<string, unknown>): HealthSearch {
  const window = Number(search.window);
  return {
    tab: TABS.map(([tab]) => tab).find((tab) => tab === search.tab),
    window: WINDOWS.find((days) => days === window),
  };
}

const firstLine = (text: string) => text.split("\n").find((l) => l.trim()) ?? "";
const PAGE_SIZE = 50;

/** Can I trust this failure: the project's flaky tests, failure groups and quarantine. */
export function HealthPage() {
  const search = useSearch({ from: "/health" });
  const navigate = useNavigate({ from: "/health" });
  const tab = search.tab ?? "flaky";
  return (
    <section aria-labelledby="health-page-title">
      <h1 id="health-page-title">Test health</h1>
      <div role="tablist" aria-label="Health">
        {TABS.map(([name, title]) => (
          <button
            key={name}
            type="button"
            role="tab"
            aria-selected={tab === name}
            onClick={() =>
              navigate({
                search: (previous) => ({ ...previous, tab: name === "flaky" ? undefined : name }),
                replace: true,
              })
            }
          >
            {title}
          </button>
        ))}
      </div>
      {tab === "flaky" && <FlakyTests window={search.window ?? 14} />}
      {tab === "groups" && <FailureGroups />}
      {tab === "quarantine" && <Quarantine />}
    </section>
  );
}

function LoadMore({
  query,
}: {
  query: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown };
}) {
  if (!query.hasNextPage) return null;
  return (
    <button type="button" onClick={() => query.fetchNextPage()} disabled={query.isFetchingNextPage}>
      {query.isFetchingNextPage ? "Loading…" : "Load more"}
    </button>
  );
}

function FlakyTests({ window }: { window: number }) {
  const navigate = useNavigate({ from: "/health" });
  const windowId = useId();
  const flaky = useInfiniteQuery(
    trpc.health.flaky.infiniteQueryOptions(
      { ...useProjectInput(), window, limit: PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = flaky.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="flaky-title">
      <h2 id="flaky-title">Flaky tests</h2>
      <p className="muted">
        Flaky: passed on a retry in a run, passed and failed on one commit, or flipped between
        passing and failing in at least a fifth of 10+ default-branch outcomes.
      </p>
      <form className="filters" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor={windowId}>Window</label>
        <select
          id={windowId}
          value={window}
          onChange={(event) =>
            navigate({
              search: (previous) => ({
                ...previous,
                window: Number(event.target.value) === 14 ? undefined : Number(event.target.value),
              }),
              replace: true,
            })
          }
        >
          {WINDOWS.map((days) => (
            <option key={days} value={days}>
              last {days} days
            </option>
          ))}
        </select>
      </form>
      {flaky.error && (
        <p role="alert" className="error">
          {errorMessage(flaky.error)}
        </p>
      )}
      {flaky.isSuccess && items.length === 0 && (
        <p className="muted">No flaky tests in the last {window} days.</p>
      )}
      {items.length > 0 && (
        <table className="flaky-tests">
          <thead>
            <tr>
              <th scope="col">Test</th>
              <th scope="col">Passed on retry</th>
              <th scope="col">Commits with both</th>
              <th scope="col">Flip rate</th>
              <th scope="col">Last failure</th>
            </tr>
          </thead>
          <tbody>
            {items.map((test) => (
              <tr key={test.testCaseId}>
                <td>
                  <Link to="/test-cases/$id" params={{ id: test.testCaseId }}>
                    {test.title}
                  </Link>{" "}
                  {test.quarantined && <span className="badge badge-quarantined">quarantined</span>}
                </td>
                <td>
                  {test.flakyRuns}
                  {test.evidence.runs.map((run) => (
                    <span key={run.runId}>
                      {" "}
                      <Link to="/runs/$id" params={{ id: run.runId }}>
                        #{run.runId}
                      </Link>
                    </span>
                  ))}
                </td>
                <td>
                  {test.flakyCommits}
                  {test.evidence.commits.map((commit) => (
                    <span key={commit.commitSha}>
                      {" "}
                      <code>{commit.commitSha.slice(0, 7)}</code>
                    </span>
                  ))}
                </td>
                <td>
                  {test.flipRate === null
                    ? "—"
                    : `${test.flipRate.toFixed(2)} (${test.flips}/${test.branchOutcomes - 1})`}
                </td>
                <td>{formatDateTime(test.lastFailureAt ? String(test.lastFailureAt) : null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore query={flaky} />
    </section>
  );
}

function FailureGroups() {
  const groups = useInfiniteQuery(
    trpc.health.failureGroups.infiniteQueryOptions(
      { ...useProjectInput(), limit: PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = groups.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="groups-page-title">
      <h2 id="groups-page-title">Failure groups</h2>
      <p className="muted">
        Failures with the same message (numbers, ids, times and paths aside) and the same first
        stack frame in your code, most recently seen first.
      </p>
      {groups.error && (
        <p role="alert" className="error">
          {errorMessage(groups.error)}
        </p>
      )}
      {groups.isSuccess && items.length === 0 && <p className="muted">No failures recorded.</p>}
      {items.length > 0 && (
        <ul className="failure-groups">
          {items.map((group) => (
            <li key={group.fingerprint} data-fingerprint={group.fingerprint}>
              <code>{firstLine(group.sampleMessage)}</code> — {group.occurrences} failure
              {group.occurrences === 1 ? "" : "s"} in {group.tests} test
              {group.tests === 1 ? "" : "s"}:{" "}
              {group.sampleTests.map((test, index) => (
                <span key={test.testCaseId}>
                  {index > 0 && ", "}
                  <Link to="/test-cases/$id" params={{ id: test.testCaseId }}>
                    {test.title}
                  </Link>
                </span>
              ))}
              . First seen {formatDateTime(String(group.firstSeenAt))}
              {group.firstRunId !== null && (
                <>
                  {" "}
                  in{" "}
                  <Link to="/runs/$id" params={{ id: group.firstRunId }}>
                    run #{group.firstRunId}
                  </Link>
                </>
              )}
              , last {formatDateTime(String(group.lastSeenAt))}.
            </li>
          ))}
        </ul>
      )}
      <LoadMore query={groups} />
    </section>
  );
}

function Quarantine() {
  const entries = useInfiniteQuery(
    trpc.quarantine.list.infiniteQueryOptions(
      { ...useProjectInput(), includeExpired: true, limit: PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = entries.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="quarantine-page-title">
      <h2 id="quarantine-page-title">Quarantine</h2>
      <p className="muted">
        Quarantined tests still run and record; their failures fail neither a run nor{" "}
        <code>testtrack run summary --fail-on</code>. Quarantine a test from its page.
      </p>
      {entries.error && (
        <p role="alert" className="error">
          {errorMessage(entries.error)}
        </p>
      )}
      {entries.isSuccess && items.length === 0 && <p className="muted">No quarantined tests.</p>}
      {items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Test</th>
              <th scope="col">Reason</th>
              <th scope="col">Since</th>
              <th scope="col">Until</th>
            </tr>
          </thead>
          <tbody>
            {items.map((entry) => (
              <tr key={entry.testCaseId}>
                <td>
                  <Link to="/test-cases/$id" params={{ id: entry.testCaseId }}>
                    {entry.title}
                  </Link>{" "}
                  {entry.active ? (
                    <span className="badge badge-quarantined">quarantined</span>
                  ) : (
                    <span className="badge badge-cancelled">expired</span>
                  )}
                </td>
                <td>{entry.reason}</td>
                <td>
                  {formatDateTime(String(entry.createdAt))}
                  {entry.createdBy ? ` by ${entry.createdBy.email}` : ""}
                </td>
                <td>
                  {entry.expiresAt ? formatDateTime(String(entry.expiresAt)) : "removed by hand"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore query={entries} />
    </section>
  );
}
