-- Deleting a user keeps what they recorded: test cases and executions belong to their project
-- (a team's history), so their user_id becomes NULL instead of taking them along. Their personal
-- project still goes with them, and everything in it.
ALTER TABLE "test_executions" DROP CONSTRAINT "test_executions_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "test_cases" DROP CONSTRAINT "test_cases_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "test_executions" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "test_cases" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "test_executions" ADD CONSTRAINT "test_executions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_cases" ADD CONSTRAINT "test_cases_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
-- The run trigger of 0016, with the verdict of a finished run kept equal to its counts.
CREATE OR REPLACE FUNCTION testtrack_run_outcomes() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  touched text;
  any_touched boolean;
BEGIN
  touched := CASE TG_OP
    WHEN 'INSERT' THEN
      'SELECT DISTINCT run_id, test_case_id FROM new_rows
       WHERE run_id IS NOT NULL AND status IN (''completed'', ''failed'', ''cancelled'')'
    WHEN 'DELETE' THEN
      'SELECT DISTINCT run_id, test_case_id FROM old_rows
       WHERE run_id IS NOT NULL AND status IN (''completed'', ''failed'', ''cancelled'')'
    ELSE
      'SELECT x.run_id, x.test_case_id FROM old_rows o JOIN new_rows n USING (id)
       CROSS JOIN LATERAL (VALUES (o.run_id, o.test_case_id), (n.run_id, n.test_case_id)) AS x(run_id, test_case_id)
       WHERE x.run_id IS NOT NULL
         AND (o.status IN (''completed'', ''failed'', ''cancelled'') OR n.status IN (''completed'', ''failed'', ''cancelled''))
         AND (o.run_id, o.test_case_id, o.status, o.result, o.attempt, o.duration_seconds)
           IS DISTINCT FROM (n.run_id, n.test_case_id, n.status, n.result, n.attempt, n.duration_seconds)
       GROUP BY 1, 2'
  END;
  -- Most statements (step uploads, runs' own bookkeeping) touch no finished execution of a run.
  EXECUTE format('SELECT EXISTS (%s)', touched) INTO any_touched;
  IF NOT any_touched THEN
    RETURN NULL;
  END IF;
  EXECUTE format('SELECT 1 FROM runs r WHERE r.id IN (SELECT run_id FROM (%s) t) ORDER BY r.id FOR NO KEY UPDATE', touched);
  -- A new statement, so a new snapshot: what other writers of these runs committed is seen.
  EXECUTE format($q$
  WITH touched AS (%s),
  computed AS (
    SELECT t.run_id, t.test_case_id, last.id AS execution_id, last.duration_seconds, agg.attempts,
      CASE
        WHEN last.result = 'pass' AND agg.failed_before THEN 'flaky'
        WHEN last.result = 'pass' THEN 'passed'
        WHEN last.result IN ('fail', 'error') THEN 'failed'
        ELSE 'skipped' END::test_outcome AS outcome
    FROM touched t
    JOIN runs r ON r.id = t.run_id
    CROSS JOIN LATERAL (
      SELECT e.id, e.result, e.duration_seconds FROM test_executions e
      WHERE e.run_id = t.run_id AND e.test_case_id = t.test_case_id
        AND e.status IN ('completed', 'failed', 'cancelled')
      -- The last attempt: the highest attempt number, the latest execution among equals.
      ORDER BY e.attempt DESC, e.id DESC LIMIT 1) last
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS attempts, coalesce(bool_or(e.result IN ('fail', 'error')), false) AS failed_before
      FROM test_executions e
      WHERE e.run_id = t.run_id AND e.test_case_id = t.test_case_id
        AND e.status IN ('completed', 'failed', 'cancelled')) agg
    WHERE EXISTS (SELECT 1 FROM test_cases tc WHERE tc.id = t.test_case_id)
  ),
  previous AS (
    SELECT rt.run_id, rt.test_case_id, rt.outcome FROM run_tests rt
    JOIN touched t USING (run_id, test_case_id)
  ),
  upserted AS (
    INSERT INTO run_tests AS rt (run_id, test_case_id, outcome, execution_id, attempts, duration_seconds)
    SELECT run_id, test_case_id, outcome, execution_id, attempts, duration_seconds FROM computed
    ORDER BY run_id, test_case_id
    ON CONFLICT (run_id, test_case_id) DO UPDATE SET outcome = excluded.outcome,
      execution_id = excluded.execution_id, attempts = excluded.attempts,
      duration_seconds = excluded.duration_seconds
    RETURNING rt.run_id, rt.test_case_id, rt.outcome
  ),
  -- (Data-modifying: runs whether or not it is read.)
  removed AS (
    DELETE FROM run_tests rt USING previous p
    WHERE rt.run_id = p.run_id AND rt.test_case_id = p.test_case_id
      AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.run_id = p.run_id AND c.test_case_id = p.test_case_id)
    RETURNING rt.run_id
  ),
  changes AS (
    SELECT coalesce(u.run_id, p.run_id) AS run_id, u.outcome AS now, p.outcome AS was
    FROM upserted u FULL JOIN previous p USING (run_id, test_case_id)
  ),
  delta AS (
    SELECT run_id,
      count(now) - count(was) AS tests,
      count(*) FILTER (WHERE now = 'passed') - count(*) FILTER (WHERE was = 'passed') AS passed,
      count(*) FILTER (WHERE now = 'failed') - count(*) FILTER (WHERE was = 'failed') AS failed,
      count(*) FILTER (WHERE now = 'flaky') - count(*) FILTER (WHERE was = 'flaky') AS flaky,
      count(*) FILTER (WHERE now = 'skipped') - count(*) FILTER (WHERE was = 'skipped') AS skipped
    FROM changes GROUP BY run_id
  )
  UPDATE runs r SET tests = r.tests + d.tests, passed = r.passed + d.passed,
    failed = r.failed + d.failed, flaky = r.flaky + d.flaky, skipped = r.skipped + d.skipped,
    last_activity_at = greatest(r.last_activity_at, now()),
    -- A finished run's verdict follows an execution that finishes after it (one that started
    -- while the run was finishing): failed as soon as a test's outcome is failed, else passed.
    status = CASE WHEN r.status IN ('passed', 'failed') THEN
      CASE WHEN r.failed + d.failed > 0 THEN 'failed'::run_status ELSE 'passed'::run_status END
      ELSE r.status END
  FROM delta d WHERE r.id = d.run_id
  $q$, touched);
  RETURN NULL;
END
$fn$;
