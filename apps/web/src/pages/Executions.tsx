import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { type ChangeEvent, useId } from "react";
import { errorMessage, trpc } from "../api";
import { ExecutionTable } from "../components/ExecutionTable";
import { Pagination } from "../components/Pagination";
import { RESULTS, STATUSES } from "../format";
import { useProjectInput } from "../project";
import { type ExecutionsSearch, PAGE_SIZES } from "../search";

const FILTERS = ["status", "result", "browser", "environment", "testCaseId"] as const;
type Filter = (typeof FILTERS)[number];
const DEFAULT_PAGE_SIZE = 25;
const UNSPECIFIED = "unspecified";

/** Filters and paging live in the address bar: a filtered list can be bookmarked and shared. */
export function ExecutionsPage() {
  // `project` is every page's (the root route's): it reaches the server as `projectId`.
  const { project: _chosen, ...search } = useSearch({ from: "/executions" });
  const navigate = useNavigate({ from: "/executions" });
  const project = useProjectInput();
  const query = {
    ...search,
    ...project,
    skip: search.skip ?? 0,
    limit: search.limit ?? DEFAULT_PAGE_SIZE,
  };
  const list = useQuery({
    ...trpc.execution.list.queryOptions(query),
    placeholderData: keepPreviousData,
  });
  const testCases = useQuery(trpc.testCase.list.queryOptions({ ...project, limit: 100 })).data;
  const stats = useQuery(trpc.stats.get.queryOptions(project)).data;
  const labels = (counts: Record<string, number> | undefined) =>
    Object.keys(counts ?? {})
      .filter((name) => name !== UNSPECIFIED)
      .sort();

  const update = (changes: Partial<ExecutionsSearch>) =>
    navigate({ search: (previous) => ({ ...previous, ...changes }), replace: true });
  const onFilter = (name: Filter) => (event: ChangeEvent<HTMLSelectElement>) => {
    const value = event.target.value || undefined;
    update({ [name]: name === "testCaseId" && value ? Number(value) : value, skip: undefined });
  };
  const active = FILTERS.some((name) => search[name] !== undefined);

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
          onChange={(event) => update({ limit: Number(event.target.value), skip: undefined })}
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
          {errorMessage(list.error)}
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
            onChange={(skip) => update({ skip: skip > 0 ? skip : undefined })}
          />
        </>
      )}
      {list.isPending && <p className="muted">Loading executions…</p>}
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
