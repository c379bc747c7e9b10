import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { expect, it } from "vitest";
import { migrationsFolder, openDatabase, queryRows } from "../src/db";
import { testDatabaseUrl } from "./fixtures";

it("migrates a new database once when three instances start on it at the same moment", async () => {
  const name = `testtrack_migrate_${randomBytes(6).toString("hex")}`;
  const admin = postgres(testDatabaseUrl("postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const instances = [1, 2, 3].map(() => openDatabase({ url: testDatabaseUrl(name) }));
  try {
    const outcomes = await Promise.allSettled(instances.map((instance) => instance.migrate()));
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    const [first] = instances;
    if (!first) throw new Error("no instance");
    const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta/_journal.json"), "utf8"));
    const [applied] = await queryRows<{ n: number }>(
      first.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    expect(applied?.n).toBe(journal.entries.length);
  } finally {
    for (const instance of instances) await instance.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
});
