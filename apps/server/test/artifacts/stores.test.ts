import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import {
  type ArtifactStore,
  artifactDeletions,
  createLocalDiskStore,
  createS3Store,
} from "@testtrack/core";
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOwnedObjects,
  createTestPrincipal,
  silentLog,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "../fixtures";

/** A real S3-compatible server (s3rver) on loopback, in a folder of its own. */
let s3: { close(): Promise<unknown> };
let s3Dir: string;
let localDir: string;
const s3Requests: string[] = [];
let stores: Record<"local disk" | "S3", ArtifactStore>;

beforeAll(async () => {
  s3Dir = await mkdtemp(join(tmpdir(), "testtrack-s3rver-"));
  localDir = await mkdtemp(join(tmpdir(), "testtrack-local-store-"));
  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: "artifacts" }],
  });
  const { port } = (await s3rver.run()) as AddressInfo;
  // In front of it, a proxy that notes each request, to see the multipart upload happen.
  const proxy = createServer((req, res) => {
    const forwarded = request(
      { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        s3Requests.push(`${req.method} ${req.url} ${answer.statusCode}`);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyPort = (proxy.address() as AddressInfo).port;
  s3 = {
    close: async () => {
      await new Promise((resolve) => proxy.close(resolve));
      await s3rver.close();
    },
  };
  stores = {
    "local disk": createLocalDiskStore(localDir),
    S3: await createS3Store({
      bucket: "artifacts",
      endpoint: `http://127.0.0.1:${proxyPort}`,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      partSize: 5 * 1024 * 1024,
    }),
  };
}, 30_000);
afterAll(async () => {
  await s3?.close();
  await rm(s3Dir, { recursive: true, force: true });
  await rm(localDir, { recursive: true, force: true });
});

const key = () => `7/${crypto.randomUUID()}`;

describe.each(["local disk", "S3"] as const)("the %s store", (name) => {
  const store = () => stores[name];

  it("stores, reads whole and by range, and deletes (twice without complaint)", async () => {
    const k = key();
    await store().put(k, Readable.from([Buffer.from("0123456789")]), "text/plain");
    expect(await store().exists(k)).toBe(true);
    expect(await text(await store().get(k))).toBe("0123456789");
    expect(await text(await store().get(k, { start: 2, end: 5 }))).toBe("2345");
    await store().delete(k);
    await store().delete(k);
    expect(await store().exists(k)).toBe(false);
  });

  it("leaves nothing when the stream fails half-way", async () => {
    const k = key();
    const failing = new Readable({
      read() {
        this.push(randomBytes(6 * 1024 * 1024));
        this.destroy(new Error("the runner died"));
      },
    });
    await expect(store().put(k, failing, "video/webm")).rejects.toThrow();
    expect(await store().exists(k)).toBe(false);
  });

  it("refuses keys it did not make", async () => {
    await expect(store().exists("../../etc/passwd")).rejects.toThrow(/not an artifact storage key/);
  });
});

describe("the server on the S3 store", () => {
  let server: TestServer;
  let member: TestPrincipal;
  beforeAll(async () => {
    server = await startTestServer({ artifacts: { store: stores.S3 } });
    member = await createTestPrincipal(server.database);
  });
  afterAll(() => server?.close());

  it("uploads 50 MB as a multipart upload and serves it byte-identical, by Range too", async () => {
    const { executionId } = await createOwnedObjects(member);
    const bytes = randomBytes(50 * 1024 * 1024);
    const response = await fetch(
      `${server.url}/api/v1/executions/${executionId}/artifacts?name=run.webm&kind=video`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${member.token}`, "content-type": "video/webm" },
        body: bytes,
      },
    );
    const artifact = (await response.json()) as { id: number; url: string; sha256: string };
    expect(response.status).toBe(201);
    expect(artifact.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    // 50 MB in 5 MB parts: a multipart upload of 10 parts, completed.
    const parts = s3Requests.filter((line) => /^PUT .*partNumber=\d+.* 200$/.test(line));
    expect(parts).toHaveLength(10);
    expect(s3Requests.filter((line) => /^POST .*uploadId=.* 200$/.test(line))).toHaveLength(1);
    expect(await s3Objects()).toHaveLength(1);

    const whole = await fetch(new URL(artifact.url, server.url));
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(new URL(artifact.url, server.url), {
      headers: { range: "bytes=31457280-31457379" },
    });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(31457280, 31457380))).toBe(
      true,
    );

    await member.caller.execution.delete({ id: executionId });
    const { startArtifactDeletionWorker } = await import("../../src/artifactDeletionWorker");
    const worker = startArtifactDeletionWorker(server.database.db, stores.S3, silentLog);
    expect(await worker.drain()).toBe(1);
    await worker.stop();
    expect(await server.database.db.select().from(artifactDeletions)).toEqual([]);
    expect(await s3Objects()).toEqual([]);
  }, 120_000);
});

/** The objects s3rver holds (one file each, beside its metadata). */
async function s3Objects(): Promise<string[]> {
  const entries = await readdir(join(s3Dir, "artifacts"), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith("._S3rver_object"))
    .map((entry) => entry.name);
}

describe("the S3 settings", () => {
  it("choose S3 when TESTTRACK_S3_BUCKET is set, and stay on disk otherwise", async () => {
    const { loadConfig } = await import("../../src/config");
    expect(loadConfig({}).artifacts.s3).toBeUndefined();
    expect(
      loadConfig({
        TESTTRACK_S3_BUCKET: "qa-artifacts",
        TESTTRACK_S3_ENDPOINT: "http://minio.internal:9000",
        TESTTRACK_S3_REGION: "eu-west-1",
        TESTTRACK_S3_FORCE_PATH_STYLE: "1",
      }).artifacts.s3,
    ).toEqual({
      bucket: "qa-artifacts",
      endpoint: "http://minio.internal:9000",
      region: "eu-west-1",
      forcePathStyle: true,
    });
    expect(() =>
      loadConfig({ TESTTRACK_S3_BUCKET: "b", TESTTRACK_S3_ENDPOINT: "ftp://x" }),
    ).toThrow(/TESTTRACK_S3_BUCKET|TESTTRACK_S3_ENDPOINT/);
  });
});
