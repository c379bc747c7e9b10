import { randomBytes } from "node:crypto";

export type CiProvider = "github" | "gitlab" | "buildkite" | "circleci" | "jenkins" | "azure";

/** Where a test run happens: the CI build it belongs to, or a local run. */
export interface RunContext {
  /** null for a local run */
  provider: CiProvider | null;
  /** Stable across the shards and re-runs of one build; a local run gets a fresh random key. */
  key: string;
  /** 0 for the first try of the build, 1.. for re-runs the provider numbers. */
  attempt: number;
  name?: string;
  branch?: string;
  commitSha?: string;
  commitMessage?: string;
  pullRequest?: string;
  ciUrl?: string;
}

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const found = env[name]?.trim();
  return found ? found : undefined;
}

function cut(text: string | undefined, max: number): string | undefined {
  return text === undefined ? undefined : text.slice(0, max);
}

function httpUrl(text: string | undefined): string | undefined {
  return text && /^https?:\/\//i.test(text) ? text.slice(0, 500) : undefined;
}

function count(text: string | undefined, minus = 0): number {
  const n = Number(text);
  return Number.isSafeInteger(n) ? Math.max(0, n - minus) : 0;
}

type Detected = Omit<RunContext, "key"> & { key?: string };

function github(env: Env): Detected | undefined {
  if (value(env, "GITHUB_ACTIONS") !== "true") return undefined;
  const repository = value(env, "GITHUB_REPOSITORY");
  const runId = value(env, "GITHUB_RUN_ID");
  const server = value(env, "GITHUB_SERVER_URL") ?? "https://github.com";
  const pr = /^refs\/pull\/(\d+)\//.exec(value(env, "GITHUB_REF") ?? "")?.[1];
  return {
    provider: "github",
    key: repository && runId ? `github:${repository}:${runId}` : undefined,
    attempt: count(value(env, "GITHUB_RUN_ATTEMPT"), 1),
    name: value(env, "GITHUB_WORKFLOW"),
    branch: value(env, "GITHUB_HEAD_REF") ?? value(env, "GITHUB_REF_NAME"),
    commitSha: value(env, "GITHUB_SHA"),
    pullRequest: pr,
    ciUrl: repository && runId ? `${server}/${repository}/actions/runs/${runId}` : undefined,
  };
}

