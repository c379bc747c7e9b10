import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // One PostgreSQL per run (TEST_DATABASE_URL or an embedded one), a database per test file.
    globalSetup: ["../../packages/core/test/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
