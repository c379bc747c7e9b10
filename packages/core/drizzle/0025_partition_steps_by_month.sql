-- test_execution_steps, the table that grows fastest, becomes range-partitioned by month of its
-- execution's created_at (copied into execution_created_at, the partition key). Retention past
-- the instance-wide horizon then drops whole months (testtrack_drop_step_partitions) instead of
-- deleting rows one by one. Months are created ahead by the server
-- (testtrack_ensure_step_partitions); a step whose month has no partition yet lands in the
-- default partition and moves into its month when that is created, so no insert ever fails for
-- want of a partition. Every existing row moves over in this migration, ids included.
-- Pinned by packages/core/test/partitions.test.ts.

ALTER TABLE "test_execution_steps" RENAME TO "test_execution_steps_unpartitioned";--> statement-breakpoint
ALTER TABLE "test_execution_steps_unpartitioned" RENAME CONSTRAINT "test_execution_steps_pkey" TO "test_execution_steps_unpartitioned_pkey";--> statement-breakpoint
ALTER TABLE "test_execution_steps_unpartitioned" RENAME CONSTRAINT "test_execution_steps_execution_step_key" TO "test_execution_steps_unpartitioned_key";--> statement-breakpoint
ALTER TABLE "test_execution_steps_unpartitioned" RENAME CONSTRAINT "test_execution_steps_execution_id_test_executions_id_fk" TO "test_execution_steps_unpartitioned_fk";--> statement-breakpoint
ALTER SEQUENCE "test_execution_steps_id_seq" RENAME TO "test_execution_steps_unpartitioned_id_seq";--> statement-breakpoint
CREATE TABLE "test_execution_steps" (
	"id" integer GENERATED ALWAYS AS IDENTITY (sequence name "test_execution_steps_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"execution_id" integer NOT NULL,
	"execution_created_at" timestamp with time zone NOT NULL,
	"step_number" integer NOT NULL,
	"step_description" text NOT NULL,
	"expected_result" text,
	"result" "execution_result" NOT NULL,
	"actual_result" text,
	"error_message" text,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"duration_seconds" double precision,
	"screenshot_path" varchar(500),
	"screenshot_before" varchar(500),
	"screenshot_after" varchar(500),
	"retry_count" integer DEFAULT 0 NOT NULL,
	"is_critical" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "test_execution_steps_pkey" PRIMARY KEY("id","execution_created_at"),
	CONSTRAINT "test_execution_steps_execution_step_key" UNIQUE("execution_id","execution_created_at","step_number")
) PARTITION BY RANGE ("execution_created_at");--> statement-breakpoint
ALTER TABLE "test_execution_steps" ADD CONSTRAINT "test_execution_steps_execution_id_test_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."test_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE TABLE "test_execution_steps_default" PARTITION OF "test_execution_steps" DEFAULT;--> statement-breakpoint

-- The month (UTC) holding p_at as a partition, created if missing; true when it created one.
-- Steps of that month already in the default partition move into it. Serialised between
-- instances by an advisory lock; idempotent.
CREATE FUNCTION testtrack_ensure_step_partition(p_at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
  v_month timestamp := date_trunc('month', p_at AT TIME ZONE 'UTC');
  v_from timestamptz := v_month AT TIME ZONE 'UTC';
  v_to timestamptz := (v_month + interval '1 month') AT TIME ZONE 'UTC';
  v_name text := 'test_execution_steps_p' || to_char(v_month, 'YYYYMM');
BEGIN
  IF to_regclass(format('public.%I', v_name)) IS NOT NULL THEN
    RETURN false;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('testtrack_step_partitions'));
  IF to_regclass(format('public.%I', v_name)) IS NOT NULL THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM test_execution_steps_default
             WHERE execution_created_at >= v_from AND execution_created_at < v_to) THEN
    -- A partition cannot be created while the default one holds rows of its range: take the
    -- default out, create the month, move its rows (ids kept), put the default back.
    ALTER TABLE test_execution_steps DETACH PARTITION test_execution_steps_default;
    EXECUTE format('CREATE TABLE public.%I PARTITION OF test_execution_steps FOR VALUES FROM (%L) TO (%L)',
      v_name, v_from, v_to);
    WITH moved AS (
      DELETE FROM test_execution_steps_default
      WHERE execution_created_at >= v_from AND execution_created_at < v_to
      RETURNING *)
    INSERT INTO test_execution_steps (id, execution_id, execution_created_at, step_number,
      step_description, expected_result, result, actual_result, error_message, started_at,
      completed_at, duration_seconds, screenshot_path, screenshot_before, screenshot_after,
      retry_count, is_critical, created_at)
    OVERRIDING SYSTEM VALUE
    SELECT id, execution_id, execution_created_at, step_number, step_description,
      expected_result, result, actual_result, error_message, started_at, completed_at,
      duration_seconds, screenshot_path, screenshot_before, screenshot_after, retry_count,
      is_critical, created_at
    FROM moved;
    ALTER TABLE test_execution_steps ATTACH PARTITION test_execution_steps_default DEFAULT;
  ELSE
    EXECUTE format('CREATE TABLE public.%I PARTITION OF test_execution_steps FOR VALUES FROM (%L) TO (%L)',
      v_name, v_from, v_to);
  END IF;
  RETURN true;
