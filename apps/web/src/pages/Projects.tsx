import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { type FormEvent, useId, useState } from "react";
import { errorMessage, trpc } from "../api";

const PAGE_SIZE = 50;

/** The projects the user may see (newest first, "Load more" for older ones), and a new one. */
export function ProjectsPage() {
  const projects = useInfiniteQuery(
    trpc.project.list.infiniteQueryOptions(
      { limit: PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = projects.data?.pages.flatMap((page) => page.items) ?? [];
  const total = projects.data?.pages[0]?.total;

  return (
    <section aria-labelledby="projects-title">
      <h1 id="projects-title">Projects</h1>
      {projects.error && (
        <p role="alert" className="error">
          {errorMessage(projects.error)}
        </p>
      )}
      {total !== undefined && (
        <p className="summary" data-testid="project-count">
          {total} {total === 1 ? "project" : "projects"}
        </p>
      )}
      {items.length > 0 && (
        <table className="projects">
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Slug</th>
              <th scope="col">Your role</th>
              <th scope="col">Default branch</th>
              <th scope="col">Results</th>
            </tr>
          </thead>
          <tbody>
            {items.map((project) => (
              <tr key={project.id} data-project-id={project.id}>
                <td>
                  <Link to="/projects/$id" params={{ id: project.id }}>
                    {project.name}
                  </Link>
                  {project.personal && <span className="tag">personal</span>}
                </td>
                <td>
                  <code>{project.slug}</code>
                </td>
                <td>{project.role}</td>
                <td>{project.defaultBranch}</td>
                <td>
                  <Link
                    to="/executions"
                    search={{ project: project.id }}
                    aria-label={`Executions of ${project.name}`}
                  >
                    Executions
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {projects.hasNextPage && (
        <button
          type="button"
          className="secondary load-more"
          disabled={projects.isFetchingNextPage}
          onClick={() => projects.fetchNextPage()}
        >
          {projects.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
      {projects.isPending && <p className="muted">Loading projects…</p>}
      <CreateProjectForm />
    </section>
  );
}

/** A new project; its creator becomes its maintainer, and the dashboard switches to it. */
function CreateProjectForm() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const slugId = useId();
  const nameId = useId();
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.project.create.mutationOptions({
      onSuccess: async (project) => {
        await queryClient.invalidateQueries(trpc.project.pathFilter());
        await navigate({
          to: "/projects/$id",
          params: { id: project.id },
          search: { project: project.id },
        });
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ slug, name });
  };

  return (
    <form className="create-project" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">New project</h2>
      <label htmlFor={slugId}>Slug</label>
      <input
        id={slugId}
        value={slug}
        onChange={(event) => setSlug(event.target.value)}
        placeholder="web-shop"
        required
      />
      <label htmlFor={nameId}>Name</label>
      <input
        id={nameId}
        value={name}
        onChange={(event) => setName(event.target.value)}
        placeholder="Web shop"
        required
      />
      <button type="submit" disabled={create.isPending}>
        Create project
      </button>
      {create.error && (
        <p role="alert" className="error">
          {errorMessage(create.error)}
        </p>
      )}
    </form>
  );
}
