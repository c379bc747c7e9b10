-- Keeps execution_daily_stats and execution_daily_test_cases equal to aggregates of
-- test_executions, in the transaction that changes the executions (inserts, updates, deletes,
-- including those cascaded from a test case or user). Statement-level, so deleting a test case
-- with 10,000 executions applies one grouped delta instead of 10,000 row updates; rows are
-- upserted in key order so concurrent writers cannot deadlock on them.
CREATE OR REPLACE FUNCTION testtrack_execution_rollups() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  changes text;
BEGIN
  -- Most updates (step counts, logs) change nothing the roll-ups count: skip those quickly.
  -- (Nested: old_rows only exists for UPDATE and DELETE.)
  IF TG_OP = 'UPDATE' THEN
    IF NOT EXISTS (
      SELECT 1 FROM old_rows o JOIN new_rows n USING (id)
      WHERE (o.user_id, o.test_case_id, o.created_at, o.status, o.result, o.browser, o.environment, o.duration_seconds)
        IS DISTINCT FROM (n.user_id, n.test_case_id, n.created_at, n.status, n.result, n.browser, n.environment, n.duration_seconds)
    ) THEN
      RETURN NULL;
    END IF;
  END IF;
  changes := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT *, 1 AS sign FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT *, -1 AS sign FROM old_rows'
    ELSE 'SELECT *, 1 AS sign FROM new_rows UNION ALL SELECT *, -1 AS sign FROM old_rows'
  END;
  EXECUTE format($q$
    INSERT INTO execution_daily_stats AS s (user_id, day, dimension, value, executions, duration_sum, duration_count)
    SELECT c.user_id, (c.created_at AT TIME ZONE 'UTC')::date, d.dimension, d.value,
      sum(c.sign), sum(c.sign * coalesce(c.duration_seconds, 0)), sum(c.sign * (c.duration_seconds IS NOT NULL)::int)
    FROM (%s) c
    CROSS JOIN LATERAL (VALUES
      ('total', ''),
      ('status', c.status::text),
      ('result', coalesce(c.result::text, 'none')),
      ('browser', coalesce(c.browser, 'unspecified')),
      ('environment', coalesce(c.environment, 'unspecified'))
    ) AS d(dimension, value)
    WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)
    GROUP BY 1, 2, 3, 4
    HAVING sum(c.sign) <> 0 OR sum(c.sign * coalesce(c.duration_seconds, 0)) <> 0
      OR sum(c.sign * (c.duration_seconds IS NOT NULL)::int) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (user_id, day, dimension, value) DO UPDATE SET
      executions = s.executions + excluded.executions,
      duration_sum = s.duration_sum + excluded.duration_sum,
      duration_count = s.duration_count + excluded.duration_count
  $q$, changes);
  EXECUTE format($q$
    INSERT INTO execution_daily_test_cases AS s (user_id, day, test_case_id, executions)
    SELECT c.user_id, (c.created_at AT TIME ZONE 'UTC')::date, c.test_case_id, sum(c.sign)
    FROM (%s) c
    WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)
      AND EXISTS (SELECT 1 FROM test_cases t WHERE t.id = c.test_case_id)
    GROUP BY 1, 2, 3
    HAVING sum(c.sign) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (user_id, day, test_case_id) DO UPDATE SET executions = s.executions + excluded.executions
  $q$, changes);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER test_executions_rollups_insert AFTER INSERT ON test_executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_rollups();
--> statement-breakpoint
CREATE TRIGGER test_executions_rollups_update AFTER UPDATE ON test_executions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_rollups();
--> statement-breakpoint
CREATE TRIGGER test_executions_rollups_delete AFTER DELETE ON test_executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_rollups();
--> statement-breakpoint
-- Executions stored before the roll-ups existed.
INSERT INTO execution_daily_stats (user_id, day, dimension, value, executions, duration_sum, duration_count)
SELECT e.user_id, (e.created_at AT TIME ZONE 'UTC')::date, d.dimension, d.value,
  count(*), coalesce(sum(e.duration_seconds), 0), count(e.duration_seconds)
FROM test_executions e
CROSS JOIN LATERAL (VALUES
  ('total', ''),
  ('status', e.status::text),
  ('result', coalesce(e.result::text, 'none')),
  ('browser', coalesce(e.browser, 'unspecified')),
  ('environment', coalesce(e.environment, 'unspecified'))
) AS d(dimension, value)
GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
INSERT INTO execution_daily_test_cases (user_id, day, test_case_id, executions)
SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, test_case_id, count(*)
FROM test_executions GROUP BY 1, 2, 3;
