import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import {
  type AppRouter,
  createTestTrackClient,
  errorCode,
  isTransientError,
  type RouterOutputs,
} from "@testtrack/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { clearSession, currentSession, onSessionChange } from "./session";

/**
 * The SDK, talking to the server that served this page, as the signed-in user. Batched: a page
 * asks several things at once (statistics and three list pages) in one request.
 */
export const client = createTestTrackClient({
  url: `${window.location.origin}/trpc`,
  token: () => currentSession()?.token,
  batch: true,
});

export type ExecutionListItem = RouterOutputs["execution"]["list"]["items"][number];
export type ExecutionDetail = RouterOutputs["execution"]["get"];
export type ExecutionStep = ExecutionDetail["steps"][number];
export type Statistics = RouterOutputs["stats"]["get"];
export type StepsEvent = RouterOutputs["execution"]["onSteps"]["data"];
export type Project = RouterOutputs["project"]["get"];
export type ProjectRole = Project["role"];

/** A sentence for a person: the server's message, or what went wrong with the connection. */
export function errorMessage(error: unknown): string {
  if (errorCode(error) === undefined) {
    return "The server cannot be reached. Check your connection and try again.";
  }
  return error instanceof Error ? error.message : String(error);
}

/** Signs out when the server no longer accepts the token (expired or revoked). */
export function handleAuthError(error: unknown): void {
  if (errorCode(error) === "UNAUTHORIZED") clearSession();
}

/** Retries what may pass on a second try (network, 5xx, rate limits), never a user's mistake. */
function retryTransient(failures: number, error: unknown): boolean {
  return failures < 2 && isTransientError(error);
}

/**
 * The page's query cache: answers are shared between pages and kept fresh, failed reads of the
 * transient kind retried, and a refused token signs the tab out.
 */
export const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: handleAuthError }),
  mutationCache: new MutationCache({ onError: handleAuthError }),
  defaultOptions: {
    queries: { retry: retryTransient, staleTime: 5_000, refetchOnWindowFocus: true },
    mutations: { retry: false },
  },
});

// Nothing read as one user may be shown to the next: a sign-in or sign-out empties the cache.
onSessionChange(() => queryClient.clear());

/** Typed query and mutation options for every procedure: `trpc.execution.list.queryOptions(...)`. */
export const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient });
