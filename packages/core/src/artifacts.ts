import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, NEEDS, projectRoleSql } from "./actor";
import type { ArtifactStore } from "./artifactStore/store";
import { type Database, queryRows } from "./db";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from "./errors";
import { id } from "./limits";
import {
  ARTIFACT_KINDS,
  type ArtifactKind,
  artifactDeletions,
  artifacts,
  artifactUrlKeys,
  testExecutions,
} from "./schema";

export const ARTIFACT_LIMITS = {
  /** TESTTRACK_ARTIFACT_MAX_BYTES's default: 200 MB. */
  maxBytes: 200 * 1024 * 1024,
  maxPerExecution: 100,
  /** How long a signed download URL stays valid. */
  urlLifetimeMs: 30 * 60_000,
  /** An upload that has not committed by then is abandoned and its bytes deleted. */
  uploadGraceMs: 6 * 3_600_000,
} as const;

// A file name, not a path: no separators, no `.`/`..`, no control characters.
const fileName = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .refine(isFileName, "must be a file name, not a path");

function isFileName(name: string): boolean {
  if (name === "." || name === "..") return false;
  for (const char of name) {
    const code = char.charCodeAt(0);
    if (char === "/" || char === "\\" || code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

const contentType = z
  .string()
  .trim()
  .toLowerCase()
  .max(255)
  .regex(
    /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(\s*;\s*[a-z0-9_-]+=("[^"\\\r\n]*"|[a-z0-9_.-]+))*$/,
    "must be a media type such as image/png",
  );

export const artifactUploadInput = z.strictObject({
  executionId: id,
  name: fileName,
  kind: z.enum(ARTIFACT_KINDS).default("other"),
  contentType: contentType.default("application/octet-stream"),
  stepNumber: z.number().int().positive().max(100_000).optional(),
});
export type ArtifactUploadInput = z.input<typeof artifactUploadInput>;

export const artifactIdInput = z.strictObject({ id });

export interface ArtifactView {
  id: number;
  executionId: number;
  stepNumber: number | null;
  kind: ArtifactKind;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: Date;
  /** A signed download URL (relative to the server), valid for ARTIFACT_LIMITS.urlLifetimeMs. */
  url: string;
}

/** An upload under way: its bytes are guarded by an outbox row until the artifact row commits. */
export interface PendingArtifact {
  input: z.output<typeof artifactUploadInput>;
  projectId: number;
  storageKey: string;
  guardId: number;
}

/** An upload over a limit (size of a file, files per execution): HTTP 413. */
export class ArtifactLimitError extends InvalidInputError {
  override name = "ArtifactLimitError";
}

export class ArtifactTooLargeError extends ArtifactLimitError {
  override name = "ArtifactTooLargeError";
  constructor(readonly maxBytes: number) {
    super(`the file is larger than this server's limit of ${maxBytes} bytes`);
  }
}

/**
 * Counts and hashes the bytes passing through, and fails with ArtifactTooLargeError as soon as
 * they exceed `maxBytes` (whatever Content-Length said).
 */
export class ArtifactMeter extends Transform {
  /** Not `size`: S3's upload helper would take that for the body's length before it is known. */
  byteCount = 0;
  private readonly hash = createHash("sha256");
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.byteCount += chunk.length;
    if (this.byteCount > this.maxBytes) return callback(new ArtifactTooLargeError(this.maxBytes));
    this.hash.update(chunk);
    callback(null, chunk);
  }
  digest(): string {
    return this.hash.digest("hex");
  }
}

async function executionAccess(db: Database, actor: Actor, executionId: number) {
  const [row] = await db
    .select({
      projectId: testExecutions.projectId,
      access: projectRoleSql(actor, testExecutions.projectId),
    })
    .from(testExecutions)
    .where(eq(testExecutions.id, executionId));
  return row;
}

/**
 * Checks that the actor may attach files to the execution (member) and that it has room for one
 * more, then writes the outbox row that deletes the bytes unless the upload completes in time.
 */
export async function beginArtifactUpload(
  db: Database,
  actor: Actor,
  raw: ArtifactUploadInput,
  limits: { maxPerExecution: number },
): Promise<PendingArtifact> {
  const input = artifactUploadInput.parse(raw);
  const row = await executionAccess(db, actor, input.executionId);
  assertRole(row?.access, NEEDS.write, "Execution", input.executionId);
  if (!row) throw new NotFoundError("Execution", input.executionId);
  await assertRoom(db, input.executionId, limits.maxPerExecution);
  const storageKey = `${row.projectId}/${randomUUID()}`;
  const [guard] = await db
    .insert(artifactDeletions)
    .values({
      storageKey,
      dueAt: sql`now() + ${`${ARTIFACT_LIMITS.uploadGraceMs} milliseconds`}::interval`,
    })
    .returning({ id: artifactDeletions.id });
  if (!guard) throw new Error("the upload guard was not written");
  return { input, projectId: row.projectId, storageKey, guardId: guard.id };
}

async function assertRoom(db: Database, executionId: number, maxPerExecution: number) {
  const [count] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from ${artifacts} where ${artifacts.executionId} = ${executionId}`,
  );
  if ((count?.n ?? 0) >= maxPerExecution) {
    throw new ArtifactLimitError(
      `execution ${executionId} already has ${maxPerExecution} artifacts, this server's limit`,
    );
  }
}

/**
 * Records the stored bytes: in one transaction, under the execution's row lock (so concurrent
 * uploads cannot pass the count limit together), inserts the artifact and removes its guard.
 */
export async function completeArtifactUpload(
  db: Database,
  actor: Actor,
  pending: PendingArtifact,
  stored: { size: number; sha256: string },
  limits: { maxPerExecution: number },
): Promise<ArtifactView> {
  const secret = await artifactUrlSecret(db);
  const row = await db.transaction(async (tx) => {
    const [locked] = await tx
      .select({ id: testExecutions.id, access: projectRoleSql(actor, testExecutions.projectId) })
      .from(testExecutions)
      .where(eq(testExecutions.id, pending.input.executionId))
      .for("update");
    assertRole(locked?.access, NEEDS.write, "Execution", pending.input.executionId);
    await assertRoom(tx, pending.input.executionId, limits.maxPerExecution);
    const released = await tx
      .delete(artifactDeletions)
      .where(eq(artifactDeletions.id, pending.guardId))
      .returning({ id: artifactDeletions.id });
    if (released.length === 0) {
      throw new ConflictError("the upload took too long and was abandoned; upload the file again");
    }
    const [created] = await tx
      .insert(artifacts)
      .values({
        projectId: pending.projectId,
        executionId: pending.input.executionId,
        stepNumber: pending.input.stepNumber ?? null,
        kind: pending.input.kind,
        name: pending.input.name,
        contentType: pending.input.contentType,
        size: stored.size,
        sha256: stored.sha256,
        storageKey: pending.storageKey,
        createdBy: actor.id,
      })
      .returning();
    if (!created) throw new Error("the artifact row was not written");
    return created;
  });
  return toView(row, secret);
}

/**
 * Gives up an upload that failed: its bytes are deleted now, and the guard row goes with them
 * (if the deletion fails, the guard stays and the outbox worker retries it when due).
 */
export async function discardArtifactUpload(
  db: Database,
  store: ArtifactStore,
  pending: PendingArtifact,
): Promise<void> {
  await store.delete(pending.storageKey);
  await db.delete(artifactDeletions).where(eq(artifactDeletions.id, pending.guardId));
}

type ArtifactRow = typeof artifacts.$inferSelect;

function toView(row: ArtifactRow, secret: string, now = Date.now()): ArtifactView {
  const expires = Math.floor((now + ARTIFACT_LIMITS.urlLifetimeMs) / 1000);
  const signature = signArtifact(secret, row.id, expires);
  return {
    id: row.id,
    executionId: row.executionId,
    stepNumber: row.stepNumber,
    kind: row.kind,
    name: row.name,
    contentType: row.contentType,
    size: row.size,
    sha256: row.sha256,
    createdAt: row.createdAt,
    url: `/api/v1/artifacts/${row.id}?expires=${expires}&signature=${signature}`,
  };
}

/** An execution's artifacts, oldest first, each with a fresh signed URL (the caller checked access). */
export async function listExecutionArtifacts(
  db: Database,
  executionId: number,
): Promise<ArtifactView[]> {
  const rows = await db
    .select()
    .from(artifacts)
    .where(eq(artifacts.executionId, executionId))
    .orderBy(asc(artifacts.id));
  if (rows.length === 0) return [];
  const secret = await artifactUrlSecret(db);
  return rows.map((row) => toView(row, secret));
}

/** One artifact the actor may read (viewer), else NOT_FOUND. */
export async function artifactForActor(
  db: Database,
  actor: Actor,
  artifactId: number,
): Promise<ArtifactRow> {
  const [row] = await db
    .select({ artifact: artifacts, access: projectRoleSql(actor, artifacts.projectId) })
    .from(artifacts)
    .where(eq(artifacts.id, artifactId));
  assertRole(row?.access, NEEDS.read, "Artifact", artifactId);
  if (!row) throw new NotFoundError("Artifact", artifactId);
  return row.artifact;
}

/** One artifact by a signed URL's id, or NOT_FOUND when the signature or expiry does not hold. */
export async function artifactBySignature(
  db: Database,
  artifactId: number,
  expires: string | null,
  signature: string | null,
  now = Date.now(),
): Promise<ArtifactRow> {
  const expiresAt = Number(expires);
  if (!signature || !/^\d{1,12}$/.test(expires ?? "") || expiresAt * 1000 < now) {
    throw new UnauthorizedArtifactUrl();
  }
  const secret = await artifactUrlSecret(db);
  const expected = Buffer.from(signArtifact(secret, artifactId, expiresAt));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new UnauthorizedArtifactUrl();
  }
  const [row] = await db.select().from(artifacts).where(eq(artifacts.id, artifactId));
  if (!row) throw new NotFoundError("Artifact", artifactId);
  return row;
}

