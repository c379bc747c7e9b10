import { parseArgs } from "node:util";
import { type Print, runChecks, type Tally } from "./checks";
import { createVerifyContext, type Target } from "./context";
import { type LocalServer, type ServerExit, startLocalServer } from "./server";

const USAGE = `Usage: pnpm verify [options]

Checks a TestTrack server end to end through the client SDK: the seed's 8 scenarios (login,
test case, start, history, details with steps, filtered list, statistics, delete), then access
control between users, a project shared by a maintainer, a member and a viewer, a run of two
shards with a retry compared with its base run, the step
recorder, lifecycle and input refusals, and API tokens.
Prints one [OK] or [FAIL] line per check and "N passed, N failed"; exits 1 if any check failed.

With no options it starts a server on a fresh embedded database in a temporary folder, checks it,
stops it and removes the folder.

Options:
  --url URL          check an existing deployment instead (e.g. https://testtrack.example.com);
                     everything verify creates there is removed at the end
  --email EMAIL      an admin account to sign in with (with --password)
  --password PASS    (write --password=PASS when PASS starts with "-")
  --token TOKEN      or an admin's API token instead of email and password
  -h, --help         show this help`;

type Command = { kind: "help" } | { kind: "local" } | { kind: "deployment"; target: Target };

class UsageError extends Error {}

function parseCommandLine(args: string[]): Command {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
      token: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { kind: "help" };
  const { url, email, password, token } = values;
  if (!url) {
    if (email || password || token) throw new UsageError("--email, --password, --token need --url");
    return { kind: "local" };
  }
  if (!/^https?:\/\//.test(url) || !URL.canParse(url)) {
    throw new UsageError(`--url must be an http(s) address, not "${url}"`);
  }
  if (token) {
    if (email || password) throw new UsageError("give either --token or --email and --password");
    return { kind: "deployment", target: { url, credentials: { token } } };
  }
  if (!email || !password) throw new UsageError("--url needs --email and --password, or --token");
  return { kind: "deployment", target: { url, credentials: { email, password } } };
}

async function verifyDeployment(target: Target, print: Print): Promise<Tally> {
  print(`Verifying the TestTrack server at ${target.url}`);
  return runChecks(createVerifyContext(target), print);
}

async function verifyLocalServer(print: Print): Promise<Tally> {
  let server: LocalServer;
  try {
    server = await startLocalServer();
  } catch (error) {
    print(`[FAIL] local server: ${error instanceof Error ? error.message : String(error)}`);
    return { passed: 0, failed: 1 };
  }
  print(`Started a TestTrack server at ${server.url} (embedded database in ${server.dataDir})`);
  // Interrupted, verify still stops the server and removes its folder before exiting.
  const stopOnSignal = () => void server.stop().finally(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  let tally: Tally = { passed: 0, failed: 0 };
  try {
    tally = await verifyDeployment({ url: server.url, credentials: server.admin }, print);
  } finally {
    process.off("SIGINT", stopOnSignal);
    process.off("SIGTERM", stopOnSignal);
    tally = reportShutdown(await server.stop(), server, tally, print);
  }
  return tally;
}

function reportShutdown(exit: ServerExit, server: LocalServer, tally: Tally, print: Print): Tally {
  const problems = [
    exit.stoppedBySigterm ? "" : "it did not exit after SIGTERM and was killed",
    exit.code === 0 ? "" : `it exited with code ${exit.code ?? exit.signal}`,
    exit.dataDirRemoved ? "" : `its data folder ${server.dataDir} could not be removed`,
  ].filter(Boolean);
  if (problems.length > 0) {
    print(`[FAIL] server shutdown: ${problems.join("; ")}\n${server.recentOutput()}`);
    return { ...tally, failed: tally.failed + 1 };
  }
  print("[OK] Server stopped on SIGTERM (exit code 0) and its data folder was removed");
  return { ...tally, passed: tally.passed + 1 };
}

async function main(): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (command.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  const print: Print = (line) => console.log(line);
  const tally =
    command.kind === "local"
      ? await verifyLocalServer(print)
      : await verifyDeployment(command.target, print);
  print(`${tally.passed} passed, ${tally.failed} failed`);
  return tally.failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
