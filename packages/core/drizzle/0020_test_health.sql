CREATE TABLE "events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"project_id" integer NOT NULL,
	"type" varchar(50) NOT NULL,
	"run_id" integer,
	"test_case_id" integer,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarantines" (
	"project_id" integer NOT NULL,
	"test_case_id" integer NOT NULL,
	"reason" varchar(500) NOT NULL,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "quarantines_project_id_test_case_id_pk" PRIMARY KEY("project_id","test_case_id")
);
--> statement-breakpoint
CREATE TABLE "test_commit_outcomes" (
	"project_id" integer NOT NULL,
	"test_case_id" integer NOT NULL,
	"commit_sha" varchar(64) NOT NULL,
	"passes" integer DEFAULT 0 NOT NULL,
	"fails" integer DEFAULT 0 NOT NULL,
	"last_pass_at" timestamp with time zone,
	"last_fail_at" timestamp with time zone,
	CONSTRAINT "test_commit_outcomes_project_id_test_case_id_commit_sha_pk" PRIMARY KEY("project_id","test_case_id","commit_sha")
);
--> statement-breakpoint
CREATE TABLE "test_health" (
	"project_id" integer NOT NULL,
	"test_case_id" integer NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_failure_at" timestamp with time zone,
	"recent_run_ids" integer[] DEFAULT '{}' NOT NULL,
	"recent_durations" double precision[] DEFAULT '{}' NOT NULL,
	CONSTRAINT "test_health_project_id_test_case_id_pk" PRIMARY KEY("project_id","test_case_id")
);
--> statement-breakpoint
CREATE TABLE "test_health_days" (
	"project_id" integer NOT NULL,
	"test_case_id" integer NOT NULL,
	"day" date NOT NULL,
	"passed" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"flaky" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"branch_outcomes" integer DEFAULT 0 NOT NULL,
	"branch_flips" integer DEFAULT 0 NOT NULL,
	"branch_first" boolean,
	"branch_last" boolean,
	"last_failure_at" timestamp with time zone,
	CONSTRAINT "test_health_days_project_id_test_case_id_day_pk" PRIMARY KEY("project_id","test_case_id","day")
);
--> statement-breakpoint
ALTER TABLE "run_tests" ADD COLUMN "quarantined" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantines" ADD CONSTRAINT "quarantines_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantines" ADD CONSTRAINT "quarantines_test_case_id_test_cases_id_fk" FOREIGN KEY ("test_case_id") REFERENCES "public"."test_cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantines" ADD CONSTRAINT "quarantines_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_commit_outcomes" ADD CONSTRAINT "test_commit_outcomes_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_commit_outcomes" ADD CONSTRAINT "test_commit_outcomes_test_case_id_test_cases_id_fk" FOREIGN KEY ("test_case_id") REFERENCES "public"."test_cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_health" ADD CONSTRAINT "test_health_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_health" ADD CONSTRAINT "test_health_test_case_id_test_cases_id_fk" FOREIGN KEY ("test_case_id") REFERENCES "public"."test_cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_health_days" ADD CONSTRAINT "test_health_days_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_health_days" ADD CONSTRAINT "test_health_days_test_case_id_test_cases_id_fk" FOREIGN KEY ("test_case_id") REFERENCES "public"."test_cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_project_idx" ON "events" USING btree ("project_id","id");--> statement-breakpoint
CREATE INDEX "quarantines_project_list_idx" ON "quarantines" USING btree ("project_id","created_at","test_case_id");--> statement-breakpoint
CREATE INDEX "test_health_days_trouble_idx" ON "test_health_days" USING btree ("project_id","day","test_case_id") WHERE "test_health_days"."failed" > 0 or "test_health_days"."flaky" > 0;
--> statement-breakpoint
-- The run trigger of 0018, with quarantine: a test's outcome in a run records whether the test
-- was in quarantine then, and a quarantined failure counts in the run's `quarantined`, not in
-- `failed`, so it fails neither the verdict nor a summary's exit code. Expired entries stop
-- applying by themselves: the expiry is compared with the time of the recording.
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
        ELSE 'skipped' END::test_outcome AS outcome,
      -- In quarantine now (an entry without expiry, or one still ahead): recorded with the outcome.
      EXISTS (SELECT 1 FROM quarantines q WHERE q.project_id = r.project_id
        AND q.test_case_id = t.test_case_id AND (q.expires_at IS NULL OR q.expires_at > now())) AS quarantined
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
    SELECT rt.run_id, rt.test_case_id, rt.outcome, rt.quarantined FROM run_tests rt
    JOIN touched t USING (run_id, test_case_id)
  ),
  upserted AS (
    INSERT INTO run_tests AS rt (run_id, test_case_id, outcome, execution_id, attempts, duration_seconds, quarantined)
    SELECT run_id, test_case_id, outcome, execution_id, attempts, duration_seconds, quarantined FROM computed
    ORDER BY run_id, test_case_id
    ON CONFLICT (run_id, test_case_id) DO UPDATE SET outcome = excluded.outcome,
      execution_id = excluded.execution_id, attempts = excluded.attempts,
      duration_seconds = excluded.duration_seconds, quarantined = excluded.quarantined
    RETURNING rt.run_id, rt.test_case_id, rt.outcome, rt.quarantined
  ),
  -- (Data-modifying: runs whether or not it is read.)
  removed AS (
    DELETE FROM run_tests rt USING previous p
    WHERE rt.run_id = p.run_id AND rt.test_case_id = p.test_case_id
      AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.run_id = p.run_id AND c.test_case_id = p.test_case_id)
    RETURNING rt.run_id
  ),
  changes AS (
    -- A quarantined failure is counted as quarantined, not failed: it does not fail the run.
    SELECT coalesce(u.run_id, p.run_id) AS run_id,
      CASE WHEN u.outcome = 'failed' AND u.quarantined THEN 'quarantined' ELSE u.outcome::text END AS now,
      CASE WHEN p.outcome = 'failed' AND p.quarantined THEN 'quarantined' ELSE p.outcome::text END AS was
    FROM upserted u FULL JOIN previous p USING (run_id, test_case_id)
  ),
  delta AS (
    SELECT run_id,
      count(now) - count(was) AS tests,
      count(*) FILTER (WHERE now = 'passed') - count(*) FILTER (WHERE was = 'passed') AS passed,
      count(*) FILTER (WHERE now = 'failed') - count(*) FILTER (WHERE was = 'failed') AS failed,
      count(*) FILTER (WHERE now = 'flaky') - count(*) FILTER (WHERE was = 'flaky') AS flaky,
      count(*) FILTER (WHERE now = 'skipped') - count(*) FILTER (WHERE was = 'skipped') AS skipped,
      count(*) FILTER (WHERE now = 'quarantined') - count(*) FILTER (WHERE was = 'quarantined') AS quarantined
    FROM changes GROUP BY run_id
  )
  UPDATE runs r SET tests = r.tests + d.tests, passed = r.passed + d.passed,
    failed = r.failed + d.failed, flaky = r.flaky + d.flaky, skipped = r.skipped + d.skipped,
    quarantined = r.quarantined + d.quarantined,
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
--> statement-breakpoint
-- Flaky tests of a project in the window since p_since (DESIGN.md "Test health"): evidence (a
-- pass on retry in a run, or one commit with both a passing and a failing final outcome) or a
-- flip rate >= 0.2 over >= 10 outcomes on the default branch. Read from the roll-ups only, and
-- only for tests with a failure or a flaky outcome in the window (no other test can qualify):
-- the partial index test_health_days_trouble_idx finds them. With p_run, only that run's tests.
CREATE FUNCTION testtrack_flaky_tests(p_project integer, p_since timestamptz, p_run integer DEFAULT NULL)
RETURNS TABLE (test_case_id integer, flaky_runs integer, flaky_commits integer, outcomes integer,
  failures integer, branch_outcomes integer, flips integer, flip_rate double precision,
  last_failure_at timestamptz)