/** A signed URL that is expired, tampered with, or for another artifact. */
export class UnauthorizedArtifactUrl extends ForbiddenError {
  override name = "UnauthorizedArtifactUrl";
  constructor() {
    super("this download link is invalid or has expired; reload the page for a fresh one");
  }
}

export function signArtifact(secret: string, artifactId: number, expires: number): string {
  return createHmac("sha256", secret)
    .update(`artifact:${artifactId}:${expires}`)
    .digest("base64url");
}

const secrets = new WeakMap<Database, Promise<string>>();

/** The URL-signing key shared by every instance: made once, kept in the database. */
export function artifactUrlSecret(db: Database): Promise<string> {
  let secret = secrets.get(db);
  if (!secret) {
    secret = (async () => {
      await db
        .insert(artifactUrlKeys)
        .values({ id: 1, secret: randomBytes(32).toString("base64url") })
        .onConflictDoNothing();
      const [row] = await db.select().from(artifactUrlKeys).where(eq(artifactUrlKeys.id, 1));
      if (!row) throw new Error("the artifact URL key is missing");
      return row.secret;
    })();
    secret.catch(() => secrets.delete(db));
    secrets.set(db, secret);
  }
  return secret;
}

/** Deletes an artifact (maintainers); its bytes follow through the outbox. */
export async function deleteArtifact(
  db: Database,
  actor: Actor,
  raw: z.input<typeof artifactIdInput>,
): Promise<{ id: number }> {
  const input = artifactIdInput.parse(raw);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: artifacts.id, access: projectRoleSql(actor, artifacts.projectId) })
      .from(artifacts)
      .where(eq(artifacts.id, input.id))
      .for("update");
    assertRole(row?.access, NEEDS.manage, "Artifact", input.id);
    await tx.delete(artifacts).where(eq(artifacts.id, input.id));
    return { id: input.id };
  });
}

