import { defineConfig } from "vitest/config";
import { engineProjects } from "../../packages/core/test/engines.ts";

export default defineConfig({
  test: {
    projects: engineProjects(),
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
