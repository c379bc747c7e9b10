import { defineConfig } from "vitest/config";

// Each test starts real server processes (each on a fresh embedded PostgreSQL) and runs verify.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
