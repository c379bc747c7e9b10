-- test_execution_steps' partition key was a copy of its execution's created_at that only
-- testtrack_record_steps and a trigger kept equal. Step reads by partition name find an
-- execution's steps by execution_id alone, which is exact only while that holds, so the foreign
-- key now holds it: (execution_id, execution_created_at) refers to the execution's
-- (id, created_at), and an update of created_at cascades to the steps (moving them between
-- partitions), which is what the trigger did. Pinned by packages/core/test/partitions.test.ts.
ALTER TABLE "test_executions" ADD CONSTRAINT "test_executions_id_created_at_key" UNIQUE("id","created_at");--> statement-breakpoint
ALTER TABLE "test_execution_steps" DROP CONSTRAINT "test_execution_steps_execution_id_test_executions_id_fk";--> statement-breakpoint
ALTER TABLE "test_execution_steps" ADD CONSTRAINT "test_execution_steps_execution_fk" FOREIGN KEY ("execution_id","execution_created_at") REFERENCES "public"."test_executions"("id","created_at") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
DROP TRIGGER "test_executions_created_at_moves_steps" ON "test_executions";--> statement-breakpoint
DROP FUNCTION "testtrack_steps_follow_execution"();
