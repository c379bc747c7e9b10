CREATE TYPE "public"."run_status" AS ENUM('running', 'passed', 'failed', 'cancelled', 'timed_out');--> statement-breakpoint
CREATE TYPE "public"."test_outcome" AS ENUM('passed', 'failed', 'flaky', 'skipped');--> statement-breakpoint
CREATE TABLE "run_shards" (
	"run_id" integer NOT NULL,
	"shard" integer NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "run_shards_run_id_shard_pk" PRIMARY KEY("run_id","shard")
);
--> statement-breakpoint
CREATE TABLE "run_tests" (
	"run_id" integer NOT NULL,
	"test_case_id" integer NOT NULL,
	"outcome" "test_outcome" NOT NULL,
	"execution_id" integer NOT NULL,
	"attempts" integer NOT NULL,
	"duration_seconds" double precision,
	CONSTRAINT "run_tests_run_id_test_case_id_pk" PRIMARY KEY("run_id","test_case_id")
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"key" varchar(200) NOT NULL,
	"name" varchar(200),
	"branch" varchar(200),
	"commit_sha" varchar(64),
	"commit_message" text,
	"pull_request" varchar(200),
	"ci_provider" varchar(50),
	"ci_url" varchar(500),
	"status" "run_status" DEFAULT 'running' NOT NULL,
	"expected_shards" integer,
	"tests" integer DEFAULT 0 NOT NULL,
	"passed" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"flaky" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"quarantined" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"last_activity_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "run_id" integer;--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "attempt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "run_shards" ADD CONSTRAINT "run_shards_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_tests" ADD CONSTRAINT "run_tests_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_tests" ADD CONSTRAINT "run_tests_test_case_id_test_cases_id_fk" FOREIGN KEY ("test_case_id") REFERENCES "public"."test_cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "run_tests_outcome_idx" ON "run_tests" USING btree ("run_id","outcome","test_case_id");--> statement-breakpoint
CREATE UNIQUE INDEX "runs_project_key" ON "runs" USING btree ("project_id","key");--> statement-breakpoint
CREATE INDEX "runs_project_list_idx" ON "runs" USING btree ("project_id","started_at","id");--> statement-breakpoint
CREATE INDEX "runs_list_idx" ON "runs" USING btree ("started_at","id");--> statement-breakpoint
CREATE INDEX "runs_project_branch_idx" ON "runs" USING btree ("project_id","branch","started_at");--> statement-breakpoint
CREATE INDEX "runs_running_idx" ON "runs" USING btree ("status","last_activity_at");--> statement-breakpoint
ALTER TABLE "test_executions" ADD CONSTRAINT "test_executions_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "test_executions_run_idx" ON "test_executions" USING btree ("run_id","test_case_id","attempt");--> statement-breakpoint
-- Keeps run_tests (each test's outcome in a run: its last finished attempt's result; flaky when
-- an earlier attempt failed or errored and the last passed) and the run's counts equal to what
-- its finished executions say, in the writing transaction. Statement-level like the roll-ups:
-- only the (run, test) pairs whose finished executions changed are recomputed from their few
-- attempts, and the counts move by the difference. The run rows are locked first (in id order),
-- so writers of one run's outcomes take turns and every statement after the lock reads what the
-- others committed. The lock is FOR NO KEY UPDATE: executions being inserted into the run hold
-- KEY SHARE on it (their foreign key) while their own roll-up upserts wait, and a FOR UPDATE
-- here would deadlock with them.
CREATE FUNCTION testtrack_run_outcomes() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
    last_activity_at = greatest(r.last_activity_at, now())
  FROM delta d WHERE r.id = d.run_id
  $q$, touched);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER test_executions_run_outcomes_insert AFTER INSERT ON test_executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_run_outcomes();
--> statement-breakpoint
CREATE TRIGGER test_executions_run_outcomes_update AFTER UPDATE ON test_executions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_run_outcomes();
--> statement-breakpoint
CREATE TRIGGER test_executions_run_outcomes_delete AFTER DELETE ON test_executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_run_outcomes();
