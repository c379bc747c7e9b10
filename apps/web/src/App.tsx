import { useQuery } from "@tanstack/react-query";
import { Link, Outlet } from "@tanstack/react-router";
import { useId, useSyncExternalStore } from "react";
import { client, trpc } from "./api";
import { SignInPage } from "./pages/SignIn";
import { chooseProject, useProjectInput } from "./project";
import { clearSession, currentSession, onSessionChange } from "./session";

/** Which project every page shows: the default one, or any the user is a member of. */
function ProjectSwitcher({ admin }: { admin: boolean }) {
  const id = useId();
  const { projectId } = useProjectInput();
  const projects = useQuery(trpc.project.list.queryOptions({ limit: 100 })).data?.items ?? [];
  return (
    <span className="project-switcher">
      <label htmlFor={id}>Project</label>
      <select
        id={id}
        value={projectId ?? ""}
        onChange={(event) => chooseProject(event.target.value ? Number(event.target.value) : null)}
      >
        <option value="">{admin ? "All projects" : "Personal (default)"}</option>
        {projects
          .filter((project) => admin || !project.personal)
          .map((project) => (
            <option key={project.id} value={project.id}>
              {project.name}
            </option>
          ))}
      </select>
    </span>
  );
}

/** The frame of every page: signed out, any address shows the sign-in form; then the page. */
export function App() {
  const session = useSyncExternalStore(onSessionChange, currentSession);
  if (!session) return <SignInPage />;

  const signOut = async () => {
    await client.auth.logout.mutate().catch(() => undefined);
    clearSession();
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/executions" className="brand">
          TestTrack
        </Link>
        <nav aria-label="Main">
          <Link
            to="/executions"
            activeOptions={{ exact: true, includeSearch: false }}
            activeProps={{ "aria-current": "page" }}
          >
            Executions
          </Link>
          <Link to="/runs" activeProps={{ "aria-current": "page" }}>
            Runs
          </Link>
          <Link to="/statistics" activeProps={{ "aria-current": "page" }}>
            Statistics
          </Link>
          <Link to="/projects" activeProps={{ "aria-current": "page" }}>
            Projects
          </Link>
        </nav>
        <ProjectSwitcher admin={session.user.role === "admin"} />
        <span className="who">
          {session.user.name} ({session.user.role})
        </span>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Outlet />
      </main>
    </>
  );
}
