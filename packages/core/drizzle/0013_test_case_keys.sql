ALTER TABLE "test_cases" ADD COLUMN "key" varchar(1000);--> statement-breakpoint
CREATE UNIQUE INDEX "test_cases_user_key" ON "test_cases" USING btree ("user_id","key");