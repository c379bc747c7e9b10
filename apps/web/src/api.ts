import { createTestTrackClient, errorCode, type RouterOutputs } from "@testtrack/client";
import { type DependencyList, useCallback, useEffect, useState } from "react";
import { clearSession, currentSession } from "./session";

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

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when the dependencies change; an answer that arrives too late is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [state, setState] = useState<Omit<Loaded<T>, "reload">>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [attempt, setAttempt] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller lists what `load` reads
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true, error: undefined }));
    load().then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => {
        handleAuthError(error);
        if (current) setState({ data: undefined, error: errorMessage(error), loading: false });
      },
    );
    return () => {
      current = false;
    };
  }, [...deps, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...state, reload };
}
