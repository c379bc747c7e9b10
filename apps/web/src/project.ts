import { useSyncExternalStore } from "react";

// The project the pages show, per tab (sessionStorage, as the session): null is the default,
// the personal project (an admin's default is every project).
const KEY = "testtrack.project";
const listeners = new Set<() => void>();

export function currentProject(): number | null {
  const value = Number(sessionStorage.getItem(KEY));
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

export function chooseProject(projectId: number | null): void {
  if (projectId === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, String(projectId));
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The chosen project as an input field: `{ projectId }`, or nothing for the default. */
export function useProjectInput(): { projectId?: number } {
  const projectId = useSyncExternalStore(subscribe, currentProject);
  return projectId === null ? {} : { projectId };
}
