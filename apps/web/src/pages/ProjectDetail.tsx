import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { type FormEvent, useId, useState } from "react";
import { errorMessage, trpc } from "../api";

const ROLES = ["viewer", "member", "maintainer"] as const;
type Role = (typeof ROLES)[number];

/** One project: its settings and its members; only maintainers may change them. */
export function ProjectDetailPage() {
  const { id } = useParams({ from: "/projects/$id" });
  const queryClient = useQueryClient();
  const emailId = useId();
  const roleId = useId();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const project = useQuery(trpc.project.get.queryOptions({ id }));
  const members = useInfiniteQuery(
    trpc.project.members.infiniteQueryOptions(
      { projectId: id, limit: 50 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.project.members.pathKey() });
  const add = useMutation(
    trpc.project.addMember.mutationOptions({
      onSuccess: async () => {
        setEmail("");
        await refresh();
      },
    }),
  );
  const update = useMutation(trpc.project.updateMember.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.project.removeMember.mutationOptions({ onSuccess: refresh }));
  const maintainer = project.data?.role === "maintainer";
  const failure = project.error ?? members.error ?? add.error ?? update.error ?? remove.error;
  const items = members.data?.pages.flatMap((page) => page.items) ?? [];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({ projectId: id, email, role });
  };

  return (
    <section aria-labelledby="project-title">
      <p className="crumbs">
        <Link to="/projects">Projects</Link> / project #{id}
      </p>
      <h1 id="project-title">{project.data?.name ?? `Project #${id}`}</h1>
      {failure && (
        <p role="alert" className="error">
          {errorMessage(failure)}
        </p>
      )}
      {project.data && (
        <dl className="facts">
          <dt>Slug</dt>
          <dd>
            <code>{project.data.slug}</code>
          </dd>
          <dt>Default branch</dt>
          <dd>{project.data.defaultBranch}</dd>
          <dt>Retention</dt>
          <dd>
            {project.data.retentionDays ? `${project.data.retentionDays} days` : "instance default"}
          </dd>
          <dt>Your role</dt>
          <dd>{project.data.role}</dd>
        </dl>
      )}
      <h2>Members ({members.data?.pages[0]?.total ?? 0})</h2>
      <table className="members">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            {maintainer && <th scope="col">Remove</th>}
          </tr>
        </thead>
        <tbody>
          {items.map((member) => (
            <tr key={member.userId}>
              <td>{member.name}</td>
              <td>{member.email}</td>
              <td>
                {maintainer ? (
                  <select
                    aria-label={`Role of ${member.email}`}
                    value={member.role}
                    onChange={(event) =>
                      update.mutate({
                        projectId: id,
                        userId: member.userId,
                        role: event.target.value as Role,
                      })
                    }
                  >
                    {ROLES.map((name) => (
                      <option key={name} value={name}>
                        {name}
                      </option>
                    ))}
                  </select>
                ) : (
                  member.role
                )}
              </td>
              {maintainer && (
                <td>
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => remove.mutate({ projectId: id, userId: member.userId })}
                  >
                    Remove
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {members.hasNextPage && (
        <button type="button" onClick={() => members.fetchNextPage()}>
          Load more
        </button>
      )}
      {maintainer && (
        <form className="add-member" onSubmit={submit} aria-label="Add a member">
          <label htmlFor={emailId}>Email</label>
          <input
            id={emailId}
            type="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            required
          />
          <label htmlFor={roleId}>Role</label>
          <select
            id={roleId}
            value={role}
            onChange={(event) => setRole(event.target.value as Role)}
          >
            {ROLES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          <button type="submit" disabled={add.isPending}>
            Add member
          </button>
        </form>
      )}
    </section>
  );
}
