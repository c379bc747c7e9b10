import { useNavigate, useParams, useSearch } from "@tanstack/react-router";

/**
 * The chosen project as an input field: `{ projectId }` from the address (`?project=`), or
 * nothing for the server's default (the personal project; every project for an admin).
 */
export function useProjectInput(): { projectId?: number } {
  const { project } = useSearch({ from: "__root__" });
  return project === undefined ? {} : { projectId: project };
}

/**
 * Shows another project (undefined: the default). A list page stays and starts afresh (its
 * filters and page belonged to the other project); a page of one object opens the executions.
 */
export function useChooseProject(): (project: number | undefined) => void {
  const navigate = useNavigate();
  const params = useParams({ strict: false });
  const onObjectPage = Object.keys(params).length > 0;
  return (project) =>
    onObjectPage
      ? navigate({ to: "/executions", search: { project } })
      : navigate({ to: ".", search: { project } });
}