LANGUAGE sql STABLE AS $fn$
  WITH candidates AS (
    SELECT DISTINCT d.test_case_id FROM test_health_days d
    WHERE d.project_id = p_project AND d.day >= (p_since AT TIME ZONE 'UTC')::date
      AND (d.failed > 0 OR d.flaky > 0)
      AND (p_run IS NULL OR EXISTS (SELECT 1 FROM run_tests rt
        WHERE rt.run_id = p_run AND rt.test_case_id = d.test_case_id))
  ),
  days AS (
    SELECT d.* FROM candidates c JOIN test_health_days d
      ON d.project_id = p_project AND d.test_case_id = c.test_case_id
     AND d.day >= (p_since AT TIME ZONE 'UTC')::date
  ),
  totals AS (
    SELECT d.test_case_id, sum(d.flaky)::int AS flaky_runs,
      sum(d.passed + d.failed + d.flaky)::int AS outcomes, sum(d.failed)::int AS failures,
      sum(d.branch_outcomes)::int AS branch_outcomes, max(d.last_failure_at) AS last_failure_at
    FROM days d GROUP BY 1
  ),
  -- Flips inside each day, plus one where a day's first outcome differs from the last before it.
  flips AS (
    SELECT x.test_case_id,
      (sum(x.branch_flips) + count(*) FILTER (WHERE x.prev IS NOT NULL AND x.prev <> x.branch_first))::int AS flips
    FROM (SELECT d.test_case_id, d.branch_flips, d.branch_first,
            lag(d.branch_last) OVER (PARTITION BY d.test_case_id ORDER BY d.day) AS prev
          FROM days d WHERE d.branch_outcomes > 0) x
    GROUP BY 1
  ),
  commits AS (
    SELECT o.test_case_id, count(*)::int AS flaky_commits
    FROM candidates c JOIN test_commit_outcomes o
      ON o.project_id = p_project AND o.test_case_id = c.test_case_id
    WHERE o.passes > 0 AND o.fails > 0 AND least(o.last_pass_at, o.last_fail_at) >= p_since
    GROUP BY 1
  ),
  scored AS (
    SELECT t.test_case_id, t.flaky_runs, coalesce(c.flaky_commits, 0) AS flaky_commits, t.outcomes,
      t.failures, t.branch_outcomes, coalesce(f.flips, 0) AS flips,
      CASE WHEN t.branch_outcomes > 1 THEN coalesce(f.flips, 0)::float8 / (t.branch_outcomes - 1) END AS flip_rate,
      t.last_failure_at
    FROM totals t LEFT JOIN flips f USING (test_case_id) LEFT JOIN commits c USING (test_case_id)
  )
  SELECT * FROM scored s
  WHERE s.flaky_runs > 0 OR s.flaky_commits > 0 OR (s.branch_outcomes >= 10 AND s.flip_rate >= 0.2)
