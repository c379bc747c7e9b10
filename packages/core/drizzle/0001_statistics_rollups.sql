CREATE TABLE "execution_daily_stats" (
	"user_id" integer NOT NULL,
	"day" date NOT NULL,
	"dimension" varchar(16) NOT NULL,
	"value" varchar(50) NOT NULL,
	"executions" integer DEFAULT 0 NOT NULL,
	"duration_sum" double precision DEFAULT 0 NOT NULL,
	"duration_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "execution_daily_stats_user_id_day_dimension_value_pk" PRIMARY KEY("user_id","day","dimension","value")
);
--> statement-breakpoint
CREATE TABLE "execution_daily_test_cases" (
	"user_id" integer NOT NULL,
	"day" date NOT NULL,
	"test_case_id" integer NOT NULL,
	"executions" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "execution_daily_test_cases_user_id_day_test_case_id_pk" PRIMARY KEY("user_id","day","test_case_id")
);
--> statement-breakpoint
ALTER TABLE "execution_daily_stats" ADD CONSTRAINT "execution_daily_stats_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "execution_daily_test_cases" ADD CONSTRAINT "execution_daily_test_cases_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "execution_daily_test_cases" ADD CONSTRAINT "execution_daily_test_cases_test_case_id_test_cases_id_fk" FOREIGN KEY ("test_case_id") REFERENCES "public"."test_cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "execution_daily_stats_day_idx" ON "execution_daily_stats" USING btree ("day","dimension");--> statement-breakpoint
CREATE INDEX "execution_daily_test_cases_day_idx" ON "execution_daily_test_cases" USING btree ("day");--> statement-breakpoint
CREATE INDEX "execution_daily_test_cases_test_case_idx" ON "execution_daily_test_cases" USING btree ("test_case_id");