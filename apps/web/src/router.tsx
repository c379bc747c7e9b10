import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  lazyRouteComponent,
  notFound,
  redirect,
  retainSearchParams,
} from "@tanstack/react-router";
import { App } from "./App";
import { ExecutionDetailPage } from "./pages/ExecutionDetail";
import { ExecutionsPage } from "./pages/Executions";
import { HealthPage, validateHealthSearch } from "./pages/Health";
import { ProjectDetailPage } from "./pages/ProjectDetail";
import { ProjectsPage } from "./pages/Projects";
import { RunDetailPage } from "./pages/RunDetail";
import { RunsPage, validateRunsSearch } from "./pages/Runs";
import { TestCaseHistoryPage } from "./pages/TestCaseHistory";
import { WebhooksPage } from "./pages/Webhooks";
import {
  type ProjectSearch,
  positive,
  validateExecutionsSearch,
  validateProjectSearch,
  validateRunSearch,
} from "./search";

/** A path id: a positive int4, or the page is not found. */
function parseId({ id }: { id: string }): { id: number } {
  const parsed = /^\d{1,10}$/.test(id) ? Number(id) : Number.NaN;
  if (!(parsed > 0 && parsed <= 2_147_483_647)) throw notFound();
  return { id: parsed };
}

const rootRoute = createRootRoute({
  component: App,
  validateSearch: validateProjectSearch,
  // The chosen project follows every link and navigation until the switcher changes it.
  search: { middlewares: [retainSearchParams<ProjectSearch>(["project"])] },
  notFoundComponent: () => (
    <section>
      <h1>Page not found</h1>
      <Link to="/executions">Go to the executions</Link>
    </section>
  ),
});

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/",
  beforeLoad: () => {
    throw redirect({ to: "/executions", replace: true });
  },
});

const executionsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/executions",
  validateSearch: validateExecutionsSearch,
  component: ExecutionsPage,
});

const executionRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/executions/$id",
  params: { parse: parseId, stringify: ({ id }) => ({ id: String(id) }) },
  // Another execution is another page: its live state starts afresh.
  remountDeps: ({ params }) => params.id,
  component: ExecutionDetailPage,
});

const testCaseRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/test-cases/$id",
  params: { parse: parseId, stringify: ({ id }) => ({ id: String(id) }) },
  validateSearch: (search: Record<string, unknown>): { skip?: number } => ({
    skip: positive(search.skip),
  }),
  component: TestCaseHistoryPage,
});

const statisticsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/statistics",
  // The charting library is most of the bundle: load it when the statistics page is opened.
  component: lazyRouteComponent(() => import("./pages/Statistics"), "StatisticsPage"),
  pendingComponent: () => <p className="muted">Loading statistics…</p>,
});

const runsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/runs",
  validateSearch: validateRunsSearch,
  component: RunsPage,
});

const runRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/runs/$id",
  params: { parse: parseId, stringify: ({ id }) => ({ id: String(id) }) },
  validateSearch: validateRunSearch,
  component: RunDetailPage,
});

const healthRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/health",
  validateSearch: validateHealthSearch,
  component: HealthPage,
});

const webhooksRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/webhooks",
  component: WebhooksPage,
});

const projectsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/projects",
  component: ProjectsPage,
});

const projectRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/projects/$id",
  params: { parse: parseId, stringify: ({ id }) => ({ id: String(id) }) },
  component: ProjectDetailPage,
});

const routeTree = rootRoute.addChildren([
  indexRoute,
  executionsRoute,
  executionRoute,
  testCaseRoute,
  statisticsRoute,
  runsRoute,
  runRoute,
  healthRoute,
  webhooksRoute,
  projectsRoute,
  projectRoute,
]);

export const router = createRouter({ routeTree, scrollRestoration: true });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
