import type { RouterOutputs } from "@testtrack/client";

export type SignedInUser = RouterOutputs["auth"]["login"]["user"];

export interface Session {
  token: string;
  user: SignedInUser;
}

// sessionStorage: the sign-in lasts as long as the tab, and other tabs and sites never see it.
const KEY = "testtrack.session";
const listeners = new Set<() => void>();
let cached: { raw: string | null; session: Session | null } = { raw: null, session: null };

export function currentSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (raw !== cached.raw) cached = { raw, session: raw ? parseSession(raw) : null };
  return cached.session;
}

function parseSession(raw: string): Session | null {
  try {
    const value = JSON.parse(raw) as Partial<Session>;
    return typeof value.token === "string" && value.user ? (value as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
  for (const listener of listeners) listener();
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener();
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
