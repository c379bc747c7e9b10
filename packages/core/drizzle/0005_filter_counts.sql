CREATE TABLE "execution_filter_counts" (
	"user_id" integer NOT NULL,
	"status" varchar(16) NOT NULL,
	"result" varchar(16) NOT NULL,
	"browser" varchar(50) NOT NULL,
	"environment" varchar(50) NOT NULL,
	"executions" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "execution_filter_counts_user_id_status_result_browser_environment_pk" PRIMARY KEY("user_id","status","result","browser","environment")
);
--> statement-breakpoint
ALTER TABLE "execution_filter_counts" ADD CONSTRAINT "execution_filter_counts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;