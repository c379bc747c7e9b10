import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "@tanstack/react-router";
import { type FormEvent, useId, useState } from "react";
import { errorMessage, type Project, type ProjectRole, trpc } from "../api";
import { formatDateTime } from "../format";
import { currentSession } from "../session";

const ROLES = ["viewer", "member", "maintainer"] as const satisfies readonly ProjectRole[];
const MEMBERS_PAGE_SIZE = 50;

/** Anything that changes a project changes what the switcher, the list and this page show. */
function useRefreshProjects() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries(trpc.project.pathFilter());
}

/** One project: its settings and members. Only maintainers (and admins) may change them. */
export function ProjectDetailPage() {
  const { id } = useParams({ from: "/projects/$id" });
  const project = useQuery(trpc.project.get.queryOptions({ id }));

  return (
    <section aria-labelledby="project-title">
      <p className="crumbs">
        <Link to="/projects">Projects</Link> / project #{id}
      </p>
      <h1 id="project-title">{project.data?.name ?? `Project #${id}`}</h1>
      {project.error && (
        <p role="alert" className="error">
          {errorMessage(project.error)}
        </p>
      )}
      {project.isPending && <p className="muted">Loading the project…</p>}
      {project.data && (
        <>
          <p>
            <Link to="/executions" search={{ project: id }}>
              Show this project's executions
            </Link>
            {project.data.role === "maintainer" && (
              <>
                {" · "}
                <Link to="/webhooks" search={{ project: id }}>
                  Webhooks
                </Link>
              </>
            )}
          </p>
          {project.data.role === "maintainer" ? (
            // Another project's page gets a fresh form; a save keeps what was typed (and shows it).
            <ProjectSettingsForm key={project.data.id} project={project.data} />
          ) : (
            <ProjectSettings project={project.data} />
          )}
          <Members project={project.data} />
        </>
      )}
    </section>
  );
}

function retention(days: number | null): string {
  return days === null ? "kept until the instance-wide horizon" : `${days} days`;
}

function artifactRetention(days: number | null): string {
  return days === null ? "as long as the execution" : `${days} days`;
}

/** A days field's value as the API takes it: empty is null (no limit). */
function daysOrNull(value: string): number | null {
  return value.trim() === "" ? null : Number(value);
}

function ProjectSettings({ project }: { project: Project }) {
  return (
    <dl className="facts" aria-label="Settings">
      <dt>Slug</dt>
      <dd>
        <code>{project.slug}</code>
      </dd>
      <dt>Default branch</dt>
      <dd>{project.defaultBranch}</dd>
      <dt>Retention</dt>
      <dd>{retention(project.retentionDays)}</dd>
      <dt>Artifacts of passed executions</dt>
      <dd>{artifactRetention(project.artifactRetentionDays.passed)}</dd>
      <dt>Artifacts of failed executions</dt>
      <dd>{artifactRetention(project.artifactRetentionDays.failed)}</dd>
      <dt>Your role</dt>
      <dd>{project.role}</dd>
    </dl>
  );
}

/** A number of days (1 to 3,650); empty means no limit. */
function DaysField(props: {
  label: string;
  value: string;
  placeholder: string;
  onChange: (value: string) => void;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        min={1}
        max={3650}
        step={1}
        value={props.value}
        placeholder={props.placeholder}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </div>
  );
}

function ProjectSettingsForm({ project }: { project: Project }) {
  const refresh = useRefreshProjects();
  const ids = { name: useId(), branch: useId() };
  const [name, setName] = useState(project.name);
  const [defaultBranch, setDefaultBranch] = useState(project.defaultBranch);
  const [retentionDays, setRetentionDays] = useState(
    project.retentionDays === null ? "" : String(project.retentionDays),
  );
  const [passedDays, setPassedDays] = useState(String(project.artifactRetentionDays.passed ?? ""));
  const [failedDays, setFailedDays] = useState(String(project.artifactRetentionDays.failed ?? ""));
  const save = useMutation(trpc.project.update.mutationOptions({ onSuccess: refresh }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      id: project.id,
      name,
      defaultBranch,
      retentionDays: daysOrNull(retentionDays),
      artifactRetentionDays: { passed: daysOrNull(passedDays), failed: daysOrNull(failedDays) },
    });
  };

  return (
    <form className="project-settings" onSubmit={submit} aria-label="Settings">
      <p className="muted">
        Slug <code>{project.slug}</code> · your role: {project.role}
      </p>
      <div className="field">
        <label htmlFor={ids.name}>Name</label>
        <input
          id={ids.name}
          value={name}
          onChange={(event) => setName(event.target.value)}
          required
        />
      </div>
      <div className="field">
        <label htmlFor={ids.branch}>Default branch</label>
        <input
          id={ids.branch}
          value={defaultBranch}
          onChange={(event) => setDefaultBranch(event.target.value)}
          required
        />
      </div>
      <DaysField
        label="Retention days"
        value={retentionDays}
        placeholder="instance horizon"
        onChange={setRetentionDays}
      />
      <DaysField
        label="Keep artifacts of passed executions (days)"
        value={passedDays}
        placeholder="as long as the execution"
        onChange={setPassedDays}
      />
      <DaysField
        label="Keep artifacts of failed executions (days)"
        value={failedDays}
        placeholder="as long as the execution"
        onChange={setFailedDays}
      />
      <button type="submit" disabled={save.isPending}>
        {save.isPending ? "Saving…" : "Save settings"}
      </button>
      {save.isSuccess && <span role="status">Saved.</span>}
      {save.error && (
        <p role="alert" className="error">
          {errorMessage(save.error)}
        </p>
      )}
    </form>
  );
}

