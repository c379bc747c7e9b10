import { defineConfig } from "vitest/config";

// Each test starts real server processes (PGlite boots in seconds) and runs verify as a child.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
