import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTestDatabase, type TestDatabase } from "@testtrack/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./fixtures";

const INDEX = '<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>';

let folder: string;
let database: TestDatabase;
let built: TestServer;
let notBuilt: TestServer;
beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "testtrack-dashboard-"));
  const dist = join(folder, "dist");
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(join(dist, "index.html"), INDEX);
  writeFileSync(join(dist, "assets", "app-1a2b.js"), "console.log('dashboard');");
  writeFileSync(join(dist, "assets", "app-1a2b.css"), "body{}");
  writeFileSync(join(dist, "favicon.svg"), "<svg/>");
  writeFileSync(join(dist, ".env"), "SECRET=in-dist");
  writeFileSync(join(folder, "secret.txt"), "SECRET=beside-dist");
  database = await openTestDatabase();
  built = await startTestServer({ database, dashboardDir: dist });
  notBuilt = await startTestServer({ database, dashboardDir: join(folder, "missing") });
});
afterAll(async () => {
  await built.close();
  await notBuilt.close();
  await database.close();
  rmSync(folder, { recursive: true, force: true });
});

/** A GET with the path sent exactly as written (fetch would resolve `..` segments first). */
function rawGet(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

const page = { accept: "text/html,application/xhtml+xml" };

describe("the dashboard", () => {
  it("serves its files with their content types, built assets cached for good", async () => {
    const script = await fetch(`${built.url}/assets/app-1a2b.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await script.text()).toBe("console.log('dashboard');");
    const style = await fetch(`${built.url}/assets/app-1a2b.css`);
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const icon = await fetch(`${built.url}/favicon.svg`);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers index.html at / and for any page a browser opens, with a content security policy", async () => {
    for (const path of ["/", "/executions/42", "/statistics?x=1"]) {
      const answer = await fetch(`${built.url}${path}`, { headers: page });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(answer.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(answer.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(await answer.text()).toBe(INDEX);
    }
  });

  it("answers 404 for a missing file, 405 for a non-page method, and leaves the API alone", async () => {
    const asset = await fetch(`${built.url}/assets/gone-0000.js`);
    expect(asset.status).toBe(404);
    const api = await fetch(`${built.url}/api/executions`);
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: "nothing at /api/executions; the API is at /trpc" });
    const post = await fetch(`${built.url}/`, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const health = await fetch(`${built.url}/healthz`);
    expect(await health.json()).toMatchObject({ status: "ok" });
  });

  it("never serves a file outside its folder, or a dot file inside it", async () => {
    const attempts = [
      "/../secret.txt",
      "/assets/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "/%2e%2e%2fsecret.txt",
      "/.env",
      "/assets/%00.js",
      "/%E0%A4%A",
    ];
    for (const path of attempts) {
      for (const headers of [{}, page]) {
        const answer = await rawGet(built, path, headers);
        expect(answer.body, path).not.toContain("SECRET");
        if (answer.status === 200) expect(answer.body, path).toBe(INDEX);
      }
    }
  });

  it("explains how to build it when it is not built", async () => {
    const answer = await fetch(`${notBuilt.url}/`);
    expect(answer.status).toBe(503);
    expect(answer.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await answer.text()).toContain("pnpm --filter @testtrack/web build");
    const api = await fetch(`${notBuilt.url}/trpc/auth.me`);
    expect(api.status).toBe(401);
  });
});