END
$fn$;--> statement-breakpoint

-- The months from p_from's through p_months_ahead after the current one; the number created.
CREATE FUNCTION testtrack_ensure_step_partitions(p_months_ahead int, p_from timestamptz DEFAULT now())
RETURNS int LANGUAGE plpgsql AS $fn$
DECLARE
  v_created int := 0;
  v_month timestamptz;
BEGIN
  FOR v_month IN
    SELECT generate_series(
      date_trunc('month', p_from AT TIME ZONE 'UTC'),
      date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => p_months_ahead),
      interval '1 month') AT TIME ZONE 'UTC'
  LOOP
    IF testtrack_ensure_step_partition(v_month) THEN
      v_created := v_created + 1;
    END IF;
  END LOOP;
  RETURN v_created;
END
$fn$;--> statement-breakpoint

-- The monthly partitions, oldest first: name, range and an estimate of their rows.
CREATE FUNCTION testtrack_step_partitions()
RETURNS TABLE (name text, from_at timestamptz, to_at timestamptz, estimated_rows bigint)
LANGUAGE sql STABLE AS $fn$
  SELECT c.relname::text,
    to_date(substr(c.relname, 23), 'YYYYMM')::timestamp AT TIME ZONE 'UTC',
    (to_date(substr(c.relname, 23), 'YYYYMM')::timestamp + interval '1 month') AT TIME ZONE 'UTC',
    greatest(c.reltuples, 0)::bigint
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'public.test_execution_steps'::regclass
    AND c.relname ~ '^test_execution_steps_p[0-9]{6}$'
  ORDER BY c.relname
$fn$;--> statement-breakpoint

-- Drops every monthly partition that ends at or before p_horizon: the steps of executions
-- created before it go at once, whatever their number. Their executions are deleted afterwards in
-- batches (retention.ts); until then they show their stored summary without steps.
CREATE FUNCTION testtrack_drop_step_partitions(p_horizon timestamptz)
RETURNS TABLE (name text, from_at timestamptz, to_at timestamptz, estimated_rows bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_partition record;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('testtrack_step_partitions'));
  FOR v_partition IN SELECT * FROM testtrack_step_partitions() p WHERE p.to_at <= p_horizon LOOP
    EXECUTE format('DROP TABLE public.%I', v_partition.name);
    name := v_partition.name;
    from_at := v_partition.from_at;
    to_at := v_partition.to_at;
    estimated_rows := v_partition.estimated_rows;
    RETURN NEXT;
  END LOOP;
END
$fn$;--> statement-breakpoint

-- Every month holding executions, and the next three, then the rows (ids kept).
SELECT testtrack_ensure_step_partition(m)
FROM (SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS m
      FROM test_executions) months;--> statement-breakpoint
SELECT testtrack_ensure_step_partitions(3);--> statement-breakpoint
INSERT INTO "test_execution_steps" (id, execution_id, execution_created_at, step_number,
  step_description, expected_result, result, actual_result, error_message, started_at,
  completed_at, duration_seconds, screenshot_path, screenshot_before, screenshot_after,
  retry_count, is_critical, created_at)
OVERRIDING SYSTEM VALUE
SELECT s.id, s.execution_id, e.created_at, s.step_number, s.step_description, s.expected_result,
  s.result, s.actual_result, s.error_message, s.started_at, s.completed_at, s.duration_seconds,
  s.screenshot_path, s.screenshot_before, s.screenshot_after, s.retry_count, s.is_critical,
  s.created_at
