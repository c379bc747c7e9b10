import { Link, Outlet } from "@tanstack/react-router";
import { useSyncExternalStore } from "react";
import { client } from "./api";
import { ProjectSwitcher } from "./components/ProjectSwitcher";
import { SignInPage } from "./pages/SignIn";
import { clearSession, currentSession, onSessionChange } from "./session";

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
          <Link to="/health" activeProps={{ "aria-current": "page" }}>
            Health
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
