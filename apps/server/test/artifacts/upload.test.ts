import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { artifactDeletions, artifacts, artifactUrlSecret, signArtifact } from "@testtrack/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOwnedObjects,
  createTestPrincipal,
  type OwnedObjects,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "../fixtures";

let server: TestServer;
let member: TestPrincipal;
let viewer: TestPrincipal;
let other: TestPrincipal;
let owned: OwnedObjects;
let storeDir: string;

const PNG = Buffer.concat([
  Buffer.from("89504e470d0a1a0a", "hex"),
  Buffer.from("a picture, or as good as one, for the tests"),
]);

beforeAll(async () => {
  server = await startTestServer({ artifacts: { maxBytes: 1024 * 1024, maxPerExecution: 50 } });
  storeDir = server.artifacts.store.description.replace(/^local disk \((.*)\)$/, "$1");
  member = await createTestPrincipal(server.database);
  viewer = await createTestPrincipal(server.database);
  other = await createTestPrincipal(server.database);
  owned = await createOwnedObjects(member);
  const { projectId } = await member.caller.execution.get({ id: owned.executionId });
  await member.caller.project.addMember({ projectId, email: viewer.email, role: "viewer" });
});
afterAll(() => server.close());

interface ArtifactAnswer {
  id: number;
  kind: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  url: string;
  code?: string;
  message?: string;
}

function upload(
  executionId: number,
  body: Buffer | string,
  meta: Record<string, string> = {},
  token: string | null = member.token,
  headers: Record<string, string> = {},
) {
  const query = new URLSearchParams({ name: "shot.png", kind: "screenshot", ...meta });
  return fetch(`${server.url}/api/v1/executions/${executionId}/artifacts?${query}`, {
    method: "POST",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      "content-type": "image/png",
      ...headers,
    },
    body,
  });
}

async function uploaded(body: Buffer | string, meta: Record<string, string> = {}) {
  const response = await upload(owned.executionId, body, meta);
  const answer = (await response.json()) as ArtifactAnswer;
  expect(response.status, JSON.stringify(answer)).toBe(201);
  return answer;
}

