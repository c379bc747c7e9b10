import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { RouterOutputs } from "@testtrack/client";
import { type FormEvent, useId, useState } from "react";
import { errorMessage, trpc } from "../api";
import { formatDateTime } from "../format";
import { useProjectInput } from "../project";

const EVENTS = [
  ["run.finished", "a run finishes"],
  ["test.new_failure", "a new failure group appears"],
  ["test.flaky", "a test becomes flaky"],
] as const;
type WebhookEvent = (typeof EVENTS)[number][0];

/** The project's webhooks and their deliveries: maintainers only (others see the refusal). */
export function WebhooksPage() {
  const project = useProjectInput();
  const webhooks = useQuery(trpc.webhook.list.queryOptions({ ...project, limit: 100 }));
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p className="muted">
        TestTrack POSTs this project's events to these addresses, signed with each webhook's secret
        (<code>X-TestTrack-Signature</code>), or as Slack messages. Failed deliveries are retried
        for about 8 hours.
      </p>
      {webhooks.error && (
        <p role="alert" className="error">
          {errorMessage(webhooks.error)}
        </p>
      )}
      {webhooks.data && (
        <>
          <CreateWebhook />
          {webhooks.data.items.length === 0 ? (
            <p className="muted">No webhooks yet.</p>
          ) : (
            <ul className="webhooks">
              {webhooks.data.items.map((hook) => (
                <WebhookItem key={hook.id} hook={hook} />
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

function useRefresh() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries(trpc.webhook.pathFilter());
}

function CreateWebhook() {
  const project = useProjectInput();
  const refresh = useRefresh();
  const urlId = useId();
  const formatId = useId();
  const branchId = useId();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>(["run.finished"]);
  const [format, setFormat] = useState<"json" | "slack">("json");
  const [onlyFailedRuns, setOnlyFailedRuns] = useState(false);
  const [branch, setBranch] = useState("");
  const create = useMutation(trpc.webhook.create.mutationOptions({ onSuccess: refresh }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      ...project,
      url,
      events,
      format,
      onlyFailedRuns,
      branch: branch.trim() || undefined,
    });
  };
  return (
    <form className="webhook-form" aria-label="Add a webhook" onSubmit={submit}>
      <h2>Add a webhook</h2>
      {create.error && (
        <p role="alert" className="error">
          {errorMessage(create.error)}
        </p>
      )}
      {create.data && (
        <p role="status">
          Added. Its secret, shown this once: <code>{create.data.secret}</code>
        </p>
      )}
      <label htmlFor={urlId}>URL</label>
      <input
        id={urlId}
        type="url"
        required
        value={url}
        placeholder="https://hooks.slack.com/services/…"
        onChange={(e) => setUrl(e.target.value)}
      />
      <fieldset>
        <legend>Send when</legend>
        {EVENTS.map(([name, label]) => (
          <label key={name}>
            <input
              type="checkbox"
              checked={events.includes(name)}
              onChange={(e) =>
                setEvents((current) =>
                  e.target.checked ? [...current, name] : current.filter((x) => x !== name),
                )
              }
            />{" "}
            {label}
          </label>
        ))}
      </fieldset>
      <label htmlFor={formatId}>Format</label>
      <select
        id={formatId}
        value={format}
        onChange={(e) => setFormat(e.target.value as "json" | "slack")}
      >
        <option value="json">JSON (signed)</option>
        <option value="slack">Slack message</option>
      </select>
      <label>
        <input
          type="checkbox"
          checked={onlyFailedRuns}
          onChange={(e) => setOnlyFailedRuns(e.target.checked)}
        />{" "}
        only runs that failed
      </label>
      <label htmlFor={branchId}>Only branch (optional)</label>
      <input id={branchId} value={branch} onChange={(e) => setBranch(e.target.value)} />
      <button type="submit" disabled={create.isPending || events.length === 0}>
        Add webhook
      </button>
    </form>
  );
}

type Hook = RouterOutputs["webhook"]["list"]["items"][number];

function WebhookItem({ hook }: { hook: Hook }) {
  const refresh = useRefresh();
  const [open, setOpen] = useState(false);
  const update = useMutation(trpc.webhook.update.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.webhook.delete.mutationOptions({ onSuccess: refresh }));
  const ping = useMutation(trpc.webhook.test.mutationOptions({ onSuccess: refresh }));
  const failure = update.error ?? remove.error ?? ping.error;
  return (
    <li data-webhook={hook.id}>
      <p>
        <code>{hook.url}</code> — {hook.events.join(", ")} as {hook.format}
        {hook.onlyFailedRuns && ", failed runs only"}
        {hook.branch && `, branch ${hook.branch}`}{" "}
        {hook.enabled ? (
          <span className="badge badge-pass">enabled</span>
        ) : (
          <span className="badge badge-cancelled">disabled</span>
        )}
      </p>
      {hook.disabledReason && <p className="error">{hook.disabledReason}</p>}
      {failure && (
        <p role="alert" className="error">
          {errorMessage(failure)}
        </p>
      )}
      <p>
        <button type="button" onClick={() => ping.mutate({ id: hook.id })}>
          Send a test
        </button>{" "}
        <button
          type="button"
          onClick={() => update.mutate({ id: hook.id, enabled: !hook.enabled })}
        >
          {hook.enabled ? "Disable" : "Enable"}
        </button>{" "}
        <button type="button" onClick={() => remove.mutate({ id: hook.id })}>
          Delete
        </button>{" "}
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          Deliveries
        </button>
      </p>
      {open && <Deliveries webhookId={hook.id} />}
    </li>
  );
}

function Deliveries({ webhookId }: { webhookId: number }) {
  const deliveries = useInfiniteQuery(
    trpc.webhook.deliveries.infiniteQueryOptions(
      { webhookId, limit: 20 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined, refetchInterval: 5_000 },
    ),
  );
  const items = deliveries.data?.pages.flatMap((page) => page.items) ?? [];
  if (deliveries.isSuccess && items.length === 0) return <p className="muted">No deliveries.</p>;
  return (
    <table className="deliveries">
      <caption>Deliveries, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last answer</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {items.map((delivery) => {
          const last = delivery.log[0];
          return (
            <tr key={delivery.id}>
              <td>{delivery.event}</td>
              <td>
                {delivery.status}
                {delivery.nextAttemptAt &&
                  `, next ${formatDateTime(String(delivery.nextAttemptAt))}`}
              </td>
              <td>{delivery.attempts}</td>
              <td>
                {last
                  ? `${last.statusCode ?? last.error ?? "—"} in ${last.durationMs} ms${last.response ? `: ${last.response.slice(0, 120)}` : ""}`
                  : "—"}
              </td>
              <td>{formatDateTime(String(delivery.createdAt))}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
