import { join } from "node:path";
import { createTestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturesDir, testtrack } from "./fixtures";

const committedReports = { go: join(fixturesDir, "go-junit-report-2.1.0.xml") };

describe("testtrack project and token", () => {
  let server: TestServer;
  let env: Record<string, string>;
  let teammate: Awaited<ReturnType<typeof createTestPrincipal>>;

  beforeAll(async () => {
    server = await startTestServer();
    const { token } = await createTestPrincipal(server.database);
    teammate = await createTestPrincipal(server.database);
    env = { TESTTRACK_URL: server.url, TESTTRACK_TOKEN: token, CI: "" };
  });
  afterAll(async () => {
    await server?.close();
  });

  it("creates a project, adds a teammate, lists both, and imports with a project token", async () => {
    const created = await testtrack(["project", "create", "web-shop", "--name", "Web shop"], env);
    expect(created.stderr).toBe("");
    expect(created.stdout).toMatch(/^Created project web-shop \(id \d+\); you maintain it\n$/);

    const added = await testtrack(
      ["project", "add-member", "web-shop", teammate.email, "--role", "viewer"],
      env,
    );
    expect(added.stdout.trim()).toBe(`Added ${teammate.email} as viewer`);

    const list = await testtrack(["project", "list"], env);
    expect(list.code).toBe(0);
    const rows = list.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^ID\s+SLUG\s+ROLE\s+NAME$/);
    expect(rows.some((row) => /\bweb-shop\s+maintainer\s+Web shop$/.test(row))).toBe(true);
    expect(rows.some((row) => /\bpersonal-\d+\s+maintainer\s/.test(row))).toBe(true);

    const members = await testtrack(["project", "members", "web-shop", "--json"], env);
    const parsed = JSON.parse(members.stdout) as { email: string; role: string }[];
    expect(parsed.map((m) => m.role).sort()).toEqual(["maintainer", "viewer"]);
    expect(parsed.map((m) => m.email)).toContain(teammate.email);

    // A CI token that reaches web-shop only: the import lands there without naming it.
    const issued = await testtrack(
      ["token", "create", "--name", "ci", "--project", "web-shop", "--json"],
      env,
    );
    const token = JSON.parse(issued.stdout) as { token: string; role: string; projectId: number };
    expect(token.role).toBe("member");
    const imported = await testtrack(["import", committedReports.go], {
      ...env,
      TESTTRACK_TOKEN: token.token,
    });
    expect(imported.code, imported.stderr).toBe(0);
    const viewer = createTestTrackClient({ url: server.url, token: teammate.token });
    const shared = await viewer.execution.list.query({ projectId: token.projectId });
    expect(shared.total).toBeGreaterThan(0);
    // The token's user's personal project got nothing.
    const own = createTestTrackClient({ url: server.url, token: env.TESTTRACK_TOKEN ?? "" });
    expect((await own.execution.list.query({})).total).toBe(0);

    // The teammate is a viewer: their import into web-shop is refused, with the server's reason.
    const refused = await testtrack(["import", committedReports.go, "--project", "web-shop"], {
      ...env,
      TESTTRACK_TOKEN: teammate.token,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/viewer/);
  });

  it("answers usage mistakes with exit code 2 and unknown projects with the server's NOT_FOUND", async () => {
    const usage = await testtrack(["project", "create", "x"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/project create needs <slug> and --name/);
    const role = await testtrack(["token", "create", "--name", "x", "--role", "viewer"], env);
    expect(role.code).toBe(2);
    const missing = await testtrack(["project", "members", "no-such-project"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("testtrack: Project no-such-project was not found (NOT_FOUND)\n");
  });
});
