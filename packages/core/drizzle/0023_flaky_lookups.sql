CREATE INDEX "test_commit_outcomes_both_idx" ON "test_commit_outcomes" USING btree ("project_id","test_case_id") WHERE "test_commit_outcomes"."passes" > 0 and "test_commit_outcomes"."fails" > 0;--> statement-breakpoint
-- testtrack_flaky_tests of 0020, reading each candidate's own rows by its key (day range per
-- test, commits with both outcomes through the partial index) instead of the project's whole
-- window: at 100,000 runs the project-wide scans took 0.3 s, these take a few ms.
CREATE OR REPLACE FUNCTION testtrack_flaky_tests(p_project integer, p_since timestamptz, p_run integer DEFAULT NULL)
RETURNS TABLE (test_case_id integer, flaky_runs integer, flaky_commits integer, outcomes integer,
  failures integer, branch_outcomes integer, flips integer, flip_rate double precision,
  last_failure_at timestamptz)
LANGUAGE plpgsql STABLE AS $fn$
-- PL/pgSQL, not SQL: its query plan is cached for the session instead of planned into every
-- caller's query (planning the inlined form took longer than running it).
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH candidates AS (
    SELECT DISTINCT d.test_case_id FROM test_health_days d
    WHERE d.project_id = p_project AND d.day >= (p_since AT TIME ZONE 'UTC')::date
      AND (d.failed > 0 OR d.flaky > 0)
      AND (p_run IS NULL OR EXISTS (SELECT 1 FROM run_tests rt
        WHERE rt.run_id = p_run AND rt.test_case_id = d.test_case_id))
  ),
  scored AS (
    SELECT c.test_case_id, t.flaky_runs, coalesce(o.flaky_commits, 0) AS flaky_commits,
      t.outcomes, t.failures, t.branch_outcomes, coalesce(f.flips, 0) AS flips,
      CASE WHEN t.branch_outcomes > 1 THEN coalesce(f.flips, 0)::float8 / (t.branch_outcomes - 1) END AS flip_rate,
      t.last_failure_at
    FROM candidates c
    CROSS JOIN LATERAL (
      SELECT sum(d.flaky)::int AS flaky_runs, sum(d.passed + d.failed + d.flaky)::int AS outcomes,
        sum(d.failed)::int AS failures, sum(d.branch_outcomes)::int AS branch_outcomes,
        max(d.last_failure_at) AS last_failure_at
      FROM test_health_days d
      WHERE d.project_id = p_project AND d.test_case_id = c.test_case_id
        AND d.day >= (p_since AT TIME ZONE 'UTC')::date) t
    -- Flips inside each day, plus one where a day's first outcome differs from the last before it.
    CROSS JOIN LATERAL (
      SELECT (sum(x.branch_flips) + count(*) FILTER (WHERE x.prev IS NOT NULL AND x.prev <> x.branch_first))::int AS flips
      FROM (SELECT d.branch_flips, d.branch_first, lag(d.branch_last) OVER (ORDER BY d.day) AS prev
            FROM test_health_days d
            WHERE d.project_id = p_project AND d.test_case_id = c.test_case_id
              AND d.day >= (p_since AT TIME ZONE 'UTC')::date AND d.branch_outcomes > 0) x) f
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS flaky_commits FROM test_commit_outcomes o
      WHERE o.project_id = p_project AND o.test_case_id = c.test_case_id
        AND o.passes > 0 AND o.fails > 0 AND least(o.last_pass_at, o.last_fail_at) >= p_since) o
  )
  SELECT * FROM scored s
  WHERE s.flaky_runs > 0 OR s.flaky_commits > 0 OR (s.branch_outcomes >= 10 AND s.flip_rate >= 0.2);
