-- step.record in one round trip: lock the execution, refuse new steps on a finished one, store
-- the steps not stored yet, recompute the summary from all steps, move pending to running,
-- notify live subscribers and check the per-execution limit, all in one statement (its own
-- transaction when called outside one). Before, the same work took five round trips (begin,
-- lock, store, commit and a check), which the ingest profile showed as most of the cost.
-- Each statement inside runs with a fresh snapshot, taken after the lock, so a concurrent upload
-- to the same execution is counted once it commits and never lost.
-- Errors carry their own SQLSTATE, which recordSteps turns into domain errors:
--   TT404 the execution does not exist or the owner may not see it (p_owner_id NULL: any owner)
--   TT409 the execution is finished and the call holds a step number not stored yet
--   TT422 the execution would hold more than p_max_steps steps
CREATE OR REPLACE FUNCTION testtrack_record_steps(
  p_execution_id int, p_owner_id int, p_steps json, p_max_steps int, p_channel text
) RETURNS TABLE (
  id int, status execution_status, result execution_result, total_steps int,
  passed_steps int, failed_steps int, skipped_steps int
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  changed record;
BEGIN
  -- The summary as it stands is the answer when no step is new.
  SELECT e.id, e.status, e.result, e.total_steps, e.passed_steps, e.failed_steps, e.skipped_steps
  INTO id, status, result, total_steps, passed_steps, failed_steps, skipped_steps
  FROM test_executions e
  WHERE e.id = p_execution_id AND (p_owner_id IS NULL OR e.user_id = p_owner_id)
  FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Execution % was not found', p_execution_id USING ERRCODE = 'TT404';
  END IF;
  IF status IN ('completed', 'failed', 'cancelled') AND EXISTS (
    SELECT 1 FROM json_to_recordset(p_steps) AS r(step_number int)
    WHERE NOT EXISTS (
      SELECT 1 FROM test_execution_steps s
      WHERE s.execution_id = p_execution_id AND s.step_number = r.step_number)
  ) THEN
    RAISE EXCEPTION 'execution % is already %; no new steps can be added', p_execution_id, status
      USING ERRCODE = 'TT409';
  END IF;

  WITH inserted AS (
    INSERT INTO test_execution_steps (execution_id, step_number, step_description, expected_result,
      result, actual_result, error_message, started_at, completed_at, duration_seconds,
      screenshot_path, screenshot_before, screenshot_after, retry_count, is_critical)
    SELECT p_execution_id, r.* FROM json_to_recordset(p_steps) AS r(
      step_number int, step_description text, expected_result text, result execution_result,
      actual_result text, error_message text, started_at timestamptz, completed_at timestamptz,
      duration_seconds float8, screenshot_path varchar(500), screenshot_before varchar(500),
      screenshot_after varchar(500), retry_count int, is_critical boolean)
    ON CONFLICT (execution_id, step_number) DO NOTHING
    RETURNING test_execution_steps.result),
  counts AS (
    SELECT count(*)::int AS total,
      count(*) FILTER (WHERE s.result = 'pass')::int AS passed,
      count(*) FILTER (WHERE s.result = 'fail')::int AS failed,
      count(*) FILTER (WHERE s.result = 'error')::int AS errored,
      count(*) FILTER (WHERE s.result = 'skip')::int AS skipped,
      (SELECT count(*)::int FROM inserted) AS inserted
    FROM (SELECT i.result FROM inserted i
          UNION ALL
          SELECT t.result FROM test_execution_steps t WHERE t.execution_id = p_execution_id) s)
  UPDATE test_executions e SET
    total_steps = c.total,
    passed_steps = c.passed,
    failed_steps = c.failed + c.errored,
    skipped_steps = c.skipped,
    result = CASE
      WHEN c.inserted = 0 THEN e.result
      WHEN c.failed > 0 THEN 'fail'::execution_result
      WHEN c.errored > 0 THEN 'error'::execution_result
      WHEN c.skipped = c.total THEN 'skip'::execution_result
      ELSE 'pass'::execution_result END,
    status = CASE WHEN e.status = 'pending' THEN 'running'::execution_status ELSE e.status END,
    started_at = CASE WHEN e.status = 'pending' THEN coalesce(e.started_at, now()) ELSE e.started_at END,
    updated_at = CASE WHEN c.inserted > 0 THEN now() ELSE e.updated_at END
  FROM counts c
  WHERE e.id = p_execution_id AND (c.inserted > 0 OR e.status = 'pending')
  RETURNING e.status, e.result, e.total_steps, e.passed_steps, e.failed_steps, e.skipped_steps
  INTO changed;

  -- (INTO with no row would set its targets to NULL, hence the record.)
  IF FOUND THEN
    status := changed.status;
    result := changed.result;
    total_steps := changed.total_steps;
    passed_steps := changed.passed_steps;
    failed_steps := changed.failed_steps;
    skipped_steps := changed.skipped_steps;
    IF total_steps > p_max_steps THEN
      RAISE EXCEPTION 'an execution can hold at most % steps', p_max_steps USING ERRCODE = 'TT422';
    END IF;
    PERFORM pg_notify(p_channel, p_execution_id::text);
  END IF;
  RETURN NEXT;
END
$fn$;
