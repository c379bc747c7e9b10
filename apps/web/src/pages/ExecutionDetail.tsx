import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { type ReactNode, useEffect, useState } from "react";
import {
  client,
  type ExecutionDetail,
  type ExecutionStep,
  errorMessage,
  handleAuthError,
  type StepsEvent,
  trpc,
} from "../api";
import { Artifacts } from "../components/Artifacts";
import { Badge } from "../components/Badge";
import { FINISHED_STATUSES, formatDateTime, formatDuration } from "../format";

type LiveState = "connecting" | "live" | "reconnecting" | "ended" | "failed";

function mergeSteps(kept: ExecutionStep[], arrived: ExecutionStep[]): ExecutionStep[] {
  const byNumber = new Map(kept.map((step) => [step.stepNumber, step]));
  for (const step of arrived) byNumber.set(step.stepNumber, step);
  return [...byNumber.values()].sort((a, b) => a.stepNumber - b.stepNumber);
}

/** The detail with a live event applied: the summary replaced, new steps added in step order. */
function applyEvent(detail: ExecutionDetail, event: StepsEvent): ExecutionDetail {
  return { ...detail, ...event.execution, steps: mergeSteps(detail.steps, event.steps) };
}

/** A fresh read, keeping steps that arrived live while it was under way. */
function applyRead(current: ExecutionDetail | undefined, read: ExecutionDetail | undefined) {
  if (!read) return current;
  if (!current || current.id !== read.id) return read;
  const newer = read.updatedAt >= current.updatedAt ? read : { ...read, ...current };
  return { ...newer, steps: mergeSteps(current.steps, read.steps) };
}

/**
 * One execution. Its query is the page's single source: the first read, then every event of
 * `execution.onSteps` written into the query cache, and a fresh read (merged, so steps that
 * arrived meanwhile stay) when an event says more changed than it carries.
 */
export function ExecutionDetailPage() {
  const { id } = useParams({ from: "/executions/$id" });
  const queryClient = useQueryClient();
  const queryKey = trpc.execution.get.queryKey({ id });
  const loaded = useQuery({
    queryKey,
    queryFn: async () =>
      applyRead(queryClient.getQueryData(queryKey), await client.execution.get.query({ id })),
  });
  const detail = loaded.data;
  const [live, setLive] = useState<LiveState>("connecting");
  const [liveError, setLiveError] = useState<string | undefined>();

  const finished = !detail || FINISHED_STATUSES.includes(detail.status);
  const cursor = detail ? Math.max(0, ...detail.steps.map((step) => step.id)) : 0;
  // Subscribes once the first answer is in, from its last step on; nothing is missed between.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the cursor only seeds the subscription
  useEffect(() => {
    if (finished) return;
    setLive("connecting");
    const subscription = client.execution.onSteps.subscribe(
      { executionId: id, lastEventId: String(cursor) },
      {
        onData: ({ data }) => {
          setLive("live");
          const before = queryClient.getQueryData<ExecutionDetail>(queryKey);
          queryClient.setQueryData<ExecutionDetail>(queryKey, (current) =>
            current ? applyEvent(current, data) : current,
          );
          // A finish, a corrected step or an attached artifact changes more than an event
          // carries: read the whole execution again, and the lists that show it.
          const otherChange =
            data.steps.length === 0 && data.execution.updatedAt !== before?.updatedAt;
          if (otherChange || FINISHED_STATUSES.includes(data.execution.status)) {
            void queryClient.invalidateQueries({ queryKey });
            void queryClient.invalidateQueries({ queryKey: trpc.execution.list.queryKey() });
          }
        },
        onConnectionStateChange: (state) => {
          if (state.state === "pending") setLive("live");
          if (state.state === "connecting" && state.error) setLive("reconnecting");
        },
        onError: (error) => {
          handleAuthError(error);
          setLive("failed");
          setLiveError(errorMessage(error));
        },
        onComplete: () => setLive("ended"),
      },
    );
    return () => subscription.unsubscribe();
  }, [id, finished]);

  if (loaded.error && !detail) {
    return (
      <section>
        <h1>Execution #{id}</h1>
        <p role="alert" className="error">
          {errorMessage(loaded.error)}
        </p>
        <Link to="/executions">Back to executions</Link>
      </section>
    );
  }
  if (!detail) return <p className="muted">Loading execution #{id}…</p>;

  return (
    <section aria-labelledby="execution-title" className="detail">
      <p className="crumbs">
        <Link to="/executions">Executions</Link> / #{detail.id}
      </p>
      <h1 id="execution-title">
        Execution #{detail.id}: {detail.testCaseTitle}
      </h1>
      <div className="headline">
        <Badge kind="status" value={detail.status} />
        <Badge kind="result" value={detail.result} />
        <LiveIndicator state={finished ? "ended" : live} error={liveError} />
      </div>
      <dl className="facts">
        <Fact label="Test case">
          <Link to="/test-cases/$id" params={{ id: detail.testCaseId }}>
            {detail.testCaseTitle} (history)
          </Link>
        </Fact>
        <Fact label="Browser">{detail.browser ?? "—"}</Fact>
        <Fact label="Environment">{detail.environment ?? "—"}</Fact>
        <Fact label="Base URL">{detail.baseUrl ?? "—"}</Fact>
        <Fact label="Triggered by">
          {detail.triggeredBy}
          {detail.triggerDetails ? ` (${detail.triggerDetails})` : ""}
        </Fact>
        <Fact label="Started">{formatDateTime(detail.startedAt)}</Fact>
        <Fact label="Completed">{formatDateTime(detail.completedAt)}</Fact>
        <Fact label="Duration">{formatDuration(detail.durationSeconds)}</Fact>
        <Fact label="Steps">
          <span data-testid="step-summary">
            {detail.totalSteps} total · {detail.passedSteps} passed · {detail.failedSteps} failed ·{" "}
            {detail.skippedSteps} skipped
          </span>
        </Fact>
        <Fact label="Screenshot">
          <ArtifactLink path={detail.screenshotPath} />
        </Fact>
        <Fact label="Video">
          <ArtifactLink path={detail.videoPath} />
        </Fact>
      </dl>
      {detail.errorMessage && (
        <div className="failure">
          <h2>Error</h2>
          <pre>{detail.errorMessage}</pre>
        </div>
      )}
      {detail.consoleLog && (
        <details className="console">
          <summary>Console log</summary>
          <pre>{detail.consoleLog}</pre>
        </details>
      )}
      <Artifacts artifacts={detail.artifacts ?? []} />
      <h2 id="steps-title">Steps</h2>
      <ol className="steps" aria-labelledby="steps-title" aria-live="polite">
        {detail.steps.map((step) => (
          <StepItem key={step.id} step={step} />
        ))}
      </ol>
      {detail.steps.length === 0 && (
        <p className="empty">
          {finished ? "No steps were recorded." : "Waiting for the first step…"}
        </p>
      )}
    </section>
  );
}