function gitlab(env: Env): Detected | undefined {
  if (value(env, "GITLAB_CI") !== "true") return undefined;
  const project = value(env, "CI_PROJECT_PATH") ?? value(env, "CI_PROJECT_ID");
  const pipeline = value(env, "CI_PIPELINE_ID");
  return {
    provider: "gitlab",
    key: project && pipeline ? `gitlab:${project}:${pipeline}` : undefined,
    attempt: 0,
    name: value(env, "CI_PIPELINE_NAME") ?? value(env, "CI_PROJECT_NAME"),
    branch:
      value(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") ??
      value(env, "CI_COMMIT_BRANCH") ??
      value(env, "CI_COMMIT_REF_NAME"),
    commitSha: value(env, "CI_COMMIT_SHA"),
    commitMessage: value(env, "CI_COMMIT_MESSAGE"),
    pullRequest: value(env, "CI_MERGE_REQUEST_IID"),
    ciUrl: value(env, "CI_PIPELINE_URL"),
  };
}

function buildkite(env: Env): Detected | undefined {
  if (value(env, "BUILDKITE") !== "true") return undefined;
  const build = value(env, "BUILDKITE_BUILD_ID");
  const pr = value(env, "BUILDKITE_PULL_REQUEST");
  return {
    provider: "buildkite",
    key: build ? `buildkite:${build}` : undefined,
    attempt: count(value(env, "BUILDKITE_RETRY_COUNT")),
    name: value(env, "BUILDKITE_PIPELINE_SLUG"),
    branch: value(env, "BUILDKITE_BRANCH"),
    commitSha: value(env, "BUILDKITE_COMMIT"),
    commitMessage: value(env, "BUILDKITE_MESSAGE"),
    pullRequest: pr && pr !== "false" ? pr : undefined,
    ciUrl: value(env, "BUILDKITE_BUILD_URL"),
  };
}

function circleci(env: Env): Detected | undefined {
  if (value(env, "CIRCLECI") !== "true") return undefined;
  const workflow = value(env, "CIRCLE_WORKFLOW_ID");
  const pr = /\/pull\/(\d+)/.exec(value(env, "CIRCLE_PULL_REQUEST") ?? "")?.[1];
  return {
    provider: "circleci",
    key: workflow ? `circleci:${workflow}` : undefined,
    attempt: 0,
    name: value(env, "CIRCLE_PROJECT_REPONAME"),
    branch: value(env, "CIRCLE_BRANCH"),
    commitSha: value(env, "CIRCLE_SHA1"),
    pullRequest: pr,
    ciUrl: value(env, "CIRCLE_BUILD_URL"),
  };
}

function jenkins(env: Env): Detected | undefined {
  if (!value(env, "JENKINS_URL") || !value(env, "BUILD_NUMBER")) return undefined;
  const tag =
    value(env, "BUILD_TAG") ??
    `${value(env, "JOB_NAME") ?? "job"}-${value(env, "BUILD_NUMBER") ?? ""}`;
  return {
    provider: "jenkins",
    key: `jenkins:${tag}`,
    attempt: 0,
    name: value(env, "JOB_NAME"),
    branch: value(env, "CHANGE_BRANCH") ?? value(env, "BRANCH_NAME") ?? value(env, "GIT_BRANCH"),
    commitSha: value(env, "GIT_COMMIT"),
    pullRequest: value(env, "CHANGE_ID"),
    ciUrl: value(env, "BUILD_URL"),
  };
}

function azure(env: Env): Detected | undefined {
  if (value(env, "TF_BUILD")?.toLowerCase() !== "true") return undefined;
  const build = value(env, "BUILD_BUILDID");
  const collection = value(env, "SYSTEM_COLLECTIONURI");
  const project = value(env, "SYSTEM_TEAMPROJECT");
  const sourceBranch =
    value(env, "SYSTEM_PULLREQUEST_SOURCEBRANCH") ?? value(env, "BUILD_SOURCEBRANCH");
  return {
    provider: "azure",
    key: build
      ? `azure:${value(env, "SYSTEM_COLLECTIONID") ?? collection ?? ""}:${value(env, "SYSTEM_TEAMPROJECTID") ?? project ?? ""}:${build}`
      : undefined,
    attempt: count(value(env, "SYSTEM_JOBATTEMPT"), 1),
    name: value(env, "BUILD_DEFINITIONNAME"),
    branch: sourceBranch?.replace(/^refs\/heads\//, ""),
    commitSha: value(env, "BUILD_SOURCEVERSION"),
    commitMessage: value(env, "BUILD_SOURCEVERSIONMESSAGE"),
    pullRequest:
      value(env, "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER") ??
      value(env, "SYSTEM_PULLREQUEST_PULLREQUESTID"),
    ciUrl:
      collection && project && build
        ? `${collection.replace(/\/+$/, "")}/${encodeURIComponent(project)}/_build/results?buildId=${build}`
        : undefined,
  };
}

const PROVIDERS = [github, gitlab, buildkite, circleci, jenkins, azure];

/**
 * The run this process belongs to, from the CI provider's environment: a key shared by every
 * shard (parallel job) and re-run of one build, the re-run attempt kept apart, and branch,
 * commit, pull request and build URL. `TESTTRACK_RUN_KEY`, `TESTTRACK_RUN_ATTEMPT`,
 * `TESTTRACK_BRANCH` and `TESTTRACK_COMMIT` override what is detected; a local run gets a
 * fresh key.
 */
export function detectRun(env: Env = process.env): RunContext {
  const detected = PROVIDERS.map((provider) => provider(env)).find(Boolean);
  const overrideAttempt = value(env, "TESTTRACK_RUN_ATTEMPT");
  const key =
    value(env, "TESTTRACK_RUN_KEY") ?? detected?.key ?? `local-${randomBytes(8).toString("hex")}`;
  return {
    provider: detected?.provider ?? null,
    key: key.slice(0, 200),
    attempt: overrideAttempt !== undefined ? count(overrideAttempt) : (detected?.attempt ?? 0),
    name: cut(detected?.name, 200),
    branch: cut(value(env, "TESTTRACK_BRANCH") ?? detected?.branch, 200),
    commitSha: cut(value(env, "TESTTRACK_COMMIT") ?? detected?.commitSha, 64),
    commitMessage: cut(detected?.commitMessage, 10_000),
    pullRequest: cut(detected?.pullRequest, 200),
    ciUrl: httpUrl(detected?.ciUrl),
  };
}
