import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { client, type ExecutionListItem, errorMessage, type Statistics, trpc } from "../api";
import { formatDuration, formatPercent } from "../format";
import { useProjectInput } from "../project";
import { durationDistribution, passRateByDay } from "../trends";

/** The trend charts read the newest executions' rows: at most this many (three list pages). */
export const TREND_SAMPLE_SIZE = 300;
const PAGE = 100;

async function recentExecutions(project: {
  projectId?: number;
}): Promise<{ items: ExecutionListItem[]; total: number }> {
  const first = await client.execution.list.query({ ...project, skip: 0, limit: PAGE });
  const pages = Math.min(Math.ceil(first.total / PAGE), TREND_SAMPLE_SIZE / PAGE);
  const rest = await Promise.all(
    Array.from({ length: Math.max(0, pages - 1) }, (_, i) =>
      client.execution.list.query({ ...project, skip: (i + 1) * PAGE, limit: PAGE }),
    ),
  );
  return { items: [first, ...rest].flatMap((page) => page.items), total: first.total };
}

export function StatisticsPage() {
  const project = useProjectInput();
  const stats = useQuery(trpc.stats.get.queryOptions(project));
  // Three list pages read as one sample; keyed under the list's own key, so a change to the
  // executions (which invalidates execution.list) refreshes it too.
  const recent = useQuery({
    queryKey: [...trpc.execution.list.queryKey(), "trend-sample", project.projectId ?? null],
    queryFn: () => recentExecutions(project),
  });
  const failure = stats.error ?? recent.error;
  const error = failure ? errorMessage(failure) : undefined;
  return (
    <section aria-labelledby="stats-title">
      <h1 id="stats-title">Statistics</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {stats.data && <Overview stats={stats.data} />}
      {recent.data && <Trends items={recent.data.items} total={recent.data.total} />}
      {stats.data && <Breakdowns stats={stats.data} />}
      {stats.isPending && <p className="muted">Loading statistics…</p>}
    </section>
  );
}

function Overview({ stats }: { stats: Statistics }) {
  const cards: [string, string][] = [
    ["Executions", String(stats.totalExecutions)],
    ["Pass rate", formatPercent(stats.passRate)],
    ["Average duration", formatDuration(stats.averageDurationSeconds)],
    ["Total run time", `${stats.totalDurationHours.toFixed(2)} h`],
    ["Last 24 hours", String(stats.executionsLast24h)],
    ["Last 7 days", String(stats.executionsLast7d)],
    ["Last 30 days", String(stats.executionsLast30d)],
  ];
  return (
    <ul className="cards" aria-label="Overview">
      {cards.map(([label, value]) => (
        <li key={label} data-stat={label}>
          <span className="card-value">{value}</span>
          <span className="card-label">{label}</span>
        </li>
      ))}
    </ul>
  );
}

function Trends({ items, total }: { items: ExecutionListItem[]; total: number }) {
  const passRate = passRateByDay(items);
  const durations = durationDistribution(items);
  const sample =
    total > items.length
      ? `the ${items.length} most recent of ${total} executions`
      : `all ${items.length} executions`;
  return (
    <div className="charts">
      <figure className="chart" aria-labelledby="pass-rate-caption">
        <figcaption id="pass-rate-caption">
          <strong>Pass rate over time</strong> (per day, from {sample})
        </figcaption>
        {passRate.length === 0 ? (
          <p className="empty">No decided executions yet.</p>
        ) : (
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={passRate} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid stroke="#d4d9e2" strokeDasharray="3 3" />
              <XAxis dataKey="day" tick={{ fill: "#374151", fontSize: 12 }} />
              <YAxis domain={[0, 100]} unit="%" tick={{ fill: "#374151", fontSize: 12 }} />
              <Tooltip formatter={(value) => [`${value}%`, "Pass rate"]} />
              <Line
                type="monotone"
                dataKey="passRate"
                name="Pass rate"
                stroke="#15803d"
                strokeWidth={2}
                dot={{ r: 3 }}
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
        )}
      </figure>
      <figure className="chart" aria-labelledby="duration-caption">
        <figcaption id="duration-caption">
          <strong>Duration distribution</strong> (from {sample})
        </figcaption>
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={durations} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid stroke="#d4d9e2" strokeDasharray="3 3" />
            <XAxis dataKey="label" interval={0} tick={{ fill: "#374151", fontSize: 11 }} />
            <YAxis allowDecimals={false} tick={{ fill: "#374151", fontSize: 12 }} />
            <Tooltip formatter={(value) => [value, "Executions"]} />
            <Bar dataKey="count" name="Executions" fill="#1d4ed8" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </figure>
    </div>
  );
}

function Breakdowns({ stats }: { stats: Statistics }) {
  return (
    <>
      <div className="breakdowns">
        <Breakdown title="By status" counts={stats.byStatus} total={stats.totalExecutions} />
        <Breakdown title="By result" counts={stats.byResult} total={stats.totalExecutions} />
        <Breakdown title="By browser" counts={stats.byBrowser} total={stats.totalExecutions} />
        <Breakdown
          title="By environment"
          counts={stats.byEnvironment}
          total={stats.totalExecutions}
        />
      </div>
      <h2>Most executed tests</h2>
      {stats.mostExecutedTests.length === 0 ? (
        <p className="empty">Nothing has run yet.</p>
      ) : (
        <table className="most-executed">
          <thead>
            <tr>
              <th scope="col">Test case</th>
              <th scope="col">Runs</th>
            </tr>
          </thead>
          <tbody>
            {stats.mostExecutedTests.map((test) => (
              <tr key={test.testCaseId}>
                <td>
                  <Link to="/test-cases/$id" params={{ id: test.testCaseId }}>
                    {test.title}
                  </Link>
                </td>
                <td>{test.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Breakdown(props: { title: string; counts: Record<string, number>; total: number }) {
  const rows = Object.entries(props.counts).sort(([, a], [, b]) => b - a);
  return (
    <table className="breakdown">
      <caption>{props.title}</caption>
      <tbody>
        {rows.map(([name, count]) => (
          <tr key={name} data-key={name}>
            <th scope="row">{name}</th>
            <td className="count">{count}</td>
            <td className="bar-cell" aria-hidden="true">
              {count > 0 && (
                <span
                  className={`bar bar-${name}`}
                  style={{ width: `${(count / Math.max(props.total, 1)) * 100}%` }}
                />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
