-- step.record without ON CONFLICT: a speculative insertion per row (insert, check the unique
-- key, confirm) cost more PostgreSQL CPU than the whole rest of the statement at 2,000-step
-- batches. Every writer of an execution's steps holds the execution's row lock first
-- (testtrack_record_steps locks it FOR UPDATE; step.update locks it too), and each statement
-- here reads with a snapshot taken after that lock, so NOT EXISTS sees every committed step and
-- none can appear meanwhile. The (execution_id, step_number) unique key still refuses a
-- duplicate should anything write around the lock. Everything else is as in 0010.
-- Pinned by packages/core/test/steps.test.ts and test/summary.property.test.ts.
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
    -- Keys the caller left out are NULL: only retry_count and is_critical have other defaults.
    SELECT p_execution_id, r.step_number, r.step_description, r.expected_result, r.result,
      r.actual_result, r.error_message, r.started_at, r.completed_at, r.duration_seconds,
      r.screenshot_path, r.screenshot_before, r.screenshot_after, coalesce(r.retry_count, 0),
      coalesce(r.is_critical, false)
    FROM json_to_recordset(p_steps) AS r(
      step_number int, step_description text, expected_result text, result execution_result,
      actual_result text, error_message text, started_at timestamptz, completed_at timestamptz,
      duration_seconds float8, screenshot_path varchar(500), screenshot_before varchar(500),
      screenshot_after varchar(500), retry_count int, is_critical boolean)
    -- Step numbers already stored are left alone. The execution's row lock, taken above by every
    -- writer of its steps, makes this check exact; the unique key still backs it.
    WHERE NOT EXISTS (
      SELECT 1 FROM test_execution_steps s
      WHERE s.execution_id = p_execution_id AND s.step_number = r.step_number)
    RETURNING test_execution_steps.result),
  counts AS (
    SELECT count(*)::int AS inserted,
      count(*) FILTER (WHERE i.result = 'pass')::int AS passed,
      count(*) FILTER (WHERE i.result = 'fail')::int AS failed,
      count(*) FILTER (WHERE i.result = 'error')::int AS errored,
      count(*) FILTER (WHERE i.result = 'skip')::int AS skipped
    FROM inserted i)
  UPDATE test_executions e SET
    total_steps = e.total_steps + c.inserted,
    passed_steps = e.passed_steps + c.passed,
    failed_steps = e.failed_steps + c.failed + c.errored,
    skipped_steps = e.skipped_steps + c.skipped,
    -- failed_steps counts fail and error alike: only when earlier steps hold one of them and
    -- this batch no fail is the table asked which (through the (execution_id, step_number) key).
    result = CASE
      WHEN c.inserted = 0 THEN e.result
      WHEN c.failed > 0 THEN 'fail'::execution_result
      WHEN e.failed_steps > 0 AND EXISTS (
        SELECT 1 FROM test_execution_steps t
        WHERE t.execution_id = p_execution_id AND t.result = 'fail') THEN 'fail'::execution_result
      WHEN e.failed_steps + c.errored > 0 THEN 'error'::execution_result
      WHEN e.skipped_steps + c.skipped = e.total_steps + c.inserted THEN 'skip'::execution_result
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
