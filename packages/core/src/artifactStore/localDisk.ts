import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { access, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { type ArtifactStore, assertStorageKey, type ByteRange } from "./store";

/**
 * Artifacts as files under `root` (the data folder's `artifacts/`). A write goes to a temporary
 * file renamed into place once complete, so a reader never sees half an object.
 */
export function createLocalDiskStore(root: string): ArtifactStore {
  const pathOf = (key: string) => {
    assertStorageKey(key);
    return join(root, "objects", key);
  };
  return {
    description: `local disk (${root})`,
    async put(key, body) {
      const target = pathOf(key);
      const partial = join(root, "incoming", `${randomUUID()}.part`);
      await mkdir(dirname(partial), { recursive: true });
      await mkdir(dirname(target), { recursive: true });
      try {
        await pipeline(body, createWriteStream(partial, { flags: "wx" }));
        await rename(partial, target);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    },
    async get(key, range?: ByteRange) {
      const path = pathOf(key);
      await access(path);
      return createReadStream(path, range ? { start: range.start, end: range.end } : {});
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async exists(key) {
      return access(pathOf(key)).then(
        () => true,
        () => false,
      );
    },
  };
}