END
$fn$;
--> statement-breakpoint
-- The rebuild of 0020 rolled the runs up one by one in one transaction: every run rewrote its
-- tests' rows, and at 100,000 runs the dead row versions it could not reclaim made it 8 ms a run
-- (14 minutes). This computes the same roll-ups from the finished runs in three statements,
-- taking their outcomes in the order the runs finished, as the roll-up at run finish does.
CREATE OR REPLACE FUNCTION testtrack_rebuild_health(p_project integer) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  rolled integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('testtrack_health'), p_project);
  DELETE FROM test_health_days WHERE project_id = p_project;
  DELETE FROM test_commit_outcomes WHERE project_id = p_project;
  DELETE FROM test_health WHERE project_id = p_project;
  CREATE TEMP TABLE rebuild_outcomes ON COMMIT DROP AS
    SELECT rt.test_case_id, r.id AS run_id, r.started_at, r.commit_sha,
      coalesce(r.finished_at, r.started_at) AS finished_at,
      (r.started_at AT TIME ZONE 'UTC')::date AS day, rt.outcome, rt.duration_seconds,
      coalesce(r.branch = p.default_branch, false) AND rt.outcome <> 'skipped' AS on_branch
    FROM runs r
    JOIN projects p ON p.id = r.project_id
    JOIN run_tests rt ON rt.run_id = r.id
    WHERE r.project_id = p_project AND r.status <> 'running';
  ANALYZE rebuild_outcomes;
  SELECT count(*) INTO rolled FROM runs WHERE project_id = p_project AND status <> 'running';

  INSERT INTO test_health_days (project_id, test_case_id, day, passed, failed, flaky, skipped,
    branch_outcomes, branch_flips, branch_first, branch_last, last_failure_at)
  SELECT p_project, o.test_case_id, o.day,
    count(*) FILTER (WHERE o.outcome = 'passed'), count(*) FILTER (WHERE o.outcome = 'failed'),
    count(*) FILTER (WHERE o.outcome = 'flaky'), count(*) FILTER (WHERE o.outcome = 'skipped'),
    coalesce(max(b.outcomes), 0), coalesce(max(b.flips), 0), bool_or(b.first), bool_or(b.last),
    max(o.started_at) FILTER (WHERE o.outcome = 'failed')
  FROM rebuild_outcomes o
  LEFT JOIN (
    SELECT x.test_case_id, x.day, count(*) AS outcomes,
      count(*) FILTER (WHERE x.prev IS NOT NULL AND x.prev <> x.pass) AS flips,
      (array_agg(x.pass ORDER BY x.finished_at, x.run_id))[1] AS first,
      (array_agg(x.pass ORDER BY x.finished_at DESC, x.run_id DESC))[1] AS last
    FROM (SELECT o2.test_case_id, o2.day, o2.finished_at, o2.run_id, o2.outcome <> 'failed' AS pass,
            lag(o2.outcome <> 'failed') OVER (PARTITION BY o2.test_case_id, o2.day
              ORDER BY o2.finished_at, o2.run_id) AS prev
          FROM rebuild_outcomes o2 WHERE o2.on_branch) x
    GROUP BY 1, 2) b ON b.test_case_id = o.test_case_id AND b.day = o.day
  GROUP BY o.test_case_id, o.day;

  INSERT INTO test_commit_outcomes (project_id, test_case_id, commit_sha, passes, fails,
    last_pass_at, last_fail_at)
  SELECT p_project, o.test_case_id, o.commit_sha,
    count(*) FILTER (WHERE o.outcome IN ('passed', 'flaky')), count(*) FILTER (WHERE o.outcome = 'failed'),
    max(o.started_at) FILTER (WHERE o.outcome IN ('passed', 'flaky')),
    max(o.started_at) FILTER (WHERE o.outcome = 'failed')
  FROM rebuild_outcomes o
  WHERE o.commit_sha IS NOT NULL AND o.outcome <> 'skipped'
  GROUP BY o.test_case_id, o.commit_sha;

  INSERT INTO test_health (project_id, test_case_id, first_seen_at, last_failure_at,
    recent_run_ids, recent_durations)
  SELECT p_project, o.test_case_id, min(o.started_at),
    max(o.started_at) FILTER (WHERE o.outcome = 'failed'),
    coalesce(array_agg(o.run_id ORDER BY o.finished_at, o.run_id) FILTER (WHERE o.recent <= 20), '{}'),
    coalesce(array_agg(o.duration_seconds ORDER BY o.finished_at, o.run_id) FILTER (WHERE o.recent <= 20), '{}')
  FROM (SELECT y.*, CASE WHEN y.on_branch AND y.duration_seconds IS NOT NULL THEN
          row_number() OVER (PARTITION BY y.test_case_id, y.on_branch AND y.duration_seconds IS NOT NULL
            ORDER BY y.finished_at DESC, y.run_id DESC) END AS recent
        FROM rebuild_outcomes y) o
  GROUP BY o.test_case_id;
  DROP TABLE rebuild_outcomes;
  RETURN rolled;
END
$fn$;
