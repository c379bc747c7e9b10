import type { Readable } from "node:stream";

/** Bytes [start, end] of an object, both inclusive (as in an HTTP Range). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where artifact bytes live. Keys are made by the server (`<project>/<random>`), never from a
 * caller's file name. `put` leaves nothing behind when its stream fails; `delete` of a missing
 * key succeeds, so a retried deletion is harmless.
 */
export interface ArtifactStore {
  readonly description: string;
  put(key: string, body: Readable, contentType: string): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

const KEY = /^[0-9]{1,10}\/[0-9a-f-]{36}$/;

/** Refuses any key the server would not have made (a store's last guard against traversal). */
export function assertStorageKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`not an artifact storage key: ${JSON.stringify(key)}`);
}