function download(path: string, token: string | null = member.token, headers = {}) {
  return fetch(`${server.url}${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

/** Every object file in the store, and any half-written one. */
async function storedFiles(): Promise<string[]> {
  const files = await readdir(storeDir, { recursive: true, withFileTypes: true }).catch(() => []);
  return files.filter((file) => file.isFile()).map((file) => join(file.parentPath, file.name));
}

async function rowCount() {
  return (await server.database.db.select().from(artifacts)).length;
}

/** Nothing stored by a refused upload: no row, no new file, no pending guard left behind. */
async function expectNothingStoredBeyond(before: { rows: number; files: number }) {
  expect(await rowCount()).toBe(before.rows);
  expect((await storedFiles()).length).toBe(before.files);
  expect(await server.database.db.select().from(artifactDeletions)).toEqual([]);
}

async function snapshot() {
  return { rows: await rowCount(), files: (await storedFiles()).length };
}

const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

describe("upload and download", () => {
  it("stores a screenshot streamed to the store with its size and sha256", async () => {
    const artifact = await uploaded(PNG);
    expect(artifact).toMatchObject({
      kind: "screenshot",
      name: "shot.png",
      contentType: "image/png",
      size: PNG.length,
      sha256: sha256(PNG),
    });
    const detail = await member.caller.execution.get({ id: owned.executionId });
    const listed = detail.artifacts.find((item) => item.id === artifact.id);
    expect(listed).toMatchObject({ kind: "screenshot", name: "shot.png", size: PNG.length });
    expect(listed?.url).toMatch(
      new RegExp(`^/api/v1/artifacts/${artifact.id}\\?expires=\\d+&signature=`),
    );
  });

  it("takes the description from X-Artifact-* headers and Content-Type too", async () => {
    const response = await fetch(`${server.url}/api/v1/executions/${owned.executionId}/artifacts`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${member.token}`,
        "content-type": "text/plain; charset=utf-8",
        "x-artifact-name": encodeURIComponent("console – run 1.log"),
        "x-artifact-kind": "log",
        "x-artifact-step": "1",
      },
      body: "line one\nline two\n",
    });
    const answer = (await response.json()) as ArtifactAnswer & { stepNumber: number };
    expect(response.status).toBe(201);
    expect(answer).toMatchObject({
      name: "console – run 1.log",
      kind: "log",
      stepNumber: 1,
      contentType: "text/plain; charset=utf-8",
    });
  });

  it("serves the bytes byte-identical to a reader, with ETag, nosniff and a sandbox CSP", async () => {
    const artifact = await uploaded(PNG);
    const response = await download(`/api/v1/artifacts/${artifact.id}`, viewer.token);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(PNG);
    expect(response.headers.get("etag")).toBe(`"${sha256(PNG)}"`);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toBe("sandbox");
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("content-disposition")).toMatch(/^inline; filename="shot.png"/);
    const again = await download(`/api/v1/artifacts/${artifact.id}`, viewer.token, {
      "if-none-match": `"${sha256(PNG)}"`,
    });
    expect(again.status).toBe(304);
  });

  it("answers Range requests for seeking, and 416 outside the file", async () => {
    const artifact = await uploaded(PNG, { name: "clip.webm", kind: "video" });
    const path = `/api/v1/artifacts/${artifact.id}`;
    const middle = await download(path, member.token, { range: "bytes=8-15" });
    expect(middle.status).toBe(206);
    expect(middle.headers.get("content-range")).toBe(`bytes 8-15/${PNG.length}`);
    expect(Buffer.from(await middle.arrayBuffer())).toEqual(PNG.subarray(8, 16));
    const tail = await download(path, member.token, { range: "bytes=-5" });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(PNG.subarray(-5));
    const open = await download(path, member.token, { range: "bytes=40-" });
    expect(Buffer.from(await open.arrayBuffer())).toEqual(PNG.subarray(40));
    const outside = await download(path, member.token, { range: `bytes=${PNG.length}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get("content-range")).toBe(`bytes */${PNG.length}`);
  });

  it("serves by a signed URL without a token, and refuses it expired or tampered with", async () => {
    const artifact = await uploaded(PNG);
    const signed = await download(artifact.url, null);
    expect(signed.status).toBe(200);
    expect(Buffer.from(await signed.arrayBuffer())).toEqual(PNG);

    const secret = await artifactUrlSecret(server.database.db);
    const past = Math.floor(Date.now() / 1000) - 1;
    const expired = `/api/v1/artifacts/${artifact.id}?expires=${past}&signature=${signArtifact(secret, artifact.id, past)}`;
    const tampered = artifact.url.replace(
      /signature=(.)/,
      (_, c) => `signature=${c === "A" ? "B" : "A"}`,
    );
    const later = artifact.url.replace(/expires=(\d+)/, (_, e) => `expires=${Number(e) + 3600}`);
    const otherId = artifact.url.replace(
      `/artifacts/${artifact.id}?`,
      `/artifacts/${artifact.id - 1}?`,
    );
    for (const url of [
      expired,
      tampered,
      later,
      otherId,
      `/api/v1/artifacts/${artifact.id}?expires=1`,
    ]) {
      const refused = await download(url, null);
      const body = (await refused.json()) as { code: string; message: string };
      expect(refused.status, url).toBe(403);
      expect(body.code).toBe("FORBIDDEN");
      expect(refused.headers.get("content-disposition")).toBeNull();
    }
    expect((await download(`/api/v1/artifacts/${artifact.id}`, null)).status).toBe(401);
  });
});

describe("hostile uploads", () => {
  it.each([
    "../../etc/passwd",
    "..",
    ".",
    "screens/../../x.png",
    "a\\..\\b.png",
    "nul\u0000byte.png",
    "line\nbreak.png",
    "",
    "x".repeat(256),
  ])("refuses the name %j with 400 and stores nothing", async (name) => {
    const before = await snapshot();
    const response = await upload(owned.executionId, PNG, { name });
    const body = (await response.json()) as { code: string; message: string };
    expect(response.status).toBe(400);
    expect(body.code).toBe("BAD_REQUEST");
    expect(body.message).not.toMatch(/\bat \w+ \(/);
    await expectNothingStoredBeyond(before);
  });

  it("refuses an upload over the size limit with 413 and stores nothing (declared or streamed)", async () => {
    const before = await snapshot();
    const big = Buffer.alloc(1024 * 1024 + 1, 7);
    const declared = await upload(owned.executionId, big);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
    // Chunked, with no Content-Length to refuse it by: stopped at the limit while streaming.
    const streamed = await rawUpload(
      owned.executionId,
      [big.subarray(0, 600_000), big.subarray(600_000)],
      {
        "transfer-encoding": "chunked",
      },
    );
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    await expectNothingStoredBeyond(before);
  });

  it("stops a streamed 201 MB upload at the default 200 MB limit with 413, storing nothing", async () => {
    const defaults = await startTestServer({ database: server.database });
    const dir = defaults.artifacts.store.description.replace(/^local disk \((.*)\)$/, "$1");
    try {
      const megabyte = Buffer.alloc(1024 * 1024, 1);
      const body = Readable.from(
        (function* () {
          for (let n = 0; n < 201; n++) yield megabyte;
        })(),
      );
      const response = await fetch(
        `${defaults.url}/api/v1/executions/${owned.executionId}/artifacts?name=huge.bin`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${member.token}` },
          body: Readable.toWeb(body) as ReadableStream,
          duplex: "half",
        } as RequestInit,
      );
      expect(response.status).toBe(413);
      expect(((await response.json()) as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
      const files = await readdir(dir, { recursive: true, withFileTypes: true });
      expect(files.filter((file) => file.isFile())).toEqual([]);
      expect(await server.database.db.select().from(artifactDeletions)).toEqual([]);
      expect(
        (await server.database.db.select().from(artifacts)).filter(
          (row) => row.name === "huge.bin",
        ),
      ).toEqual([]);
    } finally {
      await defaults.close();
    }
  }, 60_000);

  it("stores nothing when the body ends before its Content-Length", async () => {
    const before = await snapshot();
    const outcome = await rawUpload(
      owned.executionId,
      [PNG.subarray(0, 10)],
      {
        "content-length": String(PNG.length),
      },
      { endSocket: true },
    );
    expect(outcome.status).toBe(0);
    // The server discards the upload once it sees the connection end.
    await expect.poll(async () => (await storedFiles()).length).toBe(before.files);
    await expectNothingStoredBeyond(before);
  });

  it("stores at most the declared bytes when more follow a short Content-Length", async () => {
    const before = await snapshot();
    // Node's parser takes the rest for a next request, malformed: 400, connection closed.
    const outcome = await rawUpload(
      owned.executionId,
      [PNG],
      { "content-length": "8" },
      {
        name: "short.bin",
      },
    );
    expect([201, 400]).toContain(outcome.status);
    await expect
      .poll(async () => (await server.database.db.select().from(artifactDeletions)).length)
      .toBe(0);
    const rows = (await server.database.db.select().from(artifacts)).filter(
      (row) => row.name === "short.bin",
    );
    for (const row of rows)
      expect(row).toMatchObject({ size: 8, sha256: sha256(PNG.subarray(0, 8)) });
    expect((await storedFiles()).length).toBe(before.files + rows.length);
  });

  it.each([
    ["an HTML page", "page.html", "text/html", "<script>alert(document.cookie)</script>"],
    [
      "an SVG with script",
      "logo.svg",
      "image/svg+xml",
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ],
    ["a trace archive", "trace.zip", "application/zip", "PK\u0003\u0004"],
  ])("serves %s as an attachment, never inline", async (_what, name, contentType, body) => {
    const artifact = await uploaded(body, { name, contentType, kind: "other" });
    const response = await download(artifact.url, null);
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="${name}"; filename*=UTF-8''${name}`,
    );
    expect(response.headers.get("content-type")).toBe(contentType);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toBe("sandbox");
    expect(await response.text()).toBe(body);
  });

  it("keeps a page declared as an image an image (nosniff), and refuses a malformed type", async () => {
    const artifact = await uploaded("<html><script>alert(1)</script></html>", {
      contentType: "image/png",
    });
    const response = await download(artifact.url, null);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const before = await snapshot();
    for (const contentType of ["text/html\r\nx-evil: 1", "not a type", "text/"]) {
      const refused = await upload(owned.executionId, PNG, { contentType });
      expect(refused.status, contentType).toBe(400);
    }
    await expectNothingStoredBeyond(before);
  });

  it("names an unsafe file name safely in Content-Disposition", async () => {
    const name = 'evil"; filename="x.html';
    const artifact = await uploaded("<b>hi</b>", { name, contentType: "text/html" });
    const response = await download(artifact.url, null);
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="evil__ filename__x.html"; filename*=UTF-8''${encodeURIComponent(name)}`,
    );
  });

  it("hides another project's execution as a missing one, and refuses a viewer", async () => {
    const before = await snapshot();
    const foreign = await upload(owned.executionId, PNG, {}, other.token);
    const missing = await upload(2_000_000_000, PNG, {}, other.token);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    const message = async (response: Response) =>
      ((await response.json()) as { message: string }).message.replace(/\d+/g, "<id>");
    expect(await message(foreign)).toBe(await message(missing));
    expect((await upload(owned.executionId, PNG, {}, viewer.token)).status).toBe(403);
    expect((await upload(owned.executionId, PNG, {}, null)).status).toBe(401);
    expect((await upload(owned.executionId, PNG, {}, "not-a-token")).status).toBe(401);
    await expectNothingStoredBeyond(before);
    const artifact = (await member.caller.execution.get({ id: owned.executionId })).artifacts[0];
    if (!artifact) throw new Error("no artifact");
    expect((await download(`/api/v1/artifacts/${artifact.id}`, other.token)).status).toBe(404);
  });

  it("refuses a file past the per-execution count with 413", async () => {
    const strict = await startTestServer({
      database: server.database,
      artifacts: { store: server.artifacts.store, maxPerExecution: 5 },
    });
    const { executionId } = await member.caller.execution.start({ testCaseId: owned.testCaseId });
    const uploadTo = (url: string) =>
      fetch(`${url}/api/v1/executions/${executionId}/artifacts?name=a.png`, {
        method: "POST",
        headers: { authorization: `Bearer ${member.token}`, "content-type": "image/png" },
        body: PNG,
      });
    for (let n = 0; n < 5; n++) expect((await uploadTo(strict.url)).status).toBe(201);
    const before = await snapshot();
    const refused = await uploadTo(strict.url);
    await strict.close();
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { message: string }).message).toMatch(
      /already has 5 artifacts/,
    );
    await expectNothingStoredBeyond(before);
  });

  it("refuses bad ids with 400 and unknown routes as before", async () => {
    expect((await upload(-1, PNG)).status).toBe(400);
    const response = await fetch(`${server.url}/api/v1/executions/abc/artifacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${member.token}` },
      body: "x",
    });
    expect(response.status).toBe(400);
    expect((await download("/api/v1/artifacts/99999999999")).status).toBe(400);
    expect((await download("/api/v1/artifacts/2000000000")).status).toBe(404);
  });
});

/** An upload over a raw socket, for bodies fetch will not send (chunked, lying, cut short). */
function rawUpload(
  executionId: number,
  chunks: Buffer[],
  headers: Record<string, string>,
  options: { endSocket?: boolean; name?: string } = {},
): Promise<{ status: number; body: string }> {
  const name = options.name ?? "raw.bin";
  const url = new URL(`${server.url}/api/v1/executions/${executionId}/artifacts?name=${name}`);
  return new Promise((resolve) => {
    const req = request(url, {
      method: "POST",
      headers: { authorization: `Bearer ${member.token}`, ...headers },
    });
    req.on("response", (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on("error", () => resolve({ status: 0, body: "" }));
    if (options.endSocket) {
      for (const chunk of chunks) req.write(chunk);
      setTimeout(() => req.destroy(), 200);
      return;
    }
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}
