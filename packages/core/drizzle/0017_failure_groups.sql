CREATE TABLE "failure_groups" (
	"project_id" integer NOT NULL,
	"fingerprint" varchar(16) NOT NULL,
	"sample_message" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"first_run_id" integer,
	"occurrences" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "failure_groups_project_id_fingerprint_pk" PRIMARY KEY("project_id","fingerprint")
);
--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "failure_fingerprint" varchar(16);--> statement-breakpoint
ALTER TABLE "failure_groups" ADD CONSTRAINT "failure_groups_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "failure_groups" ADD CONSTRAINT "failure_groups_first_run_id_runs_id_fk" FOREIGN KEY ("first_run_id") REFERENCES "public"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "failure_groups_recent_idx" ON "failure_groups" USING btree ("project_id","last_seen_at","fingerprint");--> statement-breakpoint
CREATE INDEX "test_executions_fingerprint_idx" ON "test_executions" USING btree ("project_id","failure_fingerprint") WHERE "test_executions"."failure_fingerprint" is not null;