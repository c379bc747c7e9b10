#!/usr/bin/env node
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { createTestTrackClient, type TriggeredBy } from "@testtrack/client";
import { type ImportSummary, importJUnitFiles, summaryLine } from "./importer.js";
import { ProgressBar } from "./progress.js";

const USAGE = `Usage: testtrack import <junit.xml>... [options]

Imports JUnit XML reports (Jest, Vitest, pytest, Maven Surefire, go-junit-report, ...) into
TestTrack: each <testcase> becomes an execution of the test case "classname › name".

Options:
  --url <url>            TestTrack server (default: TESTTRACK_URL)
  --token <token>        API token (default: TESTTRACK_TOKEN)
  --environment <name>   environment label for every execution
  --browser <name>       browser label for every execution
  --trigger <kind>       manual | scheduled | ci_cd | webhook (default: ci_cd when CI is set)
  -h, --help             show this help
`;

const TRIGGERS: readonly TriggeredBy[] = ["manual", "scheduled", "ci_cd", "webhook"];

/** Warnings printed per file: a tool that writes one odd value usually writes it in every test. */
const WARNINGS_PER_FILE = 10;

/** Runs the CLI and returns its exit code: 0 all imported, 1 something was not, 2 usage. */
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
  const [command, ...files] = positionals;
  const url = values.url ?? process.env.TESTTRACK_URL;
  const token = values.token ?? process.env.TESTTRACK_TOKEN;
  const trigger = values.trigger as TriggeredBy | undefined;
  const problem =
    command !== "import"
      ? `unknown command ${command ? `"${command}"` : "(none)"}`
      : files.length === 0
        ? "name at least one JUnit XML file"
        : !url || !token
          ? "set --url and --token (or TESTTRACK_URL and TESTTRACK_TOKEN)"
          : trigger && !TRIGGERS.includes(trigger)
            ? `--trigger must be one of ${TRIGGERS.join(", ")}`
            : undefined;
  if (problem || !url || !token) {
    process.stderr.write(`testtrack: ${problem}\n\n${USAGE}`);
    return 2;
  }

  const progress = new ProgressBar(process.stderr);
  const summary = await importJUnitFiles(createTestTrackClient({ url, token }), files, {
    environment: values.environment,
    browser: values.browser,
    triggeredBy: trigger,
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
  return summary.rejected.length > 0 || summary.uploadErrors.length > 0 ? 1 : 0;
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

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      environment: { type: "string" },
      browser: { type: "string" },
      trigger: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

process.exitCode = await main(process.argv.slice(2));
