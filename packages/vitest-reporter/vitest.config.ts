import { defineConfig } from "vitest/config";
import { engineProjects } from "../../packages/core/test/engines.ts";

export default defineConfig({
  test: {
    projects: engineProjects(),
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
