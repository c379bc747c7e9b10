import { relations, sql } from "drizzle-orm";
import {
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { testExecutions } from "./executions";
import { projects } from "./projects";
import { users } from "./users";

export interface TestCaseStep {
  description: string;
  expectedResult: string | null;
}

export const testCases = pgTable(
  "test_cases",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** Who created it; null once that user is deleted (the test case stays with its project). */
    userId: integer("user_id").references(() => users.id, { onDelete: "set null" }),
    title: varchar("title", { length: 500 }).notNull(),
    /**
     * A runner's stable name for the test (file + title path, JUnit classname + name), unique per
     * project, so testCase.ensure finds the same test case however often, and from however many
     * parallel jobs, it is asked for.
     */
    key: varchar("key", { length: 1000 }),
    description: text("description"),
    steps: jsonb("steps").$type<TestCaseStep[]>().notNull().default(sql`'[]'::jsonb`),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("test_cases_project_created_at_idx").on(t.projectId, t.createdAt.desc()),
    index("test_cases_user_id_idx").on(t.userId),
    uniqueIndex("test_cases_project_key").on(t.projectId, t.key),
  ],
);

export const testCasesRelations = relations(testCases, ({ one, many }) => ({
  owner: one(users, { fields: [testCases.userId], references: [users.id] }),
  project: one(projects, { fields: [testCases.projectId], references: [projects.id] }),
  executions: many(testExecutions),
}));
