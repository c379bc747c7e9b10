/**
 * A process the deletion tests kill with SIGKILL at a chosen moment (MODE), to show that a crash
 * between the database and the store leaves neither an orphaned object nor a dangling row.
 * Prints "ready <json>" when it reaches the moment, then waits to be killed.
 */
import { Readable } from "node:stream";
import {
  type Actor,
  beginArtifactUpload,
  claimArtifactDeletions,
  createLocalDiskStore,
  deleteExecution,
  openDatabase,
} from "@testtrack/core";

const { DATABASE_URL, STORE_DIR, MODE, ACTOR, EXECUTION_ID } = process.env;
if (!DATABASE_URL || !STORE_DIR || !MODE || !ACTOR || !EXECUTION_ID) {
  throw new Error("DATABASE_URL, STORE_DIR, MODE, ACTOR and EXECUTION_ID are required");
}
const database = openDatabase({ url: DATABASE_URL, maxConnections: 2 });
const store = createLocalDiskStore(STORE_DIR);
const actor = JSON.parse(ACTOR) as Actor;
const executionId = Number(EXECUTION_ID);
const ready = (detail: unknown) => process.stdout.write(`ready ${JSON.stringify(detail)}\n`);

if (MODE === "upload-stored") {
  // The bytes are in the store; the artifact row never commits.
  const pending = await beginArtifactUpload(
    database.db,
    actor,
    { executionId, name: "crash.png", contentType: "image/png" },
    { maxPerExecution: 100 },
  );
  await store.put(
    pending.storageKey,
    Readable.from([Buffer.from("bytes of a crash")]),
    "image/png",
  );
  ready({ storageKey: pending.storageKey });
} else if (MODE === "deleted-not-removed") {
  // The execution's deletion committed; its artifacts' bytes were not removed yet.
  await deleteExecution(database.db, actor, { id: executionId });
  ready({});
} else if (MODE === "removed-not-finished") {
  // A worker removed the bytes but died before it deleted its outbox row.
  const claimed = await claimArtifactDeletions(database.db, { limit: 100, claimMs: 60_000 });
  for (const deletion of claimed) await store.delete(deletion.storageKey);
  ready({ claimed: claimed.length });
}
setInterval(() => {}, 1000);
