import { defineConfig } from "vitest/config";

// One engine only: the reporter speaks HTTP to the server, whose behaviour on both engines is
// pinned by apps/server's suites; a second pass would only run Chromium again (about a minute).
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
