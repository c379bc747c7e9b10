import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, queryRows, type TestDatabase } from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

// Every column of the seed's CREATE TABLE statements (seed/000_a6d068172fed7dd4.txt).
const SEED_EXECUTION_COLUMNS = [
  "id",
  "test_case_id",
  "user_id",
  "status",
  "result",
  "started_at",
  "completed_at",
  "duration_seconds",
  "browser",
  "environment",
  "base_url",
  "total_steps",
  "passed_steps",
  "failed_steps",
  "skipped_steps",
  "console_log",
  "error_message",
  "screenshot_path",
  "video_path",
  "triggered_by",
  "trigger_details",
  "created_at",
  "updated_at",
];

const SEED_STEP_COLUMNS = [
  "id",
  "execution_id",
  "step_number",
  "step_description",
  "expected_result",
  "result",
  "actual_result",
  "error_message",
  "started_at",
  "completed_at",
  "duration_seconds",
  "screenshot_path",
  "screenshot_before",
  "screenshot_after",
  "retry_count",
  "is_critical",
  "created_at",
];

interface ColumnInfo {
  column_name: string;
  data_type: string;
}

function columnsOf(table: string) {
  return queryRows<ColumnInfo>(
    h,
    sql`select column_name, data_type from information_schema.columns
        where table_schema = 'public' and table_name = ${table}`,
  );
}

describe("the migrated schema", () => {
  it("has every seed column of test_executions", async () => {
    const names = (await columnsOf("test_executions")).map((c) => c.column_name);
    expect(names).toEqual(expect.arrayContaining(SEED_EXECUTION_COLUMNS));
  });

  it("has every seed column of test_execution_steps", async () => {
    const names = (await columnsOf("test_execution_steps")).map((c) => c.column_name);
    expect(names).toEqual(expect.arrayContaining(SEED_STEP_COLUMNS));
  });

  it("stores every time of both tables as timestamptz", async () => {
    for (const table of ["test_executions", "test_execution_steps"]) {
      const timeColumns = (await columnsOf(table)).filter((c) => c.column_name.endsWith("_at"));
      expect(timeColumns.length).toBeGreaterThanOrEqual(3);
      for (const column of timeColumns) {
        expect(column.data_type).toBe("timestamp with time zone");
      }
    }
  });

  it("deletes on cascade along project → executions, user → executions, test case → executions and execution → steps", async () => {
    const rows = await queryRows<{ table_name: string; column_name: string; delete_rule: string }>(
      h,
      sql`select distinct kcu.table_name, kcu.column_name,
            rc.delete_rule || case when rc.update_rule = 'CASCADE' then ' ON UPDATE CASCADE' else '' end
              || case when kcu.table_name = 'test_execution_steps' then ' ' || rc.constraint_name else '' end
              as delete_rule
          from information_schema.referential_constraints rc
          join information_schema.key_column_usage kcu
            on kcu.constraint_name = rc.constraint_name and kcu.constraint_schema = rc.constraint_schema
          where rc.constraint_schema = 'public'
            and kcu.table_name in ('test_executions', 'test_execution_steps')`,
    );
    const rules = rows.map((r) => `${r.table_name}.${r.column_name}:${r.delete_rule}`).sort();
    expect(rules).toEqual([
      // One key, (execution_id, execution_created_at) → (id, created_at): see partitions.test.ts.
      "test_execution_steps.execution_created_at:CASCADE ON UPDATE CASCADE test_execution_steps_execution_fk",
      "test_execution_steps.execution_id:CASCADE ON UPDATE CASCADE test_execution_steps_execution_fk",
      "test_executions.project_id:CASCADE",
      // Deleting a run keeps its executions (results are never lost with a run).
      "test_executions.run_id:SET NULL",
      "test_executions.test_case_id:CASCADE",
      // A deleted user's results stay with their project.
      "test_executions.user_id:SET NULL",
    ]);
  });

  it("has the seed's indexes on test_executions", async () => {
    const rows = await queryRows<{ indexdef: string }>(
      h,
      sql`select indexdef from pg_indexes where schemaname = 'public' and tablename = 'test_executions'`,
    );
    const singleColumn = rows
      .map((r) => /USING btree \((\w+)\)$/.exec(r.indexdef)?.[1])
      .filter((column): column is string => column !== undefined);
    expect(singleColumn).toEqual(
      expect.arrayContaining(["test_case_id", "user_id", "status", "result", "created_at"]),
    );
  });
});

describe("execution list indexes", () => {
  // The planner's own choice depends on the data; with scans and sorts priced out, a plan that
  // still sorts means no index can give newest-first order for this filter.
  async function planOf(query: SQL): Promise<string> {
    return h.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      await tx.execute(sql`set local enable_sort = off`);
      await tx.execute(sql`set local enable_bitmapscan = off`);
      const rows = await queryRows<{ "QUERY PLAN": string }>({ db: tx }, sql`explain ${query}`);
      return rows.map((row) => row["QUERY PLAN"]).join("\n");
    });
  }

  it.each([
    ["a project's page", sql`project_id = 1`, "test_executions_project_list_idx"],
    [
      "a project's filtered page",
      sql`project_id = 1 and status = 'completed' and browser = 'chromium'`,
      "test_executions_project_list_idx",
    ],
    [
      "an admin's filtered page",
      sql`result = 'fail' and environment = 'staging'`,
      "test_executions_list_idx",
    ],
    ["a test case's history", sql`test_case_id = 1`, "test_executions_case_list_idx"],
  ])("reads %s newest first from an index, without sorting", async (_, where, index) => {
    const plan = await planOf(
      sql`select id from test_executions where ${where} order by created_at desc, id desc limit 50`,
    );
    expect(plan).toMatch(new RegExp(`Index (Only )?Scan Backward using ${index} `));
    expect(plan).not.toMatch(/Sort/);
  });

  it("checks the filters in the index, so skipped rows are never read from the table", async () => {
    const plan = await planOf(
      sql`select id from test_executions where project_id = 1 and status = 'completed' and browser = 'chromium'
        order by created_at desc, id desc limit 50`,
    );
    expect(plan).toMatch(
      /Index Cond: \(\(project_id = 1\) AND \(status = 'completed'.*browser.*chromium/,
    );
    expect(plan).not.toMatch(/Filter:/);
  });
});
