CREATE TABLE "execution_hourly_counts" (
	"user_id" integer NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"executions" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "execution_hourly_counts_user_id_hour_pk" PRIMARY KEY("user_id","hour")
);
--> statement-breakpoint
ALTER TABLE "execution_hourly_counts" ADD CONSTRAINT "execution_hourly_counts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "execution_hourly_counts_hour_idx" ON "execution_hourly_counts" USING btree ("hour");