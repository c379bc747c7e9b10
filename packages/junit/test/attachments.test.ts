import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestTrackClient, type TestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachmentPaths } from "../src/importer";
import { testtrack } from "./fixtures";

const report = (output: string) => `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="checkout" tests="2">
  <testcase classname="shop.Checkout" name="pays" time="1.5">
    <failure message="payment declined">stack</failure>
    <system-out>${output}</system-out>
  </testcase>
  <testcase classname="shop.Checkout" name="lists" time="0.2"/>
</testsuite>
`;

describe("testtrack import --attachments", () => {
  let server: TestServer;
  let client: TestTrackClient;
  let env: Record<string, string>;
  let dir: string;
  const png = randomBytes(20_000);

  beforeAll(async () => {
    server = await startTestServer();
    const { token } = await createTestPrincipal(server.database);
    client = createTestTrackClient({ url: server.url, token });
    env = { TESTTRACK_URL: server.url, TESTTRACK_TOKEN: token, CI: "" };
    dir = mkdtempSync(join(tmpdir(), "testtrack-junit-attachments-"));
    mkdirSync(join(dir, "shots"));
    writeFileSync(join(dir, "shots", "failure.png"), png);
    writeFileSync(join(dir, "console.txt"), "GET /pay 502\n");
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads the Jenkins [[ATTACHMENT|path]] lines of a test's output, each once", () => {
    expect(
      attachmentPaths(
        "a\n[[ATTACHMENT|shots/a.png]]\n[[ATTACHMENT|/tmp/b.log]] [[ATTACHMENT|shots/a.png]]",
      ),
    ).toEqual(["shots/a.png", "/tmp/b.log"]);
    expect(attachmentPaths(undefined)).toEqual([]);
  });

  it("uploads the named files as the execution's artifacts, byte-identical", async () => {
    const file = join(dir, "report.xml");
    writeFileSync(
      file,
      report(
        `starting\n[[ATTACHMENT|shots/failure.png]]\n[[ATTACHMENT|${join(dir, "console.txt")}]]\n`,
      ),
    );
    const result = await testtrack(["import", "--attachments", file], env);
    expect(result.stderr).not.toContain("could not upload");
    expect(result.code).toBe(0);
    const { items } = await client.execution.list.query({ limit: 10 });
    const failed = items.find((item) => item.result === "fail");
    if (!failed) throw new Error(result.stdout + result.stderr);
    const detail = await client.execution.get.query({ id: failed.id });
    expect(detail.artifacts.map((a) => `${a.kind} ${a.name} ${a.contentType}`)).toEqual([
      "screenshot failure.png image/png",
      "log console.txt text/plain",
    ]);
    const downloaded = await fetch(new URL(detail.artifacts[0]?.url ?? "", server.url));
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(png)).toBe(true);
  });

  it("leaves attachments alone without --attachments, and reports a missing file", async () => {
    const file = join(dir, "second.xml");
    writeFileSync(
      file,
      report("[[ATTACHMENT|shots/missing.png]]").replace('name="pays"', 'name="pays again"'),
    );
    const result = await testtrack(["import", "--attachments", file], env);
    expect(result.stderr).toContain("attachment shots/missing.png: no such file");
    const plain = join(dir, "third.xml");
    writeFileSync(
      plain,
      report("[[ATTACHMENT|shots/failure.png]]").replace('name="pays"', 'name="pays plainly"'),
    );
    expect((await testtrack(["import", plain], env)).code).toBe(0);
    const { items } = await client.execution.list.query({ limit: 20 });
    const plainRun = items.find((item) => item.testCaseTitle.includes("pays plainly"));
    if (!plainRun) throw new Error("no execution of the plain import");
    expect((await client.execution.get.query({ id: plainRun.id })).artifacts).toEqual([]);
  });
});
