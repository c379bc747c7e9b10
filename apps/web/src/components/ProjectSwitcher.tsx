import { skipToken, useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { trpc } from "../api";
import { useChooseProject, useProjectInput } from "../project";

const ALL_PROJECTS = "";

/**
 * Which project every page shows. Without a choice in the address, the personal project, or
 * for an admin every project ("All projects", the server's answer when no project is named).
 */
export function ProjectSwitcher({ admin }: { admin: boolean }) {
  const id = useId();
  const { projectId } = useProjectInput();
  const choose = useChooseProject();
  const me = useQuery(trpc.auth.me.queryOptions());
  const list = useQuery(trpc.project.list.queryOptions({ limit: 100 }));
  const projects = list.data?.items ?? [];
  const current = projectId ?? (admin ? undefined : me.data?.personalProjectId) ?? undefined;
  // A shared link may name a project beyond the list's first page: ask for that one by id.
  const unlisted =
    current !== undefined && list.data !== undefined && !projects.some((p) => p.id === current);
  const named = useQuery(trpc.project.get.queryOptions(unlisted ? { id: current } : skipToken));
  const value = current === undefined ? ALL_PROJECTS : String(current);
  const loading = !list.data || (!admin && !me.data);

  return (
    <span className="project-switcher">
      <label htmlFor={id}>Project</label>
      <select
        id={id}
        value={value}
        disabled={loading}
        onChange={(event) =>
          choose(event.target.value === ALL_PROJECTS ? undefined : Number(event.target.value))
        }
      >
        {(admin || loading) && (
          <option value={ALL_PROJECTS}>{admin ? "All projects" : "Loading…"}</option>
        )}
        {projects.map((project) => (
          <option key={project.id} value={project.id}>
            {project.name}
          </option>
        ))}
        {unlisted && <option value={current}>{named.data?.name ?? `Project #${current}`}</option>}
      </select>
    </span>
  );
}
