import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { type ChangeEvent, useId } from "react";
import { errorMessage, trpc } from "../api";
import { formatDateTime, formatDuration } from "../format";
import { useProjectInput } from "../project";

export const RUN_STATUSES = ["running", "passed", "failed", "cancelled", "timed_out"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The runs list's filters, as the address bar holds them. */
export interface RunsSearch {
  branch?: string;
  status?: RunStatus;
}

export function validateRunsSearch(search: Record<string, unknown>): RunsSearch {
  const branch = typeof search.branch === "string" ? search.branch.trim() : "";
  return {
    branch: branch || undefined,
    status: RUN_STATUSES.find((status) => status === search.status),
  };
}

/** A run's status as a colored label (the word always shown). */
export function RunBadge({ status }: { status: string }) {
  return <span className={`badge badge-run-${status}`}>{status.replace("_", " ")}</span>;
}

const PAGE_SIZE = 25;

/** CI builds newest first: their verdict and counts, paged by cursor ("Load more"). */
export function RunsPage() {
  const search = useSearch({ from: "/runs" });
  const navigate = useNavigate({ from: "/runs" });
  const branchId = useId();
  const statusId = useId();
  const input = {
    ...useProjectInput(),
    branch: search.branch,
    status: search.status,
    limit: PAGE_SIZE,
  };
  const runs = useInfiniteQuery(
    trpc.run.list.infiniteQueryOptions(input, {
      getNextPageParam: (page) => page.nextCursor ?? undefined,
    }),
  );
  const items = runs.data?.pages.flatMap((page) => page.items) ?? [];
  const update = (changes: Partial<RunsSearch>) =>
    navigate({ search: (previous) => ({ ...previous, ...changes }), replace: true });

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <p className="muted">One row per CI build: every shard and re-run of it joins one run.</p>
      <form className="filters" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor={branchId}>Branch</label>
        <input
          id={branchId}
          defaultValue={search.branch ?? ""}
          placeholder="any branch"
          onBlur={(event: ChangeEvent<HTMLInputElement>) =>
            update({ branch: event.target.value.trim() || undefined })
          }
        />
        <label htmlFor={statusId}>Status</label>
        <select
          id={statusId}
          value={search.status ?? ""}
          onChange={(event) =>
            update({ status: (event.target.value || undefined) as RunStatus | undefined })
          }
        >
          <option value="">any</option>
          {RUN_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status.replace("_", " ")}
            </option>
          ))}
        </select>
      </form>
      {runs.error && (
        <p role="alert" className="error">
          {errorMessage(runs.error)}
        </p>
      )}
      {runs.isPending && <p className="muted">Loading runs…</p>}
      {runs.isSuccess && items.length === 0 && <p className="muted">No runs yet.</p>}
      {items.length > 0 && (
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Run</th>
              <th scope="col">Branch</th>
              <th scope="col">Commit</th>
              <th scope="col">Tests</th>
              <th scope="col">Failed</th>
              <th scope="col">Flaky</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {items.map((run) => (
              <tr key={run.id}>
                <td>
                  <RunBadge status={run.status} />
                </td>
                <td>
                  <Link to="/runs/$id" params={{ id: run.id }}>
                    {run.name ?? run.key}
                  </Link>
                </td>
                <td>{run.branch ?? "—"}</td>
                <td>
                  <code>{run.commitSha?.slice(0, 7) ?? "—"}</code>
                </td>
                <td>{run.tests}</td>
                <td>{run.failed}</td>
                <td>{run.flaky}</td>
                <td>{formatDateTime(run.startedAt)}</td>
                <td>
                  {run.finishedAt
                    ? formatDuration(
                        (new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime()) /
                          1000,
                      )
                    : "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.hasNextPage && (
        <button
          type="button"
          onClick={() => runs.fetchNextPage()}
          disabled={runs.isFetchingNextPage}
        >
          {runs.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </section>
  );
}
