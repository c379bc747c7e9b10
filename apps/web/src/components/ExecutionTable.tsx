import { Link, useNavigate } from "@tanstack/react-router";
import { type KeyboardEvent, useState } from "react";
import type { ExecutionListItem } from "../api";
import { formatDateTime, formatDuration } from "../format";
import { Badge } from "./Badge";

type SortKey =
  | "id"
  | "testCaseTitle"
  | "status"
  | "result"
  | "browser"
  | "environment"
  | "totalSteps"
  | "durationSeconds"
  | "createdAt";

interface Sort {
  key: SortKey;
  direction: "ascending" | "descending";
}

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: "id", label: "Run" },
  { key: "testCaseTitle", label: "Test case" },
  { key: "status", label: "Status" },
  { key: "result", label: "Result" },
  { key: "browser", label: "Browser" },
  { key: "environment", label: "Environment" },
  { key: "totalSteps", label: "Steps passed" },
  { key: "durationSeconds", label: "Duration" },
  { key: "createdAt", label: "Created" },
];

/** Sorts rows of the current page; empty values go last either way. */
function sorted(items: ExecutionListItem[], sort: Sort | null): ExecutionListItem[] {
  if (!sort) return items;
  const sign = sort.direction === "ascending" ? 1 : -1;
  return [...items].sort((a, b) => {
    const x = a[sort.key];
    const y = b[sort.key];
    if (x === y) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return (x < y ? -1 : 1) * sign;
  });
}

function moveFocus(event: KeyboardEvent<HTMLTableRowElement>, open: () => void) {
  const row = event.currentTarget;
  const target =
    event.key === "ArrowDown"
      ? row.nextElementSibling
      : event.key === "ArrowUp"
        ? row.previousElementSibling
        : null;
  if (event.key === "Enter") open();
  else if (target instanceof HTMLElement) target.focus();
  else return;
  event.preventDefault();
}

/**
 * Executions as a table. Rows are focusable: Tab or the arrow keys move between them and Enter
 * opens one. Column headers sort the rows shown (this page), not the whole list.
 */
export function ExecutionTable(props: { items: ExecutionListItem[]; caption: string }) {
  const [sort, setSort] = useState<Sort | null>(null);
  const navigate = useNavigate();
  const toggle = (key: SortKey) =>
    setSort((current) =>
      current?.key === key && current.direction === "ascending"
        ? { key, direction: "descending" }
        : { key, direction: "ascending" },
    );
  if (props.items.length === 0) {
    return <p className="empty">No executions match.</p>;
  }
  return (
    <div className="table-scroll">
      <table className="executions">
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {COLUMNS.map((column) => (
              <th
                key={column.key}
                scope="col"
                aria-sort={sort?.key === column.key ? sort.direction : undefined}
              >
                <button type="button" className="sort" onClick={() => toggle(column.key)}>
                  {column.label}
                  <span aria-hidden="true" className="sort-mark">
                    {sort?.key === column.key ? (sort.direction === "ascending" ? "▲" : "▼") : ""}
                  </span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted(props.items, sort).map((item) => {
            const open = () => navigate({ to: "/executions/$id", params: { id: item.id } });
            return (
              <tr
                key={item.id}
                tabIndex={0}
                data-execution-id={item.id}
                aria-label={`Execution ${item.id}: ${item.testCaseTitle}, ${item.status}`}
                onClick={open}
                onKeyDown={(event) => moveFocus(event, open)}
              >
                <td>
                  <Link to="/executions/$id" params={{ id: item.id }} tabIndex={-1}>
                    #{item.id}
                  </Link>
                </td>
                <td>{item.testCaseTitle}</td>
                <td>
                  <Badge kind="status" value={item.status} />
                </td>
                <td>
                  <Badge kind="result" value={item.result} />
                </td>
                <td>{item.browser ?? "—"}</td>
                <td>{item.environment ?? "—"}</td>
                <td>
                  {item.passedSteps}/{item.totalSteps}
                </td>
                <td>{formatDuration(item.durationSeconds)}</td>
                <td>{formatDateTime(item.createdAt)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
