import { type ChangeEvent, useId } from "react";
import { client, useLoad } from "../api";
import { ExecutionTable } from "../components/ExecutionTable";
import { Pagination } from "../components/Pagination";
import { RESULTS, STATUSES } from "../format";
import { navigate, useLocation } from "../navigation";

const FILTERS = ["status", "result", "browser", "environment", "testCaseId"] as const;
type Filter = (typeof FILTERS)[number];
const PAGE_SIZES = [10, 25, 50, 100];
const UNSPECIFIED = "unspecified";

/** Filters and paging live in the address bar: a filtered list can be bookmarked and shared. */
function readQuery(params: URLSearchParams) {
  const pick = <T extends string>(value: string | null, allowed: readonly T[]) =>
    allowed.find((option) => option === value);
  const text = (name: Filter) => params.get(name)?.trim() || undefined;
  const testCaseId = Number(params.get("testCaseId"));
  const limit = Number(params.get("limit"));
  return {
    status: pick(params.get("status"), STATUSES),
    result: pick(params.get("result"), RESULTS),
    browser: text("browser"),
    environment: text("environment"),
    testCaseId: Number.isSafeInteger(testCaseId) && testCaseId > 0 ? testCaseId : undefined,
    skip: Math.max(0, Math.floor(Number(params.get("skip")) || 0)),
    limit: PAGE_SIZES.includes(limit) ? limit : 25,
  };
}

export function ExecutionsPage() {
  const location = useLocation();
  const query = readQuery(location.searchParams);
  const list = useLoad(() => client.execution.list.query(query), [location.search]);
  const choices = useLoad(
    () => Promise.all([client.testCase.list.query({ limit: 100 }), client.stats.get.query({})]),
    [],
  );
  const [testCases, stats] = choices.data ?? [undefined, undefined];
  const labels = (counts: Record<string, number> | undefined) =>
    Object.keys(counts ?? {})
      .filter((name) => name !== UNSPECIFIED)
      .sort();

  const update = (changes: Record<string, string | undefined>) => {
    const params = new URLSearchParams(location.search);
    for (const [name, value] of Object.entries(changes)) {
      if (value) params.set(name, value);
      else params.delete(name);
    }
    const search = params.toString();
    navigate(`/executions${search ? `?${search}` : ""}`, { replace: true });
  };
  const onFilter = (name: Filter) => (event: ChangeEvent<HTMLSelectElement>) =>
    update({ [name]: event.target.value || undefined, skip: undefined });
  const active = FILTERS.some((name) => location.searchParams.get(name));

  return (
    <section aria-labelledby="executions-title">
      <h1 id="executions-title">Executions</h1>
      <form className="filters" aria-label="Filter executions" onSubmit={(e) => e.preventDefault()}>
        <FilterSelect label="Status" value={query.status} onChange={onFilter("status")}>
          {STATUSES}
        </FilterSelect>
        <FilterSelect label="Result" value={query.result} onChange={onFilter("result")}>
          {RESULTS}
        </FilterSelect>
        <FilterSelect label="Browser" value={query.browser} onChange={onFilter("browser")}>
          {withCurrent(labels(stats?.byBrowser), query.browser)}
        </FilterSelect>
        <FilterSelect
          label="Environment"
          value={query.environment}
          onChange={onFilter("environment")}
        >
          {withCurrent(labels(stats?.byEnvironment), query.environment)}
        </FilterSelect>
        <FilterSelect
          label="Test case"
          value={query.testCaseId === undefined ? undefined : String(query.testCaseId)}
          onChange={onFilter("testCaseId")}
          optionLabel={(id) => testCases?.items.find((t) => String(t.id) === id)?.title ?? `#${id}`}
        >
          {withCurrent(
            (testCases?.items ?? []).map((testCase) => String(testCase.id)),
            query.testCaseId === undefined ? undefined : String(query.testCaseId),
          )}
        </FilterSelect>
        <FilterSelect
          label="Per page"
          value={String(query.limit)}
          onChange={(event) => update({ limit: event.target.value, skip: undefined })}
          allowAll={false}
        >
          {PAGE_SIZES.map(String)}
        </FilterSelect>
        {active && (
          <button
            type="button"
            className="secondary"
            onClick={() =>
              update(Object.fromEntries(FILTERS.map((name) => [name, undefined] as const)))
            }
          >
            Clear filters
          </button>
        )}
      </form>
      {list.error && (
        <p role="alert" className="error">
          {list.error}
        </p>
      )}
      {list.data && (
        <>
          <p className="summary" aria-live="polite" data-testid="execution-count">
            {list.data.total} {list.data.total === 1 ? "execution" : "executions"}
            {active ? " match these filters" : ""}
          </p>
          <ExecutionTable
            items={list.data.items}
            caption="Newest first; click a column to sort the rows on this page."
          />
          <Pagination
            label="Execution pages"
            skip={list.data.skip}
            limit={list.data.limit}
            total={list.data.total}
            onChange={(skip) => update({ skip: skip > 0 ? String(skip) : undefined })}
          />
        </>
      )}
      {list.loading && !list.data && <p className="muted">Loading executions…</p>}
    </section>
  );
}

function withCurrent(options: string[], current: string | undefined): string[] {
  return current && !options.includes(current) ? [...options, current] : options;
}

function FilterSelect(props: {
  label: string;
  value: string | undefined;
  onChange: (event: ChangeEvent<HTMLSelectElement>) => void;
  children: readonly string[];
  optionLabel?: (value: string) => string;
  allowAll?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value ?? ""} onChange={props.onChange}>
        {props.allowAll !== false && <option value="">All</option>}
        {props.children.map((value) => (
          <option key={value} value={value}>
            {props.optionLabel?.(value) ?? value}
          </option>
        ))}
      </select>
    </div>
  );
}
