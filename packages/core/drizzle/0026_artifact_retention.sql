ALTER TABLE "projects" ADD COLUMN "artifact_retention_passed_days" integer;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "artifact_retention_failed_days" integer;--> statement-breakpoint
CREATE INDEX "artifacts_project_created_idx" ON "artifacts" USING btree ("project_id","created_at");