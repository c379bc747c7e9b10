-- The roll-up trigger now also keeps all-time totals (execution_totals,
-- execution_test_case_totals), so statistics without `since` read a few hundred rows instead of
-- one row per day. Same rules as before: statement-level, grouped deltas, key order.
CREATE OR REPLACE FUNCTION testtrack_execution_rollups() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  changes text;
  dimensions constant text := $d$
    CROSS JOIN LATERAL (VALUES
      ('total', ''),
      ('status', c.status::text),
      ('result', coalesce(c.result::text, 'none')),
      ('browser', coalesce(c.browser, 'unspecified')),
      ('environment', coalesce(c.environment, 'unspecified'))
    ) AS d(dimension, value)
    WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)$d$;
  test_case_exists constant text :=
    'WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id) AND EXISTS (SELECT 1 FROM test_cases t WHERE t.id = c.test_case_id)';
  sums constant text :=
    'sum(c.sign), sum(c.sign * coalesce(c.duration_seconds, 0)), sum(c.sign * (c.duration_seconds IS NOT NULL)::int)';
  changed constant text :=
    'HAVING sum(c.sign) <> 0 OR sum(c.sign * coalesce(c.duration_seconds, 0)) <> 0 OR sum(c.sign * (c.duration_seconds IS NOT NULL)::int) <> 0';
  add_durations constant text :=
    'executions = s.executions + excluded.executions, duration_sum = s.duration_sum + excluded.duration_sum, duration_count = s.duration_count + excluded.duration_count';
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
  EXECUTE format(
    'INSERT INTO execution_daily_stats AS s (user_id, day, dimension, value, executions, duration_sum, duration_count)
     SELECT c.user_id, (c.created_at AT TIME ZONE ''UTC'')::date, d.dimension, d.value, %2$s FROM (%1$s) c %3$s
     GROUP BY 1, 2, 3, 4 %4$s ORDER BY 1, 2, 3, 4
     ON CONFLICT (user_id, day, dimension, value) DO UPDATE SET %5$s',
    changes, sums, dimensions, changed, add_durations);
  EXECUTE format(
    'INSERT INTO execution_totals AS s (user_id, dimension, value, executions, duration_sum, duration_count)
     SELECT c.user_id, d.dimension, d.value, %2$s FROM (%1$s) c %3$s
     GROUP BY 1, 2, 3 %4$s ORDER BY 1, 2, 3
     ON CONFLICT (user_id, dimension, value) DO UPDATE SET %5$s',
    changes, sums, dimensions, changed, add_durations);
  EXECUTE format(
    'INSERT INTO execution_daily_test_cases AS s (user_id, day, test_case_id, executions)
     SELECT c.user_id, (c.created_at AT TIME ZONE ''UTC'')::date, c.test_case_id, sum(c.sign) FROM (%1$s) c %2$s
     GROUP BY 1, 2, 3 HAVING sum(c.sign) <> 0 ORDER BY 1, 2, 3
     ON CONFLICT (user_id, day, test_case_id) DO UPDATE SET executions = s.executions + excluded.executions',
    changes, test_case_exists);
  EXECUTE format(
    'INSERT INTO execution_test_case_totals AS s (user_id, test_case_id, executions)
     SELECT c.user_id, c.test_case_id, sum(c.sign) FROM (%1$s) c %2$s
     GROUP BY 1, 2 HAVING sum(c.sign) <> 0 ORDER BY 1, 2
     ON CONFLICT (user_id, test_case_id) DO UPDATE SET executions = s.executions + excluded.executions',
    changes, test_case_exists);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
INSERT INTO execution_totals (user_id, dimension, value, executions, duration_sum, duration_count)
SELECT user_id, dimension, value, sum(executions), sum(duration_sum), sum(duration_count)
FROM execution_daily_stats GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO execution_test_case_totals (user_id, test_case_id, executions)
SELECT user_id, test_case_id, sum(executions) FROM execution_daily_test_cases GROUP BY 1, 2;
