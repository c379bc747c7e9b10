DROP INDEX "test_executions_user_created_idx";--> statement-breakpoint
DROP INDEX "test_executions_case_created_idx";--> statement-breakpoint
CREATE INDEX "test_executions_user_list_idx" ON "test_executions" USING btree ("user_id","created_at","id","status","result","browser","environment");--> statement-breakpoint
CREATE INDEX "test_executions_list_idx" ON "test_executions" USING btree ("created_at","id","status","result","browser","environment");--> statement-breakpoint
CREATE INDEX "test_executions_case_list_idx" ON "test_executions" USING btree ("test_case_id","created_at","id");