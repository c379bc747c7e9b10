-- test_execution_steps' unique key with the partition key last: (int4, int4, timestamptz) index
-- entries take 24 bytes, (int4, timestamptz, int4) took 32 with alignment padding. Lookups by
-- execution in step order and step.record's duplicate check still use it (EXPLAIN checks in
-- test/partitions.test.ts). Rebuilds the index of every partition, with the table locked meanwhile.
ALTER TABLE "test_execution_steps" DROP CONSTRAINT "test_execution_steps_execution_step_key";--> statement-breakpoint
ALTER TABLE "test_execution_steps" ADD CONSTRAINT "test_execution_steps_execution_step_key" UNIQUE("execution_id","step_number","execution_created_at");