import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { errorMessage, trpc } from "../api";
import { ExecutionTable } from "../components/ExecutionTable";
import { Pagination } from "../components/Pagination";
import { formatDuration, formatPercent } from "../format";
import { useProjectInput } from "../project";

const PAGE_SIZE = 25;

/** One test case: what it checks, and every run of it, newest first. */
export function TestCaseHistoryPage() {
  const { id } = useParams({ from: "/test-cases/$id" });
  const skip = useSearch({ from: "/test-cases/$id" }).skip ?? 0;
  const navigate = useNavigate({ from: "/test-cases/$id" });
  const project = useProjectInput();
  const testCase = useQuery(trpc.testCase.get.queryOptions({ id }));
  const health = useQuery(trpc.health.test.queryOptions({ testCaseId: id, limit: 50 })).data;
  const caseStats = useQuery(trpc.stats.get.queryOptions({ ...project, testCaseId: id }));
  const history = useQuery({
    ...trpc.execution.history.queryOptions({ ...project, testCaseId: id, skip, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  const details = testCase.data;
  // A link naming another project than the test case's: its history is not in that project.
  const elsewhere =
    details !== undefined &&
    project.projectId !== undefined &&
    details.projectId !== project.projectId;
  const failure = testCase.error ?? (elsewhere ? null : (caseStats.error ?? history.error));
  const error = failure ? errorMessage(failure) : undefined;
  const stats = elsewhere ? undefined : caseStats.data;

  return (
    <section aria-labelledby="history-title">
      <p className="crumbs">
        <Link to="/executions">Executions</Link> / test case #{id}
      </p>
      <h1 id="history-title">{details ? details.title : `Test case #${id}`}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {details && elsewhere && (
        <p className="muted">
          This test case belongs to another project than the one chosen.{" "}
          <Link
            to="/test-cases/$id"
            params={{ id }}
            search={(previous) => ({ ...previous, project: details.projectId })}
          >
            Show it in its own project
          </Link>
        </p>
      )}
      {details && (
        <div className="case">
          {details.description && <p>{details.description}</p>}
          {details.tags.length > 0 && (
            <p>
              {details.tags.map((tag) => (
                <span key={tag} className="tag">
                  {tag}
                </span>
              ))}
            </p>
          )}
          {details.steps.length > 0 && (
            <details>
              <summary>Planned steps ({details.steps.length})</summary>
              <ol>
                {details.steps.map((step) => (
                  <li key={`${step.description}-${step.expectedResult ?? ""}`}>
                    {step.description}
                    {step.expectedResult ? ` → ${step.expectedResult}` : ""}
                  </li>
                ))}
              </ol>
            </details>
          )}
        </div>
      )}
      {stats && (
        <ul className="cards" aria-label="Test case summary">
          <li>
            <span className="card-value">{stats.totalExecutions}</span> runs
          </li>
          <li>
            <span className="card-value">{formatPercent(stats.passRate)}</span> pass rate
          </li>
          <li>
            <span className="card-value">{stats.executionsLast7d}</span> in the last 7 days
          </li>
        </ul>
      )}
      {health && health.outcomes.length > 0 && (
        <section aria-labelledby="health-title">
          <h2 id="health-title">Health</h2>
          <ol className="strip" aria-label="Latest outcomes, oldest first">
            {[...health.outcomes].reverse().map((outcome) => (
              <li key={outcome.executionId}>
                <Link
                  to="/executions/$id"
                  params={{ id: outcome.executionId }}
                  className={`tick tick-${outcome.result ?? "none"}`}
                  title={`#${outcome.executionId}: ${outcome.result ?? "no result"}`}
                >
                  {outcome.result ?? "—"}
                </Link>
              </li>
            ))}
          </ol>
          <p>
            Last {health.outcomes.length}: {health.passRate === null ? "—" : `${health.passRate}%`}{" "}
            passed; median {formatDuration(health.medianDurationSeconds)}, p95{" "}
            {formatDuration(health.p95DurationSeconds)}.
            {health.flakyRuns.length > 0 &&
              ` Flaky in ${health.flakyRuns.length} run${health.flakyRuns.length === 1 ? "" : "s"} (passed on a retry).`}
          </p>
          {health.failureGroups.length > 0 && (
            <ul className="failure-groups" aria-label="Failure groups of this test">
              {health.failureGroups.map((group) => (
                <li key={group.fingerprint}>
                  <code>{group.sampleMessage.split("\n")[0]}</code> — {group.occurrences}×
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <h2>History</h2>
      {history.data && !elsewhere && (
        <>
          <ExecutionTable
            items={history.data.items}
            caption="Runs of this test case, newest first."
          />
          <Pagination
            label="History pages"
            skip={history.data.skip}
            limit={history.data.limit}
            total={history.data.total}
            onChange={(next) =>
              navigate({ search: { skip: next > 0 ? next : undefined }, replace: true })
            }
          />
        </>
      )}
    </section>
  );
}