export interface ClaimedDeletion {
  id: number;
  storageKey: string;
  attempts: number;
}

/**
 * Claims due deletions for `claimMs` (FOR UPDATE SKIP LOCKED: each row goes to one worker; a
 * worker that dies mid-way lets its claim lapse, and another retries it).
 */
export async function claimArtifactDeletions(
  db: Database,
  options: { limit: number; claimMs: number },
): Promise<ClaimedDeletion[]> {
  return queryRows<ClaimedDeletion>(
    db,
    sql`update ${artifactDeletions} d
        set due_at = now() + ${`${options.claimMs} milliseconds`}::interval,
            attempts = d.attempts + 1
        where d.id in (
          select id from ${artifactDeletions}
          where due_at <= now()
          order by due_at
          limit ${options.limit}
          for update skip locked)
        returning d.id, d.storage_key as "storageKey", d.attempts`,
  );
}

/** The bytes are gone: the outbox row goes too. */
export async function finishArtifactDeletion(db: Database, deletionId: number): Promise<void> {
  await db.delete(artifactDeletions).where(eq(artifactDeletions.id, deletionId));
}

/** The store failed: try again after `retryMs`. */
export async function retryArtifactDeletion(
  db: Database,
  deletionId: number,
  error: string,
  retryMs: number,
): Promise<void> {
  await db
    .update(artifactDeletions)
    .set({
      lastError: error.slice(0, 1000),
      dueAt: sql`now() + ${`${retryMs} milliseconds`}::interval`,
    })
    .where(eq(artifactDeletions.id, deletionId));
}