FROM "test_execution_steps_unpartitioned" s
JOIN "test_executions" e ON e.id = s.execution_id;--> statement-breakpoint
SELECT setval('"test_execution_steps_id_seq"', coalesce((SELECT max(id) FROM "test_execution_steps_unpartitioned"), 1),
  (SELECT max(id) IS NOT NULL FROM "test_execution_steps_unpartitioned"));--> statement-breakpoint
DROP TABLE "test_execution_steps_unpartitioned";--> statement-breakpoint

-- The key is a copy: should an execution's created_at ever change (only tests and repairs do
-- that), its steps move with it, so lookups by (execution_id, execution_created_at) find them all.
CREATE FUNCTION testtrack_steps_follow_execution() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE test_execution_steps SET execution_created_at = NEW.created_at
  WHERE execution_id = NEW.id AND execution_created_at = OLD.created_at;
  RETURN NULL;
END
$fn$;--> statement-breakpoint
CREATE TRIGGER test_executions_created_at_moves_steps
AFTER UPDATE OF created_at ON test_executions
FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
EXECUTE FUNCTION testtrack_steps_follow_execution();--> statement-breakpoint

-- step.record (as in 0015) writes the key and reads the execution's steps by it, so only its
-- month's partition is searched.
CREATE OR REPLACE FUNCTION testtrack_record_steps(
  p_execution_id int, p_user int, p_admin boolean, p_scope_project int, p_scope_role project_role,
  p_steps json, p_max_steps int, p_channel text
) RETURNS TABLE (
  id int, status execution_status, result execution_result, total_steps int,
  passed_steps int, failed_steps int, skipped_steps int
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  changed record;
  v_role project_role;
  v_key timestamptz;
BEGIN
  -- The summary as it stands is the answer when no step is new.
  SELECT e.id, e.status, e.result, e.total_steps, e.passed_steps, e.failed_steps, e.skipped_steps,
    testtrack_project_role(e.project_id, p_user, p_admin, p_scope_project, p_scope_role), e.created_at
  INTO id, status, result, total_steps, passed_steps, failed_steps, skipped_steps, v_role, v_key
  FROM test_executions e
  WHERE e.id = p_execution_id
  FOR UPDATE;
  IF NOT FOUND OR v_role IS NULL THEN
    RAISE EXCEPTION 'Execution % was not found', p_execution_id USING ERRCODE = 'TT404';
  END IF;
  IF v_role < 'member' THEN
    RAISE EXCEPTION 'your role in this project is %; recording results needs member or maintainer', v_role
      USING ERRCODE = 'TT403';
  END IF;
  IF status IN ('completed', 'failed', 'cancelled') AND EXISTS (
    SELECT 1 FROM json_to_recordset(p_steps) AS r(step_number int)
    WHERE NOT EXISTS (
      SELECT 1 FROM test_execution_steps s
      WHERE s.execution_id = p_execution_id AND s.execution_created_at = v_key
        AND s.step_number = r.step_number)
  ) THEN
    RAISE EXCEPTION 'execution % is already %; no new steps can be added', p_execution_id, status
      USING ERRCODE = 'TT409';
  END IF;

  WITH inserted AS (
    INSERT INTO test_execution_steps (execution_id, execution_created_at, step_number,
      step_description, expected_result, result, actual_result, error_message, started_at,
      completed_at, duration_seconds, screenshot_path, screenshot_before, screenshot_after,
      retry_count, is_critical)
    -- Keys the caller left out are NULL: only retry_count and is_critical have other defaults.
    SELECT p_execution_id, v_key, r.step_number, r.step_description, r.expected_result, r.result,
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
      WHERE s.execution_id = p_execution_id AND s.execution_created_at = v_key
        AND s.step_number = r.step_number)
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
    -- this batch no fail is the table asked which (through the (execution_id, key) index).
    result = CASE
      WHEN c.inserted = 0 THEN e.result
      WHEN c.failed > 0 THEN 'fail'::execution_result
      WHEN e.failed_steps > 0 AND EXISTS (
        SELECT 1 FROM test_execution_steps t
        WHERE t.execution_id = p_execution_id AND t.execution_created_at = v_key
          AND t.result = 'fail') THEN 'fail'::execution_result
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
