import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestServer, type TestServer } from "./fixtures";

// The REST layer loads after the host is created (http.ts imports it in the background); here
// that import fails, as a bundle with a chunk missing would.
vi.mock("../src/rest/handler", () => {
  throw new Error("a chunk of the REST layer is missing");
});

describe("a host whose REST layer did not load", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("is not healthy, and answers REST requests with a typed error instead of hanging", async () => {
    const rest = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(rest.status).toBe(500);
    expect(await rest.json()).toEqual({
      code: "INTERNAL_SERVER_ERROR",
      message: "REST is not available; the server log says why",
    });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({
      status: "unavailable",
      reason: "the REST layer did not load",
    });
    // tRPC does not depend on it.
    const trpc = await fetch(`${server.trpcUrl}/auth.me`);
    expect(trpc.status).toBe(401);
  });
});
