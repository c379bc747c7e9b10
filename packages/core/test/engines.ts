import type { TestProjectInlineConfiguration } from "vitest/config";

/**
 * Vitest projects running a package's suite once per database engine: PGlite always, and the
 * PostgreSQL server at TEST_DATABASE_URL when it is set.
 */
export function engineProjects(): TestProjectInlineConfiguration[] {
  const engines = ["pglite", ...(process.env.TEST_DATABASE_URL ? ["postgres"] : [])];
  return engines.map((engine) => ({
    extends: true,
    test: { name: engine, env: { TESTTRACK_TEST_ENGINE: engine } },
  }));
}
