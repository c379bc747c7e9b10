-- test_execution_steps' partition key was a copy of its execution's created_at that only
-- testtrack_record_steps and a trigger kept equal. Step reads by partition name find an
-- execution's steps by execution_id alone, which is exact only while that holds, so the foreign
-- key now holds it: (execution_id, execution_created_at) refers to the execution's
-- (id, created_at), and an update of created_at cascades to the steps (moving them between
-- partitions), which is what the trigger did. Pinned by packages/core/test/partitions.test.ts.
-- On a large database this takes a while, with writes waiting: the unique constraint builds an
-- index over test_executions, and the foreign key's check reads every step once.
ALTER TABLE "test_executions" ADD CONSTRAINT "test_executions_id_created_at_key" UNIQUE("id","created_at");--> statement-breakpoint
-- A step written behind testtrack_record_steps' back may carry a key off its execution's
-- created_at (a raw driver that sends timestamps through a JS Date keeps milliseconds only); the
-- key is set to the execution's first, moving such steps into its month, so the check passes.
UPDATE "test_execution_steps" s SET "execution_created_at" = e."created_at"
FROM "test_executions" e
WHERE e."id" = s."execution_id" AND s."execution_created_at" <> e."created_at";--> statement-breakpoint
ALTER TABLE "test_execution_steps" DROP CONSTRAINT "test_execution_steps_execution_id_test_executions_id_fk";--> statement-breakpoint
ALTER TABLE "test_execution_steps" ADD CONSTRAINT "test_execution_steps_execution_fk" FOREIGN KEY ("execution_id","execution_created_at") REFERENCES "public"."test_executions"("id","created_at") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
DROP TRIGGER "test_executions_created_at_moves_steps" ON "test_executions";--> statement-breakpoint
DROP FUNCTION "testtrack_steps_follow_execution"();
