-- Wakes the live subscribers (execution.onSteps, channel testtrack_steps) of every unfinished
-- execution that a statement deletes, directly or by cascade from its test case or owner, so
-- their streams end with NOT_FOUND instead of waiting. Finished executions have no open stream.
CREATE OR REPLACE FUNCTION testtrack_notify_deleted_executions() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('testtrack_steps', o.id::text)
  FROM old_rows o WHERE o.status IN ('pending', 'running');
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER test_executions_notify_delete AFTER DELETE ON test_executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION testtrack_notify_deleted_executions();
