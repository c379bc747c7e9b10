import type { Database } from "@testtrack/core";
import { sql } from "drizzle-orm";

// Every table a rejected call could touch, with the columns that must not change. Tokens'
// last_used_at is left out (reading with a token stamps it), and so is login_throttle, which
// counts failed logins on purpose.
const SNAPSHOT_QUERIES = {
  users: sql`select md5(coalesce(string_agg(u::text, '|' order by id), '')) as h, count(*)::int as n from users u`,
  api_tokens: sql`select md5(coalesce(string_agg(concat_ws(',', id, user_id, name, kind, token_hash, expires_at, revoked_at, project_id, project_role), '|' order by id), '')) as h, count(*)::int as n from api_tokens`,
  runs: sql`select md5(coalesce(string_agg(r::text, '|' order by id), '')) as h, count(*)::int as n from runs r`,
  run_shards: sql`select md5(coalesce(string_agg(s::text, '|' order by run_id, shard), '')) as h, count(*)::int as n from run_shards s`,
  projects: sql`select md5(coalesce(string_agg(p::text, '|' order by id), '')) as h, count(*)::int as n from projects p`,
  project_members: sql`select md5(coalesce(string_agg(m::text, '|' order by project_id, user_id), '')) as h, count(*)::int as n from project_members m`,
  test_cases: sql`select md5(coalesce(string_agg(t::text, '|' order by id), '')) as h, count(*)::int as n from test_cases t`,
  test_executions: sql`select md5(coalesce(string_agg(e::text, '|' order by id), '')) as h, count(*)::int as n from test_executions e`,
  test_execution_steps: sql`select md5(coalesce(string_agg(s::text, '|' order by id), '')) as h, count(*)::int as n from test_execution_steps s`,
};

/** A fingerprint of every row that matters: equal snapshots mean nothing changed. */
export async function tableSnapshot(db: Database): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(SNAPSHOT_QUERIES).map(async ([table, query]) => {
      const result = (await db.execute(query)) as unknown as
        | { rows: { h: string; n: number }[] }
        | { h: string; n: number }[];
      const rows = Array.isArray(result) ? result : result.rows;
      return [table, `${rows[0]?.n}:${rows[0]?.h}`] as const;
    }),
  );
  return Object.fromEntries(entries);
}
