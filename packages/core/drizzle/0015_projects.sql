-- Projects (DESIGN.md "Projects and access"). Every user gets a personal project, now and at
-- creation (trigger), and keeps maintainer rights in it; their test cases and executions move
-- into it, so what each member saw before is exactly what they see now. Roll-ups are re-keyed by
-- project and rebuilt from the executions. Access is answered in one place,
-- testtrack_project_role, which step.record's function and every query of the core call.
CREATE TYPE "public"."project_role" AS ENUM('viewer', 'member', 'maintainer');
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "projects_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"slug" varchar(64) NOT NULL,
	"name" varchar(200) NOT NULL,
	"default_branch" varchar(200) DEFAULT 'main' NOT NULL,
	"retention_days" integer,
	"personal_user_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "project_members" (
	"project_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"role" "project_role" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_members_project_id_user_id_pk" PRIMARY KEY("project_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_personal_user_id_users_id_fk" FOREIGN KEY ("personal_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "project_members_user_idx" ON "project_members" USING btree ("user_id","project_id");
--> statement-breakpoint
CREATE UNIQUE INDEX "projects_slug_key" ON "projects" USING btree ("slug");
--> statement-breakpoint
CREATE UNIQUE INDEX "projects_personal_user_key" ON "projects" USING btree ("personal_user_id");
--> statement-breakpoint
-- A user's personal project, created in the transaction that creates the user, whatever creates
-- it. The slug prefix "personal-" is reserved for these (project.create refuses it).
CREATE FUNCTION testtrack_create_personal_project() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  v_project int;
BEGIN
  INSERT INTO projects (slug, name, personal_user_id)
  VALUES ('personal-' || NEW.id, left(NEW.name, 185) || ' (personal)', NEW.id)
  RETURNING id INTO v_project;
  INSERT INTO project_members (project_id, user_id, role) VALUES (v_project, NEW.id, 'maintainer');
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER users_personal_project AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION testtrack_create_personal_project();
--> statement-breakpoint
INSERT INTO projects (slug, name, personal_user_id, created_at)
SELECT 'personal-' || id, left(name, 185) || ' (personal)', id, created_at FROM users ORDER BY id;
--> statement-breakpoint
INSERT INTO project_members (project_id, user_id, role, created_at)
SELECT id, personal_user_id, 'maintainer', created_at FROM projects;
--> statement-breakpoint
-- The caller's role in a project, or NULL when the project is not theirs to see: admins hold
-- every project as maintainers; a project token reaches its own project only, with at most its
-- role. Inlined by the planner (one SQL expression), so it costs an index probe per project.
CREATE FUNCTION testtrack_project_role(
  p_project int, p_user int, p_admin boolean, p_scope_project int, p_scope_role project_role
) RETURNS project_role LANGUAGE sql STABLE AS $fn$
  SELECT CASE
    WHEN p_scope_project IS NOT NULL AND p_scope_project IS DISTINCT FROM p_project THEN NULL
    WHEN p_scope_role IS NULL THEN r.role
    WHEN r.role IS NULL THEN NULL
    WHEN p_scope_role < r.role THEN p_scope_role
    ELSE r.role END
  FROM (SELECT CASE WHEN p_admin THEN 'maintainer'::project_role ELSE (
    SELECT m.role FROM project_members m WHERE m.project_id = p_project AND m.user_id = p_user
  ) END AS role) r
$fn$;
--> statement-breakpoint
ALTER TABLE "test_cases" ADD COLUMN "project_id" integer;
--> statement-breakpoint
UPDATE "test_cases" t SET "project_id" = p.id FROM projects p WHERE p.personal_user_id = t.user_id;
--> statement-breakpoint
ALTER TABLE "test_cases" ALTER COLUMN "project_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "test_cases" ADD CONSTRAINT "test_cases_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
DROP INDEX "test_cases_user_id_created_at_idx";
--> statement-breakpoint
DROP INDEX "test_cases_user_key";
--> statement-breakpoint
CREATE INDEX "test_cases_project_created_at_idx" ON "test_cases" USING btree ("project_id","created_at" DESC NULLS LAST);
--> statement-breakpoint
CREATE INDEX "test_cases_user_id_idx" ON "test_cases" USING btree ("user_id");
--> statement-breakpoint
CREATE UNIQUE INDEX "test_cases_project_key" ON "test_cases" USING btree ("project_id","key");
--> statement-breakpoint
-- Filling project_id changes nothing the roll-ups count (they are rebuilt below): their
-- statement triggers would only compare a million old and new rows.
ALTER TABLE "test_executions" DISABLE TRIGGER USER;
--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "project_id" integer;
--> statement-breakpoint
UPDATE "test_executions" e SET "project_id" = t.project_id FROM test_cases t WHERE t.id = e.test_case_id;
--> statement-breakpoint
ALTER TABLE "test_executions" ENABLE TRIGGER USER;
--> statement-breakpoint
ALTER TABLE "test_executions" ALTER COLUMN "project_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "test_executions" ADD CONSTRAINT "test_executions_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
DROP INDEX "test_executions_user_list_idx";
--> statement-breakpoint
DROP INDEX "test_executions_user_idempotency_key";
--> statement-breakpoint
CREATE INDEX "test_executions_project_list_idx" ON "test_executions" USING btree ("project_id","created_at","id","status","result","browser","environment");
--> statement-breakpoint
CREATE UNIQUE INDEX "test_executions_idempotency_key" ON "test_executions" USING btree ("project_id","user_id","idempotency_key");
--> statement-breakpoint
ALTER TABLE "execution_daily_stats" DROP CONSTRAINT "execution_daily_stats_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "execution_daily_stats" DROP CONSTRAINT "execution_daily_stats_user_id_day_dimension_value_pk";
--> statement-breakpoint
TRUNCATE "execution_daily_stats";
--> statement-breakpoint
ALTER TABLE "execution_daily_stats" DROP COLUMN "user_id";
--> statement-breakpoint
ALTER TABLE "execution_daily_stats" ADD COLUMN "project_id" integer NOT NULL;
--> statement-breakpoint
ALTER TABLE "execution_daily_stats" ADD CONSTRAINT "execution_daily_stats_project_id_day_dimension_value_pk" PRIMARY KEY("project_id","day","dimension","value");
--> statement-breakpoint
ALTER TABLE "execution_daily_stats" ADD CONSTRAINT "execution_daily_stats_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "execution_daily_test_cases" DROP CONSTRAINT "execution_daily_test_cases_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "execution_daily_test_cases" DROP CONSTRAINT "execution_daily_test_cases_user_id_day_test_case_id_pk";
--> statement-breakpoint
TRUNCATE "execution_daily_test_cases";
--> statement-breakpoint
ALTER TABLE "execution_daily_test_cases" DROP COLUMN "user_id";
--> statement-breakpoint
ALTER TABLE "execution_daily_test_cases" ADD COLUMN "project_id" integer NOT NULL;
--> statement-breakpoint
ALTER TABLE "execution_daily_test_cases" ADD CONSTRAINT "execution_daily_test_cases_project_id_day_test_case_id_pk" PRIMARY KEY("project_id","day","test_case_id");
--> statement-breakpoint
ALTER TABLE "execution_daily_test_cases" ADD CONSTRAINT "execution_daily_test_cases_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "execution_filter_counts" DROP CONSTRAINT "execution_filter_counts_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "execution_filter_counts" DROP CONSTRAINT "execution_filter_counts_user_id_status_result_browser_environment_pk";
--> statement-breakpoint
TRUNCATE "execution_filter_counts";
--> statement-breakpoint
ALTER TABLE "execution_filter_counts" DROP COLUMN "user_id";
--> statement-breakpoint
ALTER TABLE "execution_filter_counts" ADD COLUMN "project_id" integer NOT NULL;
--> statement-breakpoint
ALTER TABLE "execution_filter_counts" ADD CONSTRAINT "execution_filter_counts_project_id_status_result_browser_environment_pk" PRIMARY KEY("project_id","status","result","browser","environment");
--> statement-breakpoint
ALTER TABLE "execution_filter_counts" ADD CONSTRAINT "execution_filter_counts_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "execution_hourly_counts" DROP CONSTRAINT "execution_hourly_counts_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "execution_hourly_counts" DROP CONSTRAINT "execution_hourly_counts_user_id_hour_pk";
--> statement-breakpoint
TRUNCATE "execution_hourly_counts";
--> statement-breakpoint
ALTER TABLE "execution_hourly_counts" DROP COLUMN "user_id";
--> statement-breakpoint
ALTER TABLE "execution_hourly_counts" ADD COLUMN "project_id" integer NOT NULL;
--> statement-breakpoint
ALTER TABLE "execution_hourly_counts" ADD CONSTRAINT "execution_hourly_counts_project_id_hour_pk" PRIMARY KEY("project_id","hour");
--> statement-breakpoint
ALTER TABLE "execution_hourly_counts" ADD CONSTRAINT "execution_hourly_counts_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "execution_test_case_totals" DROP CONSTRAINT "execution_test_case_totals_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "execution_test_case_totals" DROP CONSTRAINT "execution_test_case_totals_user_id_test_case_id_pk";
--> statement-breakpoint
TRUNCATE "execution_test_case_totals";
--> statement-breakpoint
ALTER TABLE "execution_test_case_totals" DROP COLUMN "user_id";
--> statement-breakpoint
ALTER TABLE "execution_test_case_totals" ADD COLUMN "project_id" integer NOT NULL;
--> statement-breakpoint
ALTER TABLE "execution_test_case_totals" ADD CONSTRAINT "execution_test_case_totals_project_id_test_case_id_pk" PRIMARY KEY("project_id","test_case_id");
--> statement-breakpoint
ALTER TABLE "execution_test_case_totals" ADD CONSTRAINT "execution_test_case_totals_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "execution_totals" DROP CONSTRAINT "execution_totals_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "execution_totals" DROP CONSTRAINT "execution_totals_user_id_dimension_value_pk";
--> statement-breakpoint
TRUNCATE "execution_totals";
--> statement-breakpoint
ALTER TABLE "execution_totals" DROP COLUMN "user_id";
--> statement-breakpoint
ALTER TABLE "execution_totals" ADD COLUMN "project_id" integer NOT NULL;
--> statement-breakpoint
ALTER TABLE "execution_totals" ADD CONSTRAINT "execution_totals_project_id_dimension_value_pk" PRIMARY KEY("project_id","dimension","value");
--> statement-breakpoint
ALTER TABLE "execution_totals" ADD CONSTRAINT "execution_totals_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "project_id" integer;
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "project_role" "project_role";
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- The roll-up triggers of 0004, 0006 and 0012, keyed by project instead of owner. A cascade from
-- a deleted project skips its (cascaded) roll-up rows; a deleted user's executions in shared
-- projects are subtracted as any delete.
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
    WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = c.project_id)$d$;
  test_case_exists constant text :=
    'WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = c.project_id) AND EXISTS (SELECT 1 FROM test_cases t WHERE t.id = c.test_case_id)';
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
      WHERE (o.project_id, o.test_case_id, o.created_at, o.status, o.result, o.browser, o.environment, o.duration_seconds)
        IS DISTINCT FROM (n.project_id, n.test_case_id, n.created_at, n.status, n.result, n.browser, n.environment, n.duration_seconds)
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
    'INSERT INTO execution_daily_stats AS s (project_id, day, dimension, value, executions, duration_sum, duration_count)
     SELECT c.project_id, (c.created_at AT TIME ZONE ''UTC'')::date, d.dimension, d.value, %2$s FROM (%1$s) c %3$s
     GROUP BY 1, 2, 3, 4 %4$s ORDER BY 1, 2, 3, 4
     ON CONFLICT (project_id, day, dimension, value) DO UPDATE SET %5$s',
    changes, sums, dimensions, changed, add_durations);
  EXECUTE format(
    'INSERT INTO execution_totals AS s (project_id, dimension, value, executions, duration_sum, duration_count)
     SELECT c.project_id, d.dimension, d.value, %2$s FROM (%1$s) c %3$s
     GROUP BY 1, 2, 3 %4$s ORDER BY 1, 2, 3
     ON CONFLICT (project_id, dimension, value) DO UPDATE SET %5$s',
    changes, sums, dimensions, changed, add_durations);
  EXECUTE format(
    'INSERT INTO execution_daily_test_cases AS s (project_id, day, test_case_id, executions)
     SELECT c.project_id, (c.created_at AT TIME ZONE ''UTC'')::date, c.test_case_id, sum(c.sign) FROM (%1$s) c %2$s
     GROUP BY 1, 2, 3 HAVING sum(c.sign) <> 0 ORDER BY 1, 2, 3
     ON CONFLICT (project_id, day, test_case_id) DO UPDATE SET executions = s.executions + excluded.executions',
    changes, test_case_exists);
  EXECUTE format(
    'INSERT INTO execution_test_case_totals AS s (project_id, test_case_id, executions)
     SELECT c.project_id, c.test_case_id, sum(c.sign) FROM (%1$s) c %2$s
     GROUP BY 1, 2 HAVING sum(c.sign) <> 0 ORDER BY 1, 2
     ON CONFLICT (project_id, test_case_id) DO UPDATE SET executions = s.executions + excluded.executions',
    changes, test_case_exists);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION testtrack_execution_filter_counts() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  changes text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NOT EXISTS (
      SELECT 1 FROM old_rows o JOIN new_rows n USING (id)
      WHERE (o.project_id, o.status, o.result, o.browser, o.environment)
        IS DISTINCT FROM (n.project_id, n.status, n.result, n.browser, n.environment)
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
    'INSERT INTO execution_filter_counts AS s (project_id, status, result, browser, environment, executions)
     SELECT c.project_id, c.status::text, coalesce(c.result::text, ''''), coalesce(c.browser, ''''),
       coalesce(c.environment, ''''), sum(c.sign)
     FROM (%s) c WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = c.project_id)
     GROUP BY 1, 2, 3, 4, 5 HAVING sum(c.sign) <> 0 ORDER BY 1, 2, 3, 4, 5
     ON CONFLICT (project_id, status, result, browser, environment)
     DO UPDATE SET executions = s.executions + excluded.executions',
    changes);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION testtrack_execution_hourly_counts() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  changes text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NOT EXISTS (
      SELECT 1 FROM old_rows o JOIN new_rows n USING (id)
      WHERE (o.project_id, o.created_at) IS DISTINCT FROM (n.project_id, n.created_at)
    ) THEN
      RETURN NULL;
    END IF;
  END IF;
  changes := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT project_id, created_at, 1 AS sign FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT project_id, created_at, -1 AS sign FROM old_rows'
    ELSE 'SELECT project_id, created_at, 1 AS sign FROM new_rows
          UNION ALL SELECT project_id, created_at, -1 AS sign FROM old_rows'
  END;
  EXECUTE format($q$
    INSERT INTO execution_hourly_counts AS s (project_id, hour, executions)
    SELECT c.project_id, date_trunc('hour', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', sum(c.sign)
    FROM (%s) c
    WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = c.project_id)
    GROUP BY 1, 2
    HAVING sum(c.sign) <> 0
    ORDER BY 1, 2
    ON CONFLICT (project_id, hour) DO UPDATE SET executions = s.executions + excluded.executions
  $q$, changes);
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
-- The roll-ups rebuilt per project from the executions (the same aggregates as 0002 to 0012).
INSERT INTO execution_daily_stats (project_id, day, dimension, value, executions, duration_sum, duration_count)
SELECT e.project_id, (e.created_at AT TIME ZONE 'UTC')::date, d.dimension, d.value,
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
INSERT INTO execution_totals (project_id, dimension, value, executions, duration_sum, duration_count)
SELECT project_id, dimension, value, sum(executions), sum(duration_sum), sum(duration_count)
FROM execution_daily_stats GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO execution_daily_test_cases (project_id, day, test_case_id, executions)
SELECT project_id, (created_at AT TIME ZONE 'UTC')::date, test_case_id, count(*)
FROM test_executions GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO execution_test_case_totals (project_id, test_case_id, executions)
SELECT project_id, test_case_id, sum(executions) FROM execution_daily_test_cases GROUP BY 1, 2;
--> statement-breakpoint
INSERT INTO execution_filter_counts (project_id, status, result, browser, environment, executions)
SELECT project_id, status::text, coalesce(result::text, ''), coalesce(browser, ''), coalesce(environment, ''), count(*)
FROM test_executions GROUP BY 1, 2, 3, 4, 5;
--> statement-breakpoint
INSERT INTO execution_hourly_counts (project_id, hour, executions)
SELECT project_id, date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*)
FROM test_executions GROUP BY 1, 2;
--> statement-breakpoint
-- step.record as in 0014, with the caller's access to the execution's project checked under the
-- row lock by testtrack_project_role: NOT_FOUND (TT404) when it is not theirs to see, FORBIDDEN
-- (TT403) for a viewer.
DROP FUNCTION testtrack_record_steps(int, int, json, int, text);
--> statement-breakpoint
CREATE FUNCTION testtrack_record_steps(
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
BEGIN
  -- The summary as it stands is the answer when no step is new.
  SELECT e.id, e.status, e.result, e.total_steps, e.passed_steps, e.failed_steps, e.skipped_steps,
    testtrack_project_role(e.project_id, p_user, p_admin, p_scope_project, p_scope_role)
  INTO id, status, result, total_steps, passed_steps, failed_steps, skipped_steps, v_role
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
