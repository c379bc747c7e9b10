-- testtrack_project_role as in 0015, but an admin holds only projects that exist: a missing
-- project id is NOT_FOUND for admins too, as for everyone, instead of a foreign-key CONFLICT on
-- their writes and empty answers to their reads.
CREATE OR REPLACE FUNCTION testtrack_project_role(
  p_project int, p_user int, p_admin boolean, p_scope_project int, p_scope_role project_role
) RETURNS project_role LANGUAGE sql STABLE AS $fn$
  SELECT CASE
    WHEN p_scope_project IS NOT NULL AND p_scope_project IS DISTINCT FROM p_project THEN NULL
    WHEN p_scope_role IS NULL THEN r.role
    WHEN r.role IS NULL THEN NULL
    WHEN p_scope_role < r.role THEN p_scope_role
    ELSE r.role END
  FROM (SELECT CASE
    WHEN p_admin THEN (SELECT 'maintainer'::project_role FROM projects p WHERE p.id = p_project)
    ELSE (SELECT m.role FROM project_members m WHERE m.project_id = p_project AND m.user_id = p_user)
  END AS role) r
$fn$;
