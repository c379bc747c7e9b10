import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  createOwnedObjects,
  createTestPrincipal,
  startTestServer,
  type TestServer,
} from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactUploadError, createArtifactUploader } from "../src/artifacts";

let server: TestServer;
let dir: string;
let token: string;
let executionId: number;

beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), "testtrack-client-artifacts-"));
  const member = await createTestPrincipal(server.database);
  token = member.token;
  ({ executionId } = await createOwnedObjects(member));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function downloaded(url: string): Promise<Buffer> {
  const response = await fetch(new URL(url, server.url));
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe("uploadArtifact", () => {
  it("streams a file by path, naming and typing it from the file", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const path = join(dir, "failure.png");
    await writeFile(path, bytes);
    const uploadArtifact = createArtifactUploader({ url: `${server.url}/trpc`, token });
    const artifact = await uploadArtifact(executionId, path);
    expect(artifact).toMatchObject({
      name: "failure.png",
      kind: "screenshot",
      contentType: "image/png",
      size: bytes.length,
    });
    expect((await downloaded(artifact.url)).equals(bytes)).toBe(true);
  });

  it("takes bytes and streams, with the meta given", async () => {
    const uploadArtifact = createArtifactUploader({ url: server.url, token: () => token });
    const log = await uploadArtifact(executionId, Buffer.from("line 1\n"), {
      name: "console.log",
      stepNumber: 1,
    });
    expect(log).toMatchObject({ kind: "log", contentType: "text/plain", stepNumber: 1 });
    const trace = await uploadArtifact(executionId, Readable.from([Buffer.from("PK"), "zip"]), {
      name: "trace.zip",
    });
    expect(trace).toMatchObject({ kind: "trace", contentType: "application/zip", size: 5 });
    expect((await downloaded(trace.url)).toString()).toBe("PKzip");
  });

  it("rejects with the server's status and code", async () => {
    const uploadArtifact = createArtifactUploader({ url: server.url, token });
    const refused = await uploadArtifact(2_000_000_000, Buffer.from("x"), { name: "a.txt" }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ArtifactUploadError);
    expect(refused).toMatchObject({ status: 404, code: "NOT_FOUND" });
    const traversal = await uploadArtifact(executionId, Buffer.from("x"), {
      name: "../etc/passwd",
    }).catch((error: unknown) => error);
    expect(traversal).toMatchObject({ status: 400, code: "BAD_REQUEST" });
  });
});
