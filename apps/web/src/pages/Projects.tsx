import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { type FormEvent, useId, useState } from "react";
import { errorMessage, trpc } from "../api";
import { chooseProject } from "../project";

/** The projects the user may see (newest first), and a form to create one. */
export function ProjectsPage() {
  const queryClient = useQueryClient();
  const slugId = useId();
  const nameId = useId();
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const projects = useInfiniteQuery(
    trpc.project.list.infiniteQueryOptions(
      { limit: 50 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const create = useMutation(
    trpc.project.create.mutationOptions({
      onSuccess: async (project) => {
        setSlug("");
        setName("");
        await queryClient.invalidateQueries({ queryKey: trpc.project.list.pathKey() });
        chooseProject(project.id);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ slug, name });
  };
  const items = projects.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <section aria-labelledby="projects-title">
      <h1 id="projects-title">Projects</h1>
      {projects.error && (
        <p role="alert" className="error">
          {errorMessage(projects.error)}
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
            </tr>
          </thead>
          <tbody>
            {items.map((project) => (
              <tr key={project.id}>
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
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {projects.hasNextPage && (
        <button type="button" onClick={() => projects.fetchNextPage()}>
          Load more
        </button>
      )}
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
    </section>
  );
}
