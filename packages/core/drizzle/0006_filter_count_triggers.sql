-- Keeps execution_filter_counts equal to count(*) of test_executions grouped by owner, status,
-- result, browser and environment ('' stands for NULL), in the writing transaction, with the
-- same statement-level, key-ordered deltas as the statistics roll-ups.
CREATE OR REPLACE FUNCTION testtrack_execution_filter_counts() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  changes text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NOT EXISTS (
      SELECT 1 FROM old_rows o JOIN new_rows n USING (id)
      WHERE (o.user_id, o.status, o.result, o.browser, o.environment)
        IS DISTINCT FROM (n.user_id, n.status, n.result, n.browser, n.environment)
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
    'INSERT INTO execution_filter_counts AS s (user_id, status, result, browser, environment, executions)
     SELECT c.user_id, c.status::text, coalesce(c.result::text, ''''), coalesce(c.browser, ''''),
       coalesce(c.environment, ''''), sum(c.sign)
     FROM (%s) c WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)
     GROUP BY 1, 2, 3, 4, 5 HAVING sum(c.sign) <> 0 ORDER BY 1, 2, 3, 4, 5
     ON CONFLICT (user_id, status, result, browser, environment)
     DO UPDATE SET executions = s.executions + excluded.executions',
    changes);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER test_executions_filter_counts_insert AFTER INSERT ON test_executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_filter_counts();
--> statement-breakpoint
CREATE TRIGGER test_executions_filter_counts_update AFTER UPDATE ON test_executions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_filter_counts();
--> statement-breakpoint
CREATE TRIGGER test_executions_filter_counts_delete AFTER DELETE ON test_executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_execution_filter_counts();
--> statement-breakpoint
INSERT INTO execution_filter_counts (user_id, status, result, browser, environment, executions)
SELECT user_id, status::text, coalesce(result::text, ''), coalesce(browser, ''), coalesce(environment, ''), count(*)
FROM test_executions GROUP BY 1, 2, 3, 4, 5;