$fn$;
--> statement-breakpoint
-- Rolls a finished run's outcomes (run_tests) into the health roll-ups: per test and day (of the
-- run's start, UTC), per test and commit, and per test (first seen, last failure, the last 20
-- durations on the default branch). With p_emit, writes the run's events in the same
-- transaction: run.finished, test.flaky for each of its tests that became flaky (in the default
-- 14-day window) with this run, test.new_failure for each failure group first seen in it.
CREATE FUNCTION testtrack_roll_up_run(p_run integer, p_emit boolean) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  r runs%ROWTYPE;
  on_branch boolean;
  run_day date;
  since timestamptz := now() - interval '14 days';
  flaky_before integer[];
BEGIN
  SELECT * INTO r FROM runs WHERE id = p_run;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  -- A rebuild holds this project's health exclusively; runs finishing meanwhile wait for it.
  PERFORM pg_advisory_xact_lock_shared(hashtext('testtrack_health'), r.project_id);
  SELECT coalesce(r.branch = p.default_branch, false) INTO on_branch FROM projects p WHERE p.id = r.project_id;
  run_day := (r.started_at AT TIME ZONE 'UTC')::date;
  IF p_emit THEN
    SELECT coalesce(array_agg(f.test_case_id), '{}') INTO flaky_before
    FROM testtrack_flaky_tests(r.project_id, since, p_run) f;
  END IF;

  INSERT INTO test_health_days AS d (project_id, test_case_id, day, passed, failed, flaky, skipped,
    branch_outcomes, branch_flips, branch_first, branch_last, last_failure_at)
  SELECT r.project_id, rt.test_case_id, run_day,
    (rt.outcome = 'passed')::int, (rt.outcome = 'failed')::int, (rt.outcome = 'flaky')::int,
    (rt.outcome = 'skipped')::int,
    (on_branch AND rt.outcome <> 'skipped')::int, 0,
    CASE WHEN on_branch AND rt.outcome <> 'skipped' THEN rt.outcome <> 'failed' END,
    CASE WHEN on_branch AND rt.outcome <> 'skipped' THEN rt.outcome <> 'failed' END,
    CASE WHEN rt.outcome = 'failed' THEN r.started_at END
  FROM run_tests rt WHERE rt.run_id = p_run
  ORDER BY rt.test_case_id
  ON CONFLICT (project_id, test_case_id, day) DO UPDATE SET
    passed = d.passed + excluded.passed, failed = d.failed + excluded.failed,
    flaky = d.flaky + excluded.flaky, skipped = d.skipped + excluded.skipped,
    branch_outcomes = d.branch_outcomes + excluded.branch_outcomes,
    branch_flips = d.branch_flips + (d.branch_last IS NOT NULL AND excluded.branch_first IS NOT NULL
      AND d.branch_last <> excluded.branch_first)::int,
    branch_first = coalesce(d.branch_first, excluded.branch_first),
    branch_last = coalesce(excluded.branch_last, d.branch_last),
    last_failure_at = greatest(d.last_failure_at, excluded.last_failure_at);

  IF r.commit_sha IS NOT NULL THEN
    INSERT INTO test_commit_outcomes AS o (project_id, test_case_id, commit_sha, passes, fails,
      last_pass_at, last_fail_at)
    SELECT r.project_id, rt.test_case_id, r.commit_sha,
      (rt.outcome IN ('passed', 'flaky'))::int, (rt.outcome = 'failed')::int,
      CASE WHEN rt.outcome IN ('passed', 'flaky') THEN r.started_at END,
      CASE WHEN rt.outcome = 'failed' THEN r.started_at END
    FROM run_tests rt WHERE rt.run_id = p_run AND rt.outcome <> 'skipped'
    ORDER BY rt.test_case_id
    ON CONFLICT (project_id, test_case_id, commit_sha) DO UPDATE SET
      passes = o.passes + excluded.passes, fails = o.fails + excluded.fails,
      last_pass_at = greatest(o.last_pass_at, excluded.last_pass_at),
      last_fail_at = greatest(o.last_fail_at, excluded.last_fail_at);
  END IF;

  INSERT INTO test_health AS h (project_id, test_case_id, first_seen_at, last_failure_at,
    recent_run_ids, recent_durations)
  SELECT r.project_id, rt.test_case_id, r.started_at,
    CASE WHEN rt.outcome = 'failed' THEN r.started_at END,
    CASE WHEN x.counted THEN ARRAY[p_run] ELSE '{}'::int[] END,
    CASE WHEN x.counted THEN ARRAY[rt.duration_seconds] ELSE '{}'::float8[] END
  FROM run_tests rt
  CROSS JOIN LATERAL (SELECT on_branch AND rt.outcome <> 'skipped' AND rt.duration_seconds IS NOT NULL AS counted) x
  WHERE rt.run_id = p_run
  ORDER BY rt.test_case_id
  ON CONFLICT (project_id, test_case_id) DO UPDATE SET
    first_seen_at = least(h.first_seen_at, excluded.first_seen_at),
    last_failure_at = greatest(h.last_failure_at, excluded.last_failure_at),
    recent_run_ids = (h.recent_run_ids || excluded.recent_run_ids)[greatest(1,
      cardinality(h.recent_run_ids) + cardinality(excluded.recent_run_ids) - 19):],
    recent_durations = (h.recent_durations || excluded.recent_durations)[greatest(1,
      cardinality(h.recent_durations) + cardinality(excluded.recent_durations) - 19):];

  IF p_emit THEN
    INSERT INTO events (project_id, type, run_id, payload)
    VALUES (r.project_id, 'run.finished', r.id, jsonb_build_object(
      'runId', r.id, 'key', r.key, 'name', r.name, 'status', r.status, 'branch', r.branch,
      'commitSha', r.commit_sha, 'ciUrl', r.ci_url, 'tests', r.tests, 'passed', r.passed,
      'failed', r.failed, 'flaky', r.flaky, 'skipped', r.skipped, 'quarantined', r.quarantined,
      'startedAt', r.started_at, 'finishedAt', r.finished_at));
    INSERT INTO events (project_id, type, run_id, test_case_id, payload)
    SELECT r.project_id, 'test.flaky', r.id, f.test_case_id, jsonb_build_object(
      'runId', r.id, 'testCaseId', f.test_case_id, 'title', tc.title, 'key', tc.key,
      'flakyRuns', f.flaky_runs, 'flakyCommits', f.flaky_commits, 'flipRate', f.flip_rate)
    FROM testtrack_flaky_tests(r.project_id, since, p_run) f
    JOIN test_cases tc ON tc.id = f.test_case_id
    WHERE NOT (f.test_case_id = ANY (flaky_before))
    ORDER BY f.test_case_id;
    INSERT INTO events (project_id, type, run_id, payload)
    SELECT r.project_id, 'test.new_failure', r.id, jsonb_build_object(
      'runId', r.id, 'fingerprint', g.fingerprint, 'sampleMessage', left(g.sample_message, 1000),
      'testCaseIds', x.test_case_ids)
    FROM (SELECT e.failure_fingerprint, array_agg(DISTINCT e.test_case_id ORDER BY e.test_case_id) AS test_case_ids
          FROM test_executions e WHERE e.run_id = p_run AND e.failure_fingerprint IS NOT NULL GROUP BY 1) x
    JOIN failure_groups g ON g.project_id = r.project_id AND g.fingerprint = x.failure_fingerprint
    WHERE g.first_run_id = r.id
    ORDER BY g.fingerprint;
  END IF;
