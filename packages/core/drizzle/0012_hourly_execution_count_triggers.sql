-- Keeps execution_hourly_counts equal to count(*) of test_executions grouped by owner and UTC
-- hour of created_at, in the writing transaction (inserts, deletes, cascades, and the rare
-- update of user_id or created_at), with the same statement-level, key-ordered deltas as the
-- daily roll-ups (0002). stats.get reads the windows' boundary days from it.
CREATE OR REPLACE FUNCTION testtrack_execution_hourly_counts() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  changes text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NOT EXISTS (
      SELECT 1 FROM old_rows o JOIN new_rows n USING (id)
      WHERE (o.user_id, o.created_at) IS DISTINCT FROM (n.user_id, n.created_at)
    ) THEN
      RETURN NULL;
    END IF;
  END IF;
  changes := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT user_id, created_at, 1 AS sign FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT user_id, created_at, -1 AS sign FROM old_rows'
    ELSE 'SELECT user_id, created_at, 1 AS sign FROM new_rows
          UNION ALL SELECT user_id, created_at, -1 AS sign FROM old_rows'
  END;
  EXECUTE format($q$
    INSERT INTO execution_hourly_counts AS s (user_id, hour, executions)
    SELECT c.user_id, date_trunc('hour', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', sum(c.sign)
    FROM (%s) c
    WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)
    GROUP BY 1, 2
    HAVING sum(c.sign) <> 0
    ORDER BY 1, 2
    ON CONFLICT (user_id, hour) DO UPDATE SET executions = s.executions + excluded.executions
  $q$, changes);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER test_executions_hourly_counts_insert AFTER INSERT ON test_executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_hourly_counts();
--> statement-breakpoint
CREATE TRIGGER test_executions_hourly_counts_update AFTER UPDATE ON test_executions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_hourly_counts();
--> statement-breakpoint
CREATE TRIGGER test_executions_hourly_counts_delete AFTER DELETE ON test_executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_hourly_counts();
--> statement-breakpoint
-- Executions stored before the hourly counts existed.
INSERT INTO execution_hourly_counts (user_id, hour, executions)
SELECT user_id, date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*)
FROM test_executions GROUP BY 1, 2;
