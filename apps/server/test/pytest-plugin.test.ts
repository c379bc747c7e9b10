import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestPrincipal,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "./fixtures";

/**
 * The Python package (clients/python) against a real server: Debian's pytest runs a sample suite
 * with the plugin, and the executions are read back through the REST API.
 */
const PYTHON_PACKAGE = fileURLToPath(new URL("../../../clients/python", import.meta.url));

function pytestVersion(): string | null {
  try {
    return execFileSync("python3", ["-m", "pytest", "--version"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

const version = pytestVersion();
if (!version) {
  console.warn(
    "skipping the pytest plugin tests: python3 with pytest is not installed " +
      "(on Debian: apt-get install -y python3-pytest)",
  );
}

const SAMPLE_SUITE = `
import pytest

def test_pass():
    print("hello from pass")

def test_fail():
    assert 1 == 2

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_error(broken):
    pass

@pytest.mark.skip(reason="not today")
def test_skip():
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False
`;

/** A failing test attaching a file by path, a log with its own name and kind, and a missing file. */
const ATTACHING_SUITE = `
import os

HERE = os.path.dirname(__file__)

def test_checkout(testtrack_attach, tmp_path):
    testtrack_attach(os.path.join(HERE, "checkout.png"))
    log = tmp_path / "server.log"
    log.write_bytes(b"GET /cart 200\\nPOST /pay 502\\n")
    testtrack_attach(log, name="server output.txt", kind="log", content_type="text/plain")
    testtrack_attach(os.path.join(HERE, "never-written.png"))
    assert False, "the payment failed"
`;

// Variables that would make the sample run join a CI build of this machine's own CI.
const CI_VARIABLES =
  /^(GITHUB_|GITLAB_CI|CI_|BUILDKITE|CIRCLE|JENKINS_|BUILD_|TF_BUILD|SYSTEM_|TESTTRACK_|PYTEST_)/;

function pythonEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !CI_VARIABLES.test(name)),
  );
  // The entry point is not installed here: the plugin is named with -p instead.
  return { ...env, PYTHONPATH: PYTHON_PACKAGE, PYTEST_DISABLE_PLUGIN_AUTOLOAD: "1", ...extra };
}

function runPytest(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      "python3",
      ["-m", "pytest", "-p", "no:cacheprovider", ...args],
      { env, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe.skipIf(!version)("the pytest plugin", () => {
  let server: TestServer;
  let member: TestPrincipal;
  let suite: string;
  beforeAll(async () => {
    server = await startTestServer();
    member = await createTestPrincipal(server.database);
    suite = await mkdtemp(join(tmpdir(), "testtrack-pytest-"));
    await writeFile(join(suite, "test_sample.py"), SAMPLE_SUITE);
  });
  afterAll(async () => {
    await server.close();
    await rm(suite, { recursive: true, force: true });
  });

  async function get(path: string) {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      headers: { authorization: `Bearer ${member.token}` },
    });
    expect(response.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: a JSON body is inspected field by field
    return (await response.json()) as any;
  }

  it("passes its own unit tests (CI detection, reruns, a server that is down)", async () => {
    const { code, output } = await runPytest(["-q", join(PYTHON_PACKAGE, "tests")], pythonEnv({}));
    expect(code, output).toBe(0);
  });

  it("records each test of a real pytest session with its outcome, in the run of its key", async () => {
    const { code, output } = await runPytest(
      [
        "-p",
        "testtrack.plugin",
        "--testtrack-url",
        server.url,
        "--testtrack-token",
        member.token,
        "-q",
        "-rA",
        suite,
      ],
      pythonEnv({ TESTTRACK_RUN_KEY: "pytest-sample-1" }),
    );
    // pytest's own exit code for a session with a failure: the plugin changes nothing.
    expect(code, output).toBe(1);
    expect(output).toContain("TestTrack: recorded 5 executions in run pytest-sample-1");
    expect(output).not.toContain("TestTrack warning");

    const page = await get("/executions?limit=100");
    expect(page.total).toBe(5);
    const byTitle = Object.fromEntries(
      page.items.map((item: { testCaseTitle: string }) => [item.testCaseTitle, item]),
    );
    expect(Object.keys(byTitle).sort()).toEqual([
      "test_error",
      "test_fail",
      "test_pass",
      "test_skip",
      "test_xfail",
    ]);
    const results = Object.fromEntries(
      Object.entries(byTitle).map(([title, item]) => [title, (item as { result: string }).result]),
    );
    expect(results).toEqual({
      test_pass: "pass",
      test_fail: "fail",
      test_error: "error",
      test_skip: "skip",
      test_xfail: "skip",
    });
    for (const item of page.items) {
      expect(item.status).toBe("completed");
      expect(item.durationSeconds).toBeGreaterThanOrEqual(0);
      expect(item.startedAt).not.toBeNull();
      expect(item.runId).not.toBeNull();
    }

    const pass = await get(`/executions/${byTitle.test_pass.id}`);
    expect(pass.consoleLog).toContain("hello from pass");
    const fail = await get(`/executions/${byTitle.test_fail.id}`);
    expect(fail.errorMessage).toContain("assert 1 == 2");
    const error = await get(`/executions/${byTitle.test_error.id}`);
    expect(error.errorMessage).toContain("fixture broke");
    expect((await get(`/executions/${byTitle.test_xfail.id}`)).errorMessage).toBe(
      "xfail: known bug",
    );

    // Test cases by node id, so the next session finds the same ones.
    const testCase = await get(`/tests/${byTitle.test_pass.testCaseId}`);
    expect(testCase.key).toMatch(/test_sample\.py::test_pass$/);
    const run = await get(`/runs/${byTitle.test_pass.runId}`);
    expect(run).toMatchObject({ key: "pytest-sample-1", status: "failed" });
  });

  it("exits 0 when every failing test is quarantined, and the run passes with them counted apart", async () => {
    const page = await get("/executions?limit=100");
    const failing = page.items.filter(
      (item: { result: string; runId: number | null }) =>
        item.result === "fail" || item.result === "error",
    );
    expect(failing).toHaveLength(2);
    for (const item of failing) {
      const response = await fetch(`${server.url}/api/v1/tests/${item.testCaseId}/quarantine`, {
        method: "POST",
        headers: { authorization: `Bearer ${member.token}`, "content-type": "application/json" },
        body: JSON.stringify({ reason: "known to fail" }),
      });
      expect(response.status).toBe(200);
    }
    const { code, output } = await runPytest(
      [
        "-p",
        "testtrack.plugin",
        "--testtrack-url",
        server.url,
        "--testtrack-token",
        member.token,
        "-q",
        suite,
      ],
      pythonEnv({ TESTTRACK_RUN_KEY: "pytest-sample-quarantined" }),
    );
    expect(output).toContain(
      "TestTrack: 2 failing tests are in quarantine: they do not fail the session",
    );
    expect(code, output).toBe(0);
    const runs = await get("/runs?limit=10");
    const run = runs.items.find((r: { key: string }) => r.key === "pytest-sample-quarantined");
    expect(run).toMatchObject({ status: "passed", failed: 0, quarantined: 2 });
  });

  it("uploads the files a test attaches with testtrack_attach, downloadable byte-identical", async () => {
    const attaching = await mkdtemp(join(tmpdir(), "testtrack-pytest-attach-"));
    try {
      await writeFile(join(attaching, "test_attach.py"), ATTACHING_SUITE);
      const screenshot = randomBytes(512 * 1024);
      await writeFile(join(attaching, "checkout.png"), screenshot);
      const { code, output } = await runPytest(
        ["-p", "testtrack.plugin", "--testtrack-url", server.url, "-q", attaching],
        pythonEnv({ TESTTRACK_TOKEN: member.token, TESTTRACK_RUN_KEY: "pytest-attachments" }),
      );
      // The test's own failure decides the exit code; the file that could not go up does not.
      expect(code, output).toBe(1);
      expect(output).toMatch(/1 failed/);
      expect(output).toContain(
        "TestTrack: recorded 1 executions, uploaded 2 artifacts in run pytest-attachments",
      );
      expect(output).toMatch(
        /TestTrack warning: \S*test_attach\.py::test_checkout: could not upload never-written\.png: \[Errno 2\]/,
      );

      const page = await get("/executions?limit=100");
      const item = page.items.find(
        (candidate: { testCaseTitle: string }) => candidate.testCaseTitle === "test_checkout",
      );
      const execution = await get(`/executions/${item.id}`);
      expect(execution.result).toBe("fail");
      expect(
        execution.artifacts.map((a: { name: string; kind: string; contentType: string }) => [
          a.name,
          a.kind,
          a.contentType,
        ]),
      ).toEqual([
        ["checkout.png", "screenshot", "image/png"],
        ["server output.txt", "log", "text/plain"],
      ]);
      const expected = [screenshot, Buffer.from("GET /cart 200\nPOST /pay 502\n")];
      expect(await readFile(join(attaching, "checkout.png"))).toEqual(screenshot);
      for (const [i, artifact] of execution.artifacts.entries()) {
        const response = await fetch(`${server.url}/api/v1/artifacts/${artifact.id}`, {
          headers: { authorization: `Bearer ${member.token}` },
        });
        expect(response.status).toBe(200);
        const body = Buffer.from(await response.arrayBuffer());
        expect(body.equals(expected[i] ?? Buffer.alloc(0)), artifact.name).toBe(true);
      }
    } finally {
      await rm(attaching, { recursive: true, force: true });
    }
  });

  it("completes the session with pytest's exit code and one warning when the server is down", async () => {
    const url = server.url;
    await server.close();
    const started = Date.now();
    const { code, output } = await runPytest(
      ["-p", "testtrack.plugin", "--testtrack-url", url, "-q", suite],
      pythonEnv({ TESTTRACK_TOKEN: member.token, TESTTRACK_RUN_KEY: "pytest-sample-2" }),
    );
    expect(code, output).toBe(1);
    expect(output).toMatch(/1 failed, 1 passed, 1 skipped, 1 xfailed, 1 error/);
    expect(output.match(/TestTrack warning/g)).toHaveLength(1);
    expect(output).toContain("results were not recorded");
    expect(Date.now() - started).toBeLessThan(30_000);
    server = await startTestServer();
  });
});
