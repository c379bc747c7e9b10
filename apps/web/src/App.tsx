import { lazy, Suspense, useSyncExternalStore } from "react";
import { client } from "./api";
import { Link, useLocation } from "./navigation";
import { ExecutionDetailPage } from "./pages/ExecutionDetail";
import { ExecutionsPage } from "./pages/Executions";
import { SignInPage } from "./pages/SignIn";
import { TestCaseHistoryPage } from "./pages/TestCaseHistory";
import { clearSession, currentSession, onSessionChange } from "./session";

// The charting library is most of the bundle: load it when the statistics page is opened.
const StatisticsPage = lazy(() =>
  import("./pages/Statistics").then((module) => ({ default: module.StatisticsPage })),
);

type Route =
  | { page: "executions" }
  | { page: "execution"; id: number }
  | { page: "testCase"; id: number }
  | { page: "statistics" }
  | { page: "notFound" };

function routeOf(path: string): Route {
  if (path === "/" || path === "/executions") return { page: "executions" };
  if (path === "/statistics") return { page: "statistics" };
  const match = /^\/(executions|test-cases)\/(\d{1,10})$/.exec(path);
  if (match?.[2]) {
    const id = Number(match[2]);
    return match[1] === "executions" ? { page: "execution", id } : { page: "testCase", id };
  }
  return { page: "notFound" };
}

export function App() {
  const session = useSyncExternalStore(onSessionChange, currentSession);
  const location = useLocation();
  const route = routeOf(location.pathname);

  // Signed out, any address shows the sign-in form; once signed in, the page asked for.
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
        <Link href="/executions" className="brand">
          TestTrack
        </Link>
        <nav aria-label="Main">
          <Link href="/executions" aria-current={route.page === "executions" ? "page" : undefined}>
            Executions
          </Link>
          <Link href="/statistics" aria-current={route.page === "statistics" ? "page" : undefined}>
            Statistics
          </Link>
        </nav>
        <span className="who">
          {session.user.name} ({session.user.role})
        </span>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "executions":
      return <ExecutionsPage />;
    case "execution":
      return <ExecutionDetailPage key={route.id} id={route.id} />;
    case "testCase":
      return <TestCaseHistoryPage key={route.id} id={route.id} />;
    case "statistics":
      return (
        <Suspense fallback={<p className="muted">Loading statistics…</p>}>
          <StatisticsPage />
        </Suspense>
      );
    case "notFound":
      return (
        <section>
          <h1>Page not found</h1>
          <Link href="/executions">Go to the executions</Link>
        </section>
      );
  }
}
