import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "./generated/appRouter.js";

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** Matches the server's default TESTTRACK_MAX_BATCH_SIZE: a larger batch would be refused. */
export const MAX_BATCH_ITEMS = 50;
/** Batched queries are sent as GET; past this URL length a batch is split (proxies cut longer URLs). */
export const MAX_URL_LENGTH = 4_000;

export interface TestTrackClientOptions {
  /** The server's address: `http://127.0.0.1:3000` or the tRPC endpoint `http://127.0.0.1:3000/trpc`. */
  url: string;
  /** An API token (`auth.createApiToken`) or a session token (`auth.login`). */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** A fetch implementation; defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Extra headers sent with every request (subscriptions excepted: EventSource sends none). */
  headers?: Record<string, string>;
  /**
   * Batch the calls made in the same tick into one request (at most MAX_BATCH_ITEMS), as a page
   * issuing several queries at once wants. Off by default: batching waits a timer tick before
   * sending, which adds about a millisecond or two to every call of a runner, whose calls follow
   * one another anyway.
   */
  batch?: boolean;
  /**
   * The EventSource class subscriptions (`client.execution.onSteps.subscribe`) use; defaults to
   * the global one, which browsers and Deno have. In Node 20, pass `EventSource` from the
   * `eventsource` package.
   */
  EventSource?: EventSourceClass;
}

/** An EventSource class, as browsers have it and the `eventsource` package provides. */
export type EventSourceClass = new (
  url: string,
  init?: { withCredentials?: boolean },
) => {
  readonly CLOSED: number;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readyState: number;
  addEventListener(type: string, listener: (event: object) => void): void;
  removeEventListener(type: string, listener: (event: object) => void): void;
  close(): void;
};

export type TestTrackClient = ReturnType<typeof createTRPCClient<AppRouter>>;

/** The tRPC endpoint for a server address: `/trpc` is appended unless the URL ends with it. */
export function trpcEndpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith("/trpc") ? trimmed : `${trimmed}/trpc`;
}

/**
 * A typed client for every TestTrack procedure:
 * `await client.execution.start.mutate({ testCaseId: 1, browser: "chromium" })`.
 */
export function createTestTrackClient(options: TestTrackClientOptions): TestTrackClient {
  const url = trpcEndpoint(options.url);
  const currentToken = async () =>
    typeof options.token === "function" ? await options.token() : options.token;
  const headers = async () => {
    const token = await currentToken();
    return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        // Server-sent events: an EventSource cannot send headers, so the token travels as a
        // connection param, which the server accepts for subscriptions only.
        true: httpSubscriptionLink({
          url,
          EventSource: options.EventSource ?? globalThis.EventSource ?? MissingEventSource,
          connectionParams: async () => {
            const token = await currentToken();
            return token ? { token } : {};
          },
        }),
        false: options.batch
          ? httpBatchLink({
              url,
              maxItems: MAX_BATCH_ITEMS,
              maxURLLength: MAX_URL_LENGTH,
              ...(options.fetch ? { fetch: options.fetch } : {}),
              headers,
            })
          : httpLink({ url, ...(options.fetch ? { fetch: options.fetch } : {}), headers }),
      }),
    ],
  });
}

/** Stands in where no EventSource exists, so a subscription fails with a message saying why. */
class MissingEventSource {
  constructor() {
    throw new Error(
      "subscriptions need an EventSource: pass `EventSource` (e.g. from the `eventsource` package) to createTestTrackClient",
    );
  }
}

/** The tRPC error code of a failed call (`NOT_FOUND`, `CONFLICT`, ...), or undefined for network errors. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof TRPCClientError
    ? (error.data as { code?: string } | undefined)?.code
    : undefined;
}

/**
 * Whether retrying the same call may succeed: the request never got an answer (network
 * failure), the server or its database was unavailable (5xx), or it asked us to slow down.
 */
export function isTransientError(error: unknown): boolean {
  if (!(error instanceof TRPCClientError)) return error instanceof TypeError;
  const data = error.data as { code?: string; httpStatus?: number } | undefined;
  if (!data) return true;
  return data.code === "TOO_MANY_REQUESTS" || (data.httpStatus ?? 0) >= 500;
}

export { TRPCClientError };