function LiveIndicator({ state, error }: { state: LiveState; error: string | undefined }) {
  const text: Record<LiveState, string> = {
    connecting: "Connecting to live updates…",
    live: "Live: steps appear as they are recorded",
    reconnecting: "Connection lost; reconnecting…",
    ended: "Finished",
    failed: `Live updates stopped: ${error ?? "unknown error"}`,
  };
  return (
    <span className={`live live-${state}`} role="status">
      {state === "live" && <span className="pulse" aria-hidden="true" />}
      {text[state]}
    </span>
  );
}

function Fact(props: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

/** A link for web addresses; any other path (a file on the runner) is shown, not linked. */
function ArtifactLink({ path, label }: { path: string | null; label?: string }) {
  if (!path) return <span className="muted">—</span>;
  const isWebAddress = /^https?:\/\//i.test(path);
  const text = label ? `${label}: ${path}` : path;
  return isWebAddress ? (
    <a href={path} target="_blank" rel="noopener noreferrer">
      {text}
    </a>
  ) : (
    <code>{text}</code>
  );
}

function StepItem({ step }: { step: ExecutionStep }) {
  const screenshots = [
    ["screenshot", step.screenshotPath],
    ["before", step.screenshotBefore],
    ["after", step.screenshotAfter],
  ] as const;
  return (
    <li className={`step step-${step.result}`} data-step-number={step.stepNumber}>
      <div className="step-head">
        <span className="step-number">Step {step.stepNumber}</span>
        <span className="step-description">{step.stepDescription}</span>
        <Badge kind="result" value={step.result} />
        {step.isCritical && <span className="tag">critical</span>}
        {step.retryCount > 0 && <span className="tag">retried {step.retryCount}×</span>}
      </div>
      <dl className="step-facts">
        <Fact label="Expected">{step.expectedResult ?? "—"}</Fact>
        <Fact label="Actual">{step.actualResult ?? "—"}</Fact>
        <Fact label="Started">{formatDateTime(step.startedAt)}</Fact>
        <Fact label="Completed">{formatDateTime(step.completedAt)}</Fact>
        <Fact label="Duration">{formatDuration(step.durationSeconds)}</Fact>
        {screenshots.some(([, path]) => path) && (
          <Fact label="Screenshots">
            <ul className="links">
              {screenshots
                .filter(([, path]) => path)
                .map(([label, path]) => (
                  <li key={label}>
                    <ArtifactLink path={path} label={label} />
                  </li>
                ))}
            </ul>
          </Fact>
        )}
      </dl>
      {step.errorMessage && <pre className="step-error">{step.errorMessage}</pre>}
    </li>
  );
}