/** The members by user id, paged by cursor; maintainers add, re-role and remove; anyone leaves. */
function Members({ project }: { project: Project }) {
  const refresh = useRefreshProjects();
  const navigate = useNavigate();
  const me = currentSession()?.user.id;
  const maintainer = project.role === "maintainer";
  const members = useInfiniteQuery(
    trpc.project.members.infiniteQueryOptions(
      { projectId: project.id, limit: MEMBERS_PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const change = useMutation(trpc.project.updateMember.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(
    trpc.project.removeMember.mutationOptions({
      onSuccess: async (removed) => {
        if (removed.userId !== me) return refresh();
        // Leaving: this project is no longer one to show.
        await navigate({
          to: "/projects",
          search: (previous) => ({
            ...previous,
            project: previous.project === project.id ? undefined : previous.project,
          }),
        });
        return refresh();
      },
    }),
  );
  const items = members.data?.pages.flatMap((page) => page.items) ?? [];
  const failure = members.error ?? change.error ?? remove.error;
  const busy = change.isPending || remove.isPending;

  return (
    <>
      <h2>Members ({members.data?.pages[0]?.total ?? "…"})</h2>
      {failure && (
        <p role="alert" className="error">
          {errorMessage(failure)}
        </p>
      )}
      <table className="members">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Member since</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((member) => (
            <tr key={member.userId} data-user-id={member.userId}>
              <td>{member.name}</td>
              <td>{member.email}</td>
              <td>
                {maintainer ? (
                  <select
                    aria-label={`Role of ${member.email}`}
                    value={member.role}
                    disabled={busy}
                    onChange={(event) =>
                      change.mutate({
                        projectId: project.id,
                        userId: member.userId,
                        role: event.target.value as ProjectRole,
                      })
                    }
                  >
                    {ROLES.map((role) => (
                      <option key={role} value={role}>
                        {role}
                      </option>
                    ))}
                  </select>
                ) : (
                  member.role
                )}
              </td>
              <td>{formatDateTime(member.createdAt)}</td>
              <td>
                {(maintainer || member.userId === me) && (
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy}
                    aria-label={
                      member.userId === me ? "Leave this project" : `Remove ${member.email}`
                    }
                    onClick={() => remove.mutate({ projectId: project.id, userId: member.userId })}
                  >
                    {member.userId === me ? "Leave" : "Remove"}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {members.hasNextPage && (
        <button
          type="button"
          className="secondary load-more"
          disabled={members.isFetchingNextPage}
          onClick={() => members.fetchNextPage()}
        >
          {members.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
      {maintainer && <AddMemberForm projectId={project.id} />}
    </>
  );
}

function AddMemberForm({ projectId }: { projectId: number }) {
  const refresh = useRefreshProjects();
  const emailId = useId();
  const roleId = useId();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<ProjectRole>("member");
  const add = useMutation(
    trpc.project.addMember.mutationOptions({
      onSuccess: async () => {
        setEmail("");
        await refresh();
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({ projectId, email, role });
  };

  return (
    <form className="add-member" onSubmit={submit} aria-labelledby={`${emailId}-title`}>
      <h2 id={`${emailId}-title`}>Add a member</h2>
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
        onChange={(event) => setRole(event.target.value as ProjectRole)}
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
      {add.error && (
        <p role="alert" className="error">
          {errorMessage(add.error)}
        </p>
      )}
    </form>
  );
}