END
$fn$;
--> statement-breakpoint
CREATE FUNCTION testtrack_run_finished() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM testtrack_roll_up_run(NEW.id, true);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
-- Once per run, when it leaves `running` (finish, last shard, cancel, time-out), in that transaction.
CREATE TRIGGER runs_roll_up_health AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (OLD.status = 'running' AND NEW.status <> 'running') EXECUTE FUNCTION testtrack_run_finished();
--> statement-breakpoint
-- Recomputes a project's health roll-ups from its finished runs, in the order they finished
-- (after a change of definitions): `testtrack health rebuild` / health.rebuild. No events.
CREATE FUNCTION testtrack_rebuild_health(p_project integer) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  rid integer;
  rolled integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('testtrack_health'), p_project);
  DELETE FROM test_health_days WHERE project_id = p_project;
  DELETE FROM test_commit_outcomes WHERE project_id = p_project;
  DELETE FROM test_health WHERE project_id = p_project;
  FOR rid IN SELECT id FROM runs WHERE project_id = p_project AND status <> 'running'
      ORDER BY coalesce(finished_at, started_at), id LOOP
    PERFORM testtrack_roll_up_run(rid, false);
    rolled := rolled + 1;
  END LOOP;
  RETURN rolled;
END
$fn$;
--> statement-breakpoint
-- Runs that finished before this migration: their roll-ups, without events.
SELECT testtrack_rebuild_health(id) FROM projects;
