import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createTestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVitestProject, type ProcessResult, runVitest, vitestConfig } from "./fixtures";

/**
 * A test that attaches a 300 KB binary file by path, a text log as a UTF-8 body, bytes through
 * recordArtifact, and one attachment whose content type the server refuses.
 */
const attachingTest = `import { writeFileSync } from "node:fs";
import { expect, it, recordArtifact } from "vitest";

it("checks out with evidence", async ({ annotate, task }) => {
  const bytes = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 31 + (i >> 8)) % 256));
  writeFileSync("checkout.png", bytes);
  await annotate("checkout page", { path: "checkout.png" });
  await annotate("server log", {
    body: "GET /cart 200\\nPOST /pay 502\\n",
    bodyEncoding: "utf-8",
    contentType: "text/plain",
  });
  await recordArtifact(task, {
    type: "shop:trace",
    attachments: [{ body: new Uint8Array([0, 1, 2, 253, 254, 255]), contentType: "application/zip" }],
  });
  await annotate("refused", { body: "eA==", contentType: "not a media type" });
  expect(bytes.length).toBe(300 * 1024);
});
`;

describe("a Vitest test with attachments", () => {
  let server: TestServer;
  let token: string;
  let dir: string;
  let run: ProcessResult;

  beforeAll(async () => {
    server = await startTestServer();
    ({ token } = await createTestPrincipal(server.database));
    dir = createVitestProject({
      "vitest.config.mjs": vitestConfig({ token }),
      "checkout.test.mjs": attachingTest,
    });
    run = await runVitest(dir, { TESTTRACK_URL: server.url });
  });

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await server?.close();
  });

  async function download(id: number): Promise<Response> {
    return fetch(`${server.url}/api/v1/artifacts/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
  }

  it("uploads each attachment to the test's execution, downloadable byte-identical", async () => {
    expect(run.code, run.stderr).toBe(0);
    const client = createTestTrackClient({ url: server.url, token });
    const { items } = await client.execution.list.query({});
    expect(items).toHaveLength(1);
    const execution = await client.execution.get.query({ id: items[0]?.id ?? 0 });
    expect(
      execution.artifacts.map(({ name, kind, contentType }) => ({ name, kind, contentType })),
    ).toEqual([
      { name: "checkout page.png", kind: "screenshot", contentType: "image/png" },
      { name: "server log.txt", kind: "log", contentType: "text/plain" },
      { name: "shop:trace.zip", kind: "trace", contentType: "application/zip" },
    ]);
    const expected = [
      readFileSync(join(dir, "checkout.png")),
      Buffer.from("GET /cart 200\nPOST /pay 502\n"),
      Buffer.from([0, 1, 2, 253, 254, 255]),
    ];
    expect(expected[0]?.length).toBe(300 * 1024);
    for (const [i, artifact] of execution.artifacts.entries()) {
      const response = await download(artifact.id);
      expect(response.status).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.equals(expected[i] ?? Buffer.alloc(0)), artifact.name).toBe(true);
      expect(artifact.size).toBe(body.length);
    }
  });

  it("reports a refused upload on stderr without failing the run", () => {
    expect(run.stderr).toMatch(
      /TestTrack reporter: could not upload attachment "refused" of "checks out with evidence": the artifact upload failed with 400: .*media type/,
    );
    expect(run.stdout).toContain(
      "TestTrack: recorded 1 executions (1 passed, 0 failed, 0 skipped)",
    );
  });
});
