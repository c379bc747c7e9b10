import { client, useLoad } from "../api";
import { ExecutionTable } from "../components/ExecutionTable";
import { Pagination } from "../components/Pagination";
import { formatPercent } from "../format";
import { Link, navigate, useLocation } from "../navigation";

const PAGE_SIZE = 25;

/** One test case: what it checks, and every run of it, newest first. */
export function TestCaseHistoryPage({ id }: { id: number }) {
  const location = useLocation();
  const skip = Math.max(0, Math.floor(Number(location.searchParams.get("skip")) || 0));
  const testCase = useLoad(
    () =>
      Promise.all([client.testCase.get.query({ id }), client.stats.get.query({ testCaseId: id })]),
    [id],
  );
  const history = useLoad(
    () => client.execution.history.query({ testCaseId: id, skip, limit: PAGE_SIZE }),
    [id, skip],
  );
  const error = testCase.error ?? history.error;
  const [details, stats] = testCase.data ?? [undefined, undefined];

  return (
    <section aria-labelledby="history-title">
      <p className="crumbs">
        <Link href="/executions">Executions</Link> / test case #{id}
      </p>
      <h1 id="history-title">{details ? details.title : `Test case #${id}`}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
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
      <h2>History</h2>
      {history.data && (
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
              navigate(`/test-cases/${id}${next > 0 ? `?skip=${next}` : ""}`, { replace: true })
            }
          />
        </>
      )}
    </section>
  );
}
