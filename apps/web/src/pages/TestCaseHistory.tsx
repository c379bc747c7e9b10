import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import type { RouterOutputs } from "@testtrack/client";
import { type FormEvent, useId, useState } from "react";
import { errorMessage, trpc } from "../api";
import { ExecutionTable } from "../components/ExecutionTable";
import { Pagination } from "../components/Pagination";
import { formatDateTime, formatDuration, formatPercent } from "../format";
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
          </p>
          <FlakyEvidence health={health} />
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
      {health && <QuarantinePanel testCaseId={id} quarantine={health.quarantine} />}
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

type TestHealth = RouterOutputs["health"]["test"];

/** Flaky or not over the window, and why: the runs and commits that are the evidence. */
function FlakyEvidence({ health }: { health: TestHealth }) {
  const { window } = health;
  const regression = health.durationRegression;
  return (
    <div className="flaky-evidence">
      <p>
        {health.isFlaky ? (
          <span className="badge badge-flaky">flaky</span>
        ) : (
          <span className="badge badge-pass">not flaky</span>
        )}{" "}
        Last {window.days} days: {window.outcomes} outcome{window.outcomes === 1 ? "" : "s"} in
        finished runs, {window.passRate === null ? "—" : `${window.passRate}%`} passed
        {window.branchOutcomes > 1 &&
          `; flip rate ${(window.flipRate ?? 0).toFixed(2)} (${window.flips} flip${window.flips === 1 ? "" : "s"} over ${window.branchOutcomes} outcomes on the default branch)`}
        .{health.lastFailureAt && ` Last failed ${formatDateTime(String(health.lastFailureAt))}.`}
      </p>
      {(health.flakyRuns.length > 0 || window.flakyCommits.length > 0) && (
        <ul className="evidence" aria-label="Flaky evidence">
          {health.flakyRuns.map((run) => (
            <li key={`run-${run.runId}`}>
              Passed on a retry in{" "}
              <Link to="/runs/$id" params={{ id: run.runId }}>
                run {run.key}
              </Link>
              {run.branch ? ` (${run.branch})` : ""}
            </li>
          ))}
          {window.flakyCommits.map((commit) => (
            <li key={`commit-${commit.commitSha}`}>
              Passed {commit.passes}× and failed {commit.fails}× on commit{" "}
              <code>{commit.commitSha.slice(0, 12)}</code>:{" "}
              {commit.runIds.map((runId, index) => (
                <span key={runId}>
                  {index > 0 && ", "}
                  <Link to="/runs/$id" params={{ id: runId }}>
                    run #{runId}
                  </Link>
                </span>
              ))}
            </li>
          ))}
        </ul>
      )}
      {regression?.regressed && (
        <p className="error">
          Slower: {formatDuration(regression.durationSeconds)} in{" "}
          <Link to="/runs/$id" params={{ id: regression.runId }}>
            run #{regression.runId}
          </Link>{" "}
          against a median of {formatDuration(regression.baselineMedianSeconds)} before it.
        </p>
      )}
    </div>
  );
}

/**
 * The test's quarantine: why and until when, and (for maintainers; others get the server's
 * refusal) a form to quarantine it or take it out.
 */
function QuarantinePanel({
  testCaseId,
  quarantine,
}: {
  testCaseId: number;
  quarantine: TestHealth["quarantine"];
}) {
  const queryClient = useQueryClient();
  const reasonId = useId();
  const expiresId = useId();
  const [reason, setReason] = useState("");
  const [expires, setExpires] = useState("");
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.health.pathFilter()),
      queryClient.invalidateQueries(trpc.quarantine.pathFilter()),
    ]);
  const add = useMutation(
    trpc.quarantine.add.mutationOptions({
      onSuccess: async () => {
        setReason("");
        setExpires("");
        await refresh();
      },
    }),
  );
  const remove = useMutation(trpc.quarantine.remove.mutationOptions({ onSuccess: refresh }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({
      testCaseId,
      reason,
      // The end of the chosen day, in the browser's time zone.
      expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : undefined,
    });
  };
  const failure = add.error ?? remove.error;
  const active = quarantine?.active === true;
  return (
    <section aria-labelledby="quarantine-title">
      <h2 id="quarantine-title">Quarantine</h2>
      {failure && (
        <p role="alert" className="error">
          {errorMessage(failure)}
        </p>
      )}
      {active && quarantine ? (
        <p>
          <span className="badge badge-quarantined">quarantined</span> {quarantine.reason}
          {quarantine.expiresAt
            ? ` — until ${formatDateTime(String(quarantine.expiresAt))}`
            : " — until removed"}
          {quarantine.createdBy ? ` (by ${quarantine.createdBy.email})` : ""}. Its failures do not
          fail runs.{" "}
          <button
            type="button"
            onClick={() => remove.mutate({ testCaseId })}
            disabled={remove.isPending}
          >
            Remove from quarantine
          </button>
        </p>
      ) : (
        <form className="quarantine-form" onSubmit={submit}>
          {quarantine && !quarantine.active && (
            <p className="muted">
              Its quarantine ({quarantine.reason}) expired{" "}
              {formatDateTime(String(quarantine.expiresAt))}.
            </p>
          )}
          <label htmlFor={reasonId}>
            Reason
            <input
              id={reasonId}
              required
              maxLength={500}
              value={reason}
              placeholder="e.g. flaky since the CDN change, issue #123"
              onChange={(event) => setReason(event.target.value)}
            />
          </label>
          <label htmlFor={expiresId}>
            Until (optional)
            <input
              id={expiresId}
              type="date"
              value={expires}
              onChange={(event) => setExpires(event.target.value)}
            />
          </label>
          <button type="submit" disabled={add.isPending || reason.trim() === ""}>
            Quarantine
          </button>
        </form>
      )}
    </section>
  );
}
