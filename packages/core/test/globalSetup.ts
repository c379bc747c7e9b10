import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../src/db";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../src/embeddedPostgres";

/** The PostgreSQL server a test run uses, and the migrated database each test file clones. */
export interface TestServerDatabase {
  adminUrl: string;
  template: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    testDatabase: TestServerDatabase;
  }
}

/**
 * Once per test run: the PostgreSQL at TEST_DATABASE_URL, or else an embedded one in a
 * temporary folder (durability off: it is thrown away), with a template database migrated once.
 */
export default async function setup(project: TestProject) {
  let embedded: EmbeddedPostgres | undefined;
  let folder: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    folder = mkdtempSync(join(tmpdir(), "testtrack-test-pg-"));
    embedded = await startEmbeddedPostgres({
      dataDir: folder,
      settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" },
    });
    adminUrl = embedded.url;
  }
  const template = `testtrack_template_${randomBytes(5).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${template}`);
  const url = new URL(adminUrl);
  url.pathname = `/${template}`;
  const migrator = openDatabase({ url: url.toString(), maxConnections: 1 });
  await migrator.migrate();
  await migrator.close();
  project.provide("testDatabase", { adminUrl, template });
  return async () => {
    await admin.unsafe(`drop database if exists ${template} with (force)`);
    await admin.end();
    await embedded?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  };
}
