import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  claimDeliveries,
  type DatabaseHandle,
  deliveryBody,
  isPublicAddress,
  recordAttempt,
  signPayload,
} from "@testtrack/core";
import type { Logger } from "pino";
import { type PollingWorker, startPollingWorker } from "./pollingWorker";

export interface WebhookWorkerOptions {
  /** Send to loopback and private addresses too (tests; receivers on the same network). */
  allowPrivate: boolean;
  pollMs: number;
  claimMs: number;
  retryDelaysMs: readonly number[];
  /** The dashboard's address, for links in messages. */
  dashboardUrl: string;
  /** Deliveries claimed at once. */
  batchSize?: number;
  timeoutMs?: number;
}

/** What a receiver's answer may hold in the delivery log. */
const RESPONSE_EXCERPT_BYTES = 1024;
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** Why a delivery may not be sent at all: the same answer every time, so no retry. */
class RefusedTarget extends Error {}

/** DNS lookup that refuses names resolving to a private, loopback or link-local address. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, "", 0);
        return;
      }
      const refused = allowPrivate
        ? undefined
        : addresses.find((entry) => !isPublicAddress(entry.address));
      if (refused) {
        callback(
          new RefusedTarget(
            `refused: ${hostname} resolves to ${refused.address}, a loopback, private or link-local address (set TESTTRACK_WEBHOOK_ALLOW_PRIVATE=1 to allow it)`,
          ),
          "",
          0,
        );
        return;
      }
      if (options.all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const first = addresses[0];
      if (!first) callback(new Error(`${hostname} has no address`), "", 0);
      else callback(null, first.address, first.family);
    });
  };
}

/** Retry-After in milliseconds (seconds or an HTTP date), if given and sane. */
function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const header = Array.isArray(value) ? value[0] : value;
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 24 * 3_600_000) : undefined;
}

/**
 * POSTs one signed delivery: 10 s timeout, redirects not followed, the resolved address checked
 * at connection time (so DNS cannot point it elsewhere after a check), and at most the first
 * 1 KB of the answer read.
 */
export function sendDelivery(
  delivery: ClaimedDelivery,
  body: string,
  options: { allowPrivate: boolean; timeoutMs?: number },
): Promise<AttemptOutcome & { permanent?: boolean }> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const url = new URL(delivery.url);
  const literal = url.hostname.replace(/^\[|\]$/g, "");
  if (!options.allowPrivate && isIP(literal) !== 0 && !isPublicAddress(literal)) {
    return Promise.resolve({
      durationMs: 0,
      error: `refused: ${literal} is a loopback, private or link-local address (set TESTTRACK_WEBHOOK_ALLOW_PRIVATE=1 to allow it)`,
      permanent: true,
    });
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    const request = transport.request(
      url,
      {
        method: "POST",
        lookup: guardedLookup(options.allowPrivate),
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "TestTrack-Webhooks/1",
          "x-testtrack-event": delivery.event,
          "x-testtrack-delivery": delivery.deliveryId,
          "x-testtrack-signature": signPayload(delivery.secret, body, timestamp),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on("data", (chunk: Buffer) => {
          if (kept < RESPONSE_EXCERPT_BYTES) {
            chunks.push(chunk.subarray(0, RESPONSE_EXCERPT_BYTES - kept));
            kept += Math.min(chunk.length, RESPONSE_EXCERPT_BYTES - kept);
          }
        });
        const done = () => {
          const status = response.statusCode ?? 0;
          resolve({
            statusCode: status,
            durationMs: elapsed(),
            response: Buffer.concat(chunks).toString("utf8"),
            retryAfterMs: retryAfterMs(response.headers["retry-after"]),
            ...(status >= 300 && status < 400
              ? {
                  error: `answered ${status} (redirect to ${response.headers.location ?? "?"}): redirects are not followed`,
                  permanent: true,
                }
              : {}),
          });
        };
        response.on("end", done);
        response.on("error", (error) => resolve({ durationMs: elapsed(), error: error.message }));
      },
    );
    request.setTimeout(options.timeoutMs ?? WEBHOOK_TIMEOUT_MS, () => {
      request.destroy(
        new Error(`no answer within ${(options.timeoutMs ?? WEBHOOK_TIMEOUT_MS) / 1000} s`),
      );
    });
    request.on("error", (error) =>
      resolve({
        durationMs: elapsed(),
        error: error.message,
        permanent: error instanceof RefusedTarget,
      }),
    );
    request.end(body);
  });
}

/** `drain` delivers what is due now and resolves with how many it sent. */
export type WebhookWorker = PollingWorker;

/**
 * Delivers the webhook outbox: claims due deliveries (any number of instances may run this),
 * sends them, records each attempt. Never throws: a failed tick is logged and retried.
 */
export function startWebhookWorker(
  database: DatabaseHandle,
  options: WebhookWorkerOptions,
  log: Logger,
): WebhookWorker {
  const deliver = async (delivery: ClaimedDelivery) => {
    let outcome: AttemptOutcome & { permanent?: boolean };
    try {
      const body = await deliveryBody(database.db, delivery, {
        dashboardUrl: options.dashboardUrl,
      });
      outcome = await sendDelivery(delivery, body, options);
    } catch (error) {
      outcome = { durationMs: 0, error: (error as Error).message };
    }
    const status = await recordAttempt(
      database.db,
      delivery,
      outcome.permanent ? { ...outcome, statusCode: undefined } : outcome,
      { delaysMs: outcome.permanent ? [] : options.retryDelaysMs },
    );
    // Never the secret, the URL's query or the body: the webhook, event and outcome only.
    log.info(
      {
        webhookId: delivery.webhookId,
        delivery: delivery.deliveryId,
        event: delivery.event,
        attempt: delivery.attempts,
        statusCode: outcome.statusCode,
        error: outcome.error,
        durationMs: Math.round(outcome.durationMs),
        status,
      },
      "webhook delivery attempt",
    );
  };

  return startPollingWorker(
    {
      name: "webhook delivery pass",
      pollMs: options.pollMs,
      batchSize: options.batchSize ?? 20,
      claim: (limit) => claimDeliveries(database.db, { limit, claimMs: options.claimMs }),
      handle: deliver,
    },
    log,
  );
}
