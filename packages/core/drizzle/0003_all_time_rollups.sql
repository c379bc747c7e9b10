CREATE TABLE "execution_test_case_totals" (
	"user_id" integer NOT NULL,
	"test_case_id" integer NOT NULL,
	"executions" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "execution_test_case_totals_user_id_test_case_id_pk" PRIMARY KEY("user_id","test_case_id")
);
--> statement-breakpoint
CREATE TABLE "execution_totals" (
	"user_id" integer NOT NULL,
	"dimension" varchar(16) NOT NULL,
	"value" varchar(50) NOT NULL,
	"executions" integer DEFAULT 0 NOT NULL,
	"duration_sum" double precision DEFAULT 0 NOT NULL,
	"duration_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "execution_totals_user_id_dimension_value_pk" PRIMARY KEY("user_id","dimension","value")
);
--> statement-breakpoint
ALTER TABLE "execution_test_case_totals" ADD CONSTRAINT "execution_test_case_totals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "execution_test_case_totals" ADD CONSTRAINT "execution_test_case_totals_test_case_id_test_cases_id_fk" FOREIGN KEY ("test_case_id") REFERENCES "public"."test_cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "execution_totals" ADD CONSTRAINT "execution_totals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "execution_test_case_totals_count_idx" ON "execution_test_case_totals" USING btree ("executions" DESC NULLS LAST);