#!/usr/bin/env node
import { appendFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { createTestTrackClient, type TestTrackClient, type TriggeredBy } from "@testtrack/client";
import { createArtifactUploader } from "@testtrack/client/artifacts";
import {
  detectRun,
  parseShard,
  type RunContext,
  runStartInput,
  type Shard,
} from "@testtrack/client/reporting";
import { TRPCClientError } from "@trpc/client";
import { type ImportSummary, importJUnitFiles, summaryLine } from "./importer.js";
import { ProgressBar } from "./progress.js";
import { FAIL_ON, type FailOn, failsOn, summaryMarkdown } from "./summary.js";

const USAGE = `Usage: testtrack <command> [options]

Commands:
  import <junit.xml>...                 import JUnit XML reports (Jest, Vitest, pytest, Maven
                                        Surefire, go-junit-report, ...): each <testcase> becomes
                                        an execution of the test case "classname › name"
  project list                          the projects you can see, with your role
  project create <slug> --name <name>   create a project; you become its maintainer
  project members <project>             a project's members and their roles
  project add-member <project> <email>  add a user (--role viewer | member | maintainer)
  token create --name <name>            create an API token, shown once; with --project, a
                                        project token that reaches that project only
  run start                             start (or join) the run of this CI build
  run finish                            finish it (--status passed | failed | cancelled)
  run summary                           the run and what changed since the last run of the
                                        default branch (--format markdown | json, --fail-on)
  run delete <run-id>                   delete a run with its executions, steps and artifacts
                                        (maintainer)
  quarantine list                       the project's quarantined tests (--all: expired too)
  quarantine add <test-case-id>         quarantine a test (--reason, optional --expires): its
                                        failures stop failing runs and --fail-on
  quarantine remove <test-case-id>      take a test out of quarantine
  health flaky                          the project's flaky tests, most evidence first
                                        (--window <days>, default 14)
  health rebuild                        recompute the project's health roll-ups (maintainer)
  retention --dry-run                   what retention would delete now (admin): step partitions
                                        past TESTTRACK_RETENTION_DAYS, projects' expired
                                        executions and artifacts; the server itself deletes them
                                        every TESTTRACK_RETENTION_INTERVAL_MINUTES

<project> is a project's id or slug.

Options:
  --url <url>            TestTrack server (default: TESTTRACK_URL)
  --token <token>        API token (default: TESTTRACK_TOKEN)
  --project <project>    import into this project; for tokens, the project it reaches
                         (default for import: TESTTRACK_PROJECT, else the token's project)
  --role <role>          viewer | member | maintainer (add-member: default member; token:
                         the most it may do, default member)
  --name <name>          the project's or token's name
  --expires <date>       when the token or quarantine expires (ISO 8601, e.g. 2027-06-30T00:00:00Z)
  --reason <text>        quarantine add: why (an issue link, what breaks)
  --window <days>        health flaky: days back from now (1-90, default 14)
  --all                  quarantine list: expired entries too
  --dry-run              retention: only print what would go
  --environment <name>   import: environment label for every execution
  --browser <name>       import: browser label for every execution
  --attachments          import: upload the files named by [[ATTACHMENT|path]] lines of a test's
                         output (relative to the report's folder) as artifacts
  --trigger <kind>       import: manual | scheduled | ci_cd | webhook (default: ci_cd when CI is set)
  --run-key <key>        the run (CI build): default detected from CI (GitHub Actions, GitLab CI,
                         Buildkite, CircleCI, Jenkins, Azure Pipelines) or TESTTRACK_RUN_KEY;
                         outside CI an import records into no run unless given one
  --shard <i/n>          import, run start: this part of a sharded run (default TESTTRACK_SHARD)
  --status <status>      run finish: passed | failed | cancelled (default: failed if a test failed)
  --format <format>      run summary: markdown (default) | json; markdown is also appended to
                         $GITHUB_STEP_SUMMARY when it is set
  --fail-on <what>       run summary: exit 1 on new-failures | failures | never (default never)
  --json                 print the answer as JSON
  -h, --help             show this help
`;

const TRIGGERS: readonly TriggeredBy[] = ["manual", "scheduled", "ci_cd", "webhook"];
const ROLES = ["viewer", "member", "maintainer"] as const;
type Role = (typeof ROLES)[number];

/** Warnings printed per file: a tool that writes one odd value usually writes it in every test. */
const WARNINGS_PER_FILE = 10;

type Values = ReturnType<typeof parse>["values"];

/** A mistake in the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

/** Runs the CLI and returns its exit code: 0 done, 1 the server refused or an upload failed, 2 usage. */
async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`testtrack: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const [command, ...rest] = positionals;
    if (command === "import") return await importCommand(values, rest);
    if (command === "project") return await projectCommand(values, rest);
    if (command === "token") return await tokenCommand(values, rest);
    if (command === "run") return await runCommand(values, rest);
    if (command === "quarantine") return await quarantineCommand(values, rest);
    if (command === "health") return await healthCommand(values, rest);
    if (command === "retention") return await retentionCommand(values);
    throw new UsageError(`unknown command ${command ? `"${command}"` : "(none)"}`);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`testtrack: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof TRPCClientError) {
      // The server's messages are written for people; the code says which kind of refusal.
      const code = (error.data as { code?: string } | undefined)?.code;
      process.stderr.write(`testtrack: ${error.message}${code ? ` (${code})` : ""}\n`);
      return 1;
    }
    throw error;
  }
}

function connect(values: Values): TestTrackClient {
  const url = values.url ?? process.env.TESTTRACK_URL;
  const token = values.token ?? process.env.TESTTRACK_TOKEN;
  if (!url || !token) {
    throw new UsageError("set --url and --token (or TESTTRACK_URL and TESTTRACK_TOKEN)");
  }
  return createTestTrackClient({ url, token });
}

function artifactUploaderOf(values: Values) {
  const upload = createArtifactUploader({
    url: values.url ?? process.env.TESTTRACK_URL ?? "",
    token: values.token ?? process.env.TESTTRACK_TOKEN,
  });
  return (executionId: number, path: string) => upload(executionId, path);
}

function roleOf(values: Values): Role | undefined {
  const role = values.role as Role | undefined;
  if (role !== undefined && !ROLES.includes(role)) {
    throw new UsageError(`--role must be one of ${ROLES.join(", ")}`);
  }
  return role;
}

/** A project named by id (digits) or slug, as its id. */
async function projectIdOf(client: TestTrackClient, project: string): Promise<number> {
  if (/^\d+$/.test(project)) return Number(project);
  return (await client.project.get.query({ slug: project })).id;
}

function print(values: Values, json: unknown, lines: string[]): void {
  process.stdout.write(
    values.json ? `${JSON.stringify(json, null, 2)}\n` : `${lines.join("\n")}\n`,
  );
}

/** Rows as aligned columns, the header first. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ");
  return [line(header), ...rows.map(line)];
}

/** Every item of a list paged by cursor. */
async function allPages<T, C extends number | string = number>(
  page: (cursor: C | undefined) => Promise<{ items: T[]; nextCursor: C | null }>,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: C | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

async function projectCommand(values: Values, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === "list") {
    const client = connect(values);
    const projects = await allPages((cursor) => client.project.list.query({ cursor, limit: 100 }));
    print(
      values,
      projects,
      projects.length === 0
        ? ["no projects"]
        : table(
            ["ID", "SLUG", "ROLE", "NAME"],
            projects.map((p) => [String(p.id), p.slug, p.role, p.name]),
          ),
    );
    return 0;
  }
  if (action === "create") {
    const [slug] = rest;
    if (!slug || !values.name) throw new UsageError("project create needs <slug> and --name");
    const project = await connect(values).project.create.mutate({ slug, name: values.name });
    print(values, project, [`Created project ${project.slug} (id ${project.id}); you maintain it`]);
    return 0;
  }
  if (action === "members") {
    const [project] = rest;
    if (!project) throw new UsageError("project members needs <project>");
    const client = connect(values);
    const projectId = await projectIdOf(client, project);
    const members = await allPages((cursor) =>
      client.project.members.query({ projectId, cursor, limit: 100 }),
    );
    print(
      values,
      members,
      table(
        ["USER", "EMAIL", "ROLE", "NAME"],
        members.map((m) => [String(m.userId), m.email, m.role, m.name]),
      ),
    );
    return 0;
  }
  if (action === "add-member") {
    const [project, email] = rest;
    if (!project || !email) throw new UsageError("project add-member needs <project> <email>");
    const client = connect(values);
    const added = await client.project.addMember.mutate({
      projectId: await projectIdOf(client, project),
      email,
      role: roleOf(values) ?? "member",
    });
    print(values, added, [`Added ${added.email} as ${added.role}`]);
    return 0;
  }
  throw new UsageError(
    `unknown project command ${action ? `"${action}"` : "(none)"}: use list, create, members or add-member`,
  );
}

async function tokenCommand(values: Values, args: string[]): Promise<number> {
  const [action] = args;
  if (action !== "create") {
    throw new UsageError(`unknown token command ${action ? `"${action}"` : "(none)"}: use create`);
  }
  if (!values.name) throw new UsageError("token create needs --name");
  const role = roleOf(values);
  if (role && !values.project)
    throw new UsageError("--role applies to project tokens: add --project");
  const client = connect(values);
  const projectId = values.project ? await projectIdOf(client, values.project) : undefined;
  const created = await client.auth.createApiToken.mutate({
    name: values.name,
    expiresAt: values.expires,
    projectId,
    role,
  });
  const reach = created.projectId
    ? `project ${created.projectId} only, as ${created.role}`
    : "everything you can";
  print(values, created, [
    created.token,
    "",
    `Token "${created.name}" reaches ${reach}. It is shown this once: store it now (e.g. as TESTTRACK_TOKEN in CI).`,
  ]);
  return 0;
}

async function importCommand(values: Values, files: string[]): Promise<number> {
  const trigger = values.trigger as TriggeredBy | undefined;
  if (files.length === 0) throw new UsageError("name at least one JUnit XML file");
  if (trigger && !TRIGGERS.includes(trigger)) {
    throw new UsageError(`--trigger must be one of ${TRIGGERS.join(", ")}`);
  }
  const client = connect(values);
  const project = values.project ?? process.env.TESTTRACK_PROJECT;
  const projectId = project ? await projectIdOf(client, project) : undefined;

  const progress = new ProgressBar(process.stderr);
  const shard = values.shard === undefined ? undefined : shardOf(values.shard);
  const summary = await importJUnitFiles(client, files, {
    projectId,
    runKey: values["run-key"],
    shard,
    environment: values.environment,
    browser: values.browser,
    triggeredBy: trigger,
    uploadArtifact: values.attachments ? artifactUploaderOf(values) : undefined,
    onProgress: ({ file, done, total }) => progress.update(done, total, basename(file)),
  });
  progress.finish();
  for (const { message } of summary.rejected) {
    process.stderr.write(`testtrack: ${message} (nothing imported from this file)\n`);
  }
  printWarnings(summary.warnings);
  for (const { file, line, message } of summary.uploadErrors) {
    process.stderr.write(`testtrack: ${file}:${line}: could not upload: ${message}\n`);
  }
  process.stdout.write(`${summaryLine(summary)}\n`);
  if (summary.run) {
    process.stdout.write(
      `Run ${summary.run.key} (id ${summary.run.id}): ${summary.run.status ?? "?"}\n`,
    );
  }
  return summary.rejected.length > 0 || summary.uploadErrors.length > 0 ? 1 : 0;
}

function shardOf(value: string): Shard {
  const shard = parseShard(value);
  if (!shard) throw new UsageError(`--shard must be i/n with 1 ≤ i ≤ n, e.g. 2/4 (not "${value}")`);
  return shard;
}

/** The run this command means: --run-key, else the CI build's (TESTTRACK_RUN_KEY, CI's ids). */
function runContextOf(values: Values): RunContext {
  const detected = detectRun();
  const key = values["run-key"]?.trim();
  if (key) return { ...detected, key };
  if (detected.provider === null && !process.env.TESTTRACK_RUN_KEY) {
    throw new UsageError(
      "no CI build detected: name the run with --run-key (or TESTTRACK_RUN_KEY)",
    );
  }
  return detected;
}

async function runCommand(values: Values, args: string[]): Promise<number> {
  const [action, runId] = args;
  if (action === "delete") return runDeleteCommand(values, runId);
  if (action !== "start" && action !== "finish" && action !== "summary") {
    throw new UsageError(
      `unknown run command ${action ? `"${action}"` : "(none)"}: use start, finish, summary or delete`,
    );
  }
  const context = runContextOf(values);
  const status = values.status as "passed" | "failed" | "cancelled" | undefined;
  if (status !== undefined && !["passed", "failed", "cancelled"].includes(status)) {
    throw new UsageError("--status must be passed, failed or cancelled");
  }
  const format = values.format ?? "markdown";
  if (format !== "markdown" && format !== "json") {
    throw new UsageError("--format must be markdown or json");
  }
  const failOn = (values["fail-on"] ?? "never") as FailOn;
  if (!FAIL_ON.includes(failOn))
    throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(", ")}`);
  const shard = values.shard === undefined ? undefined : shardOf(values.shard);
  const client = connect(values);
  const projectId = values.project ? await projectIdOf(client, values.project) : undefined;
  if (action === "start") {
    const run = await client.run.start.mutate({
      ...runStartInput(context, { projectId, shard }),
      name: values.name ?? context.name,
    });
    print(values, run, [`${run.created ? "Started" : "Joined"} run ${run.key} (id ${run.id})`]);
    return 0;
  }
  const run = await client.run.get.query({ key: context.key, projectId, limit: 1 });
  if (action === "finish") {
    const finished = await client.run.finish.mutate({ runId: run.id, status });
    print(values, finished, [`Run ${finished.key} (id ${finished.id}): ${finished.status}`]);
    return 0;
  }
  const comparison = await client.run.compare.query({ runId: run.id, limit: 1_000 });
  const url = values.url ?? process.env.TESTTRACK_URL ?? "";
  const markdown = summaryMarkdown(run, comparison, url);
  if (process.env.GITHUB_STEP_SUMMARY)
    appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
  const { testsPage: _page, ...runFields } = run;
  process.stdout.write(
    format === "json"
      ? `${JSON.stringify({ run: runFields, base: comparison.base, counts: comparison.counts, buckets: comparison.buckets }, null, 2)}\n`
      : markdown,
  );
  return failsOn(failOn, run, comparison) ? 1 : 0;
}

async function runDeleteCommand(values: Values, runId: string | undefined): Promise<number> {
  if (!runId || !/^\d+$/.test(runId)) throw new UsageError("run delete needs <run-id>");
  const deleted = await connect(values).run.delete.mutate({ id: Number(runId) });
  print(values, deleted, [
    `Deleted run ${deleted.id} with ${deleted.executions} execution${deleted.executions === 1 ? "" : "s"} and ${deleted.artifacts} artifact${deleted.artifacts === 1 ? "" : "s"}`,
  ]);
  return 0;
}

/** A test case named by its id (digits). */
function testCaseIdOf(value: string | undefined, command: string): number {
  if (!value || !/^\d+$/.test(value)) throw new UsageError(`${command} needs <test-case-id>`);
  return Number(value);
}

const day = (value: Date | string | null) =>
  value ? new Date(value).toISOString().slice(0, 10) : "-";

async function quarantineCommand(values: Values, args: string[]): Promise<number> {
  const [action, test] = args;
  if (action === "list") {
    const client = connect(values);
    const projectId = values.project ? await projectIdOf(client, values.project) : undefined;
    const entries = await allPages<
      Awaited<ReturnType<typeof client.quarantine.list.query>>["items"][number],
      string
    >((cursor) =>
      client.quarantine.list.query({
        projectId,
        includeExpired: values.all ?? false,
        cursor,
        limit: 100,
      }),
    );
    print(
      values,
      entries,
      entries.length === 0
        ? ["no quarantined tests"]
        : table(
            ["TEST", "EXPIRES", "ACTIVE", "TITLE", "REASON"],
            entries.map((e) => [
              String(e.testCaseId),
              e.expiresAt ? day(e.expiresAt) : "never",
              e.active ? "yes" : "no",
              e.title,
              e.reason,
            ]),
          ),
    );
    return 0;
  }
  if (action === "add") {
    const testCaseId = testCaseIdOf(test, "quarantine add");
    if (!values.reason) throw new UsageError("quarantine add needs --reason");
    const entry = await connect(values).quarantine.add.mutate({
      testCaseId,
      reason: values.reason,
      expiresAt: values.expires,
    });
    print(values, entry, [
      `Quarantined test ${entry.testCaseId} (${entry.title})${entry.expiresAt ? ` until ${new Date(entry.expiresAt).toISOString()}` : ""}`,
    ]);
    return 0;
  }
  if (action === "remove") {
    const testCaseId = testCaseIdOf(test, "quarantine remove");
    const removed = await connect(values).quarantine.remove.mutate({ testCaseId });
    print(values, removed, [
      removed.removed
        ? `Test ${testCaseId} is out of quarantine`
        : `Test ${testCaseId} was not in quarantine`,
    ]);
    return 0;
  }
  throw new UsageError(
    `unknown quarantine command ${action ? `"${action}"` : "(none)"}: use list, add or remove`,
  );
}

async function healthCommand(values: Values, args: string[]): Promise<number> {
  const [action] = args;
  if (action !== "flaky" && action !== "rebuild") {
    throw new UsageError(
      `unknown health command ${action ? `"${action}"` : "(none)"}: use flaky or rebuild`,
    );
  }
  const window = values.window === undefined ? undefined : Number(values.window);
  if (window !== undefined && !(Number.isInteger(window) && window >= 1 && window <= 90)) {
    throw new UsageError("--window must be a number of days from 1 to 90");
  }
  const client = connect(values);
  const projectId = values.project ? await projectIdOf(client, values.project) : undefined;
  if (action === "rebuild") {
    const rebuilt = await client.health.rebuild.mutate({ projectId });
    print(values, rebuilt, [
      `Rebuilt the health of project ${rebuilt.projectId} from ${rebuilt.runs} runs in ${rebuilt.seconds} s`,
    ]);
    return 0;
  }
  const flaky = await allPages<
    Awaited<ReturnType<typeof client.health.flaky.query>>["items"][number],
    string
  >((cursor) => client.health.flaky.query({ projectId, window, cursor, limit: 100 }));
  print(
    values,
    flaky,
    flaky.length === 0
      ? ["no flaky tests"]
      : table(
          ["TEST", "RETRIED", "COMMITS", "FLIP RATE", "QUARANTINED", "TITLE"],
          flaky.map((t) => [
            String(t.testCaseId),
            String(t.flakyRuns),
            String(t.flakyCommits),
            t.flipRate === null ? "-" : t.flipRate.toFixed(2),
            t.quarantined ? "yes" : "no",
            t.title,
          ]),
        ),
  );
  return 0;
}

function printWarnings(warnings: ImportSummary["warnings"]): void {
  for (const file of new Set(warnings.map((warning) => warning.file))) {
    const ofFile = warnings.filter((warning) => warning.file === file);
    for (const { line, message } of ofFile.slice(0, WARNINGS_PER_FILE)) {
      process.stderr.write(`testtrack: ${file}:${line}: warning: ${message}\n`);
    }
    if (ofFile.length > WARNINGS_PER_FILE) {
      process.stderr.write(
        `testtrack: ${file}: ${ofFile.length - WARNINGS_PER_FILE} more warnings\n`,
      );
    }
  }
}

async function retentionCommand(values: Values): Promise<number> {
  if (!values["dry-run"]) {
    throw new UsageError(
      "retention runs inside the server; --dry-run prints what it would delete now",
    );
  }
  const plan = await connect(values).retention.preview.query();
  const lines: string[] = [];
  const { instance } = plan;
  if (instance) {
    lines.push(
      `instance-wide: ${instance.retentionDays} days, before ${new Date(instance.horizon).toISOString()}: ` +
        `${instance.executions} executions, ${instance.steps} steps`,
    );
    lines.push(
      ...(instance.partitions.length === 0
        ? ["  no step partition ends before the horizon"]
        : instance.partitions.map(
            (p) => `  drops ${p.name} (about ${p.estimatedRows} steps, whole partition)`,
          )),
      "",
    );
  }
  lines.push(
    ...(plan.projects.length === 0
      ? ["no project has retentionDays set"]
      : table(
          ["PROJECT", "DAYS", "BEFORE", "EXECUTIONS", "STEPS"],
          plan.projects.map((p) => [
            p.slug,
            String(p.retentionDays),
            new Date(p.horizon).toISOString(),
            String(p.executions),
            String(p.steps),
          ]),
        )),
  );
  if (plan.artifacts.length > 0) {
    lines.push(
      "",
      ...table(
        ["PROJECT", "PASSED DAYS", "FAILED DAYS", "ARTIFACTS", "BYTES"],
        plan.artifacts.map((a) => [
          a.slug,
          a.passedDays === null ? "-" : String(a.passedDays),
          a.failedDays === null ? "-" : String(a.failedDays),
          String(a.artifacts),
          String(a.bytes),
        ]),
      ),
    );
  }
  print(values, plan, lines);
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      project: { type: "string" },
      role: { type: "string" },
      name: { type: "string" },
      expires: { type: "string" },
      environment: { type: "string" },
      browser: { type: "string" },
      trigger: { type: "string" },
      "run-key": { type: "string" },
      shard: { type: "string" },
      status: { type: "string" },
      format: { type: "string" },
      "fail-on": { type: "string" },
      reason: { type: "string" },
      window: { type: "string" },
      all: { type: "boolean" },
      "dry-run": { type: "boolean" },
      attachments: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

process.exitCode = await main(process.argv.slice(2));
