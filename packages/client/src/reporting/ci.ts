import { randomBytes } from "node:crypto";
import { LIMITS } from "./limits.js";

export type CiProvider = "github" | "gitlab" | "buildkite" | "circleci" | "jenkins" | "azure";

/** Where a test run happens: the CI build it belongs to, or a local run. */
export interface RunContext {
  /** null for a local run */
  provider: CiProvider | null;
  /**
   * Stable across the shards and the re-runs of one build; a local run gets a fresh random key
   * ("local-<hex>"). At most 200 characters.
   */
  key: string;
  /**
   * 0 for the first try of the build or job, 1.. for re-runs the provider numbers (GitHub,
   * Buildkite, Azure); 0 where it numbers none (GitLab, CircleCI, Jenkins). Never negative.
   */
  attempt: number;
  /** The workflow or pipeline name, where the provider has one. */
  name?: string;
  branch?: string;
  commitSha?: string;
  commitMessage?: string;
  /** The pull or merge request's number (or id) as text. */
  pullRequest?: string;
  /** A link to the build. */
  ciUrl?: string;
}

type Env = Record<string, string | undefined>;

/** The longest values `run.start` takes (packages/core runs.ts; test/ci.test.ts pins them). */
const RUN_LIMITS = {
  key: 200,
  text: 200,
  commitSha: 64,
  commitMessage: LIMITS.text,
  ciUrl: 500,
  attempt: 1_000,
} as const;

/** What a provider reads from its environment; no key when its build ids are missing. */
type Detected = Omit<RunContext, "key"> & { key?: string };

/** A variable's value, trimmed; an empty one counts as unset. */
function read(env: Env, name: string): string | undefined {
  const found = env[name]?.trim();
  return found ? found : undefined;
}

/** A count whose first try is `first` (GitHub's and Azure's start at 1), as 0 for the first. */
function triesBefore(text: string | undefined, first: number): number {
  return text && /^\d+$/.test(text) ? Math.max(0, Number(text) - first) : 0;
}

/** "refs/heads/main" → "main", "refs/tags/v1" → "v1"; other names as they are. */
function refName(ref: string | undefined): string | undefined {
  return ref?.replace(/^refs\/(heads|tags)\//, "");
}

// https://docs.github.com/en/actions/reference/workflows-and-actions/variables#default-environment-variables
function github(env: Env): Detected | undefined {
  if (read(env, "GITHUB_ACTIONS") !== "true") return undefined;
  const repository = read(env, "GITHUB_REPOSITORY");
  const runId = read(env, "GITHUB_RUN_ID");
  const server = read(env, "GITHUB_SERVER_URL") ?? "https://github.com";
  const build = repository && runId ? { repository, runId } : undefined;
  return {
    provider: "github",
    // A re-run keeps GITHUB_RUN_ID and counts GITHUB_RUN_ATTEMPT up from 1.
    key: build && `github:${build.repository}:${build.runId}`,
    attempt: triesBefore(read(env, "GITHUB_RUN_ATTEMPT"), 1),
    name: read(env, "GITHUB_WORKFLOW"),
    // GITHUB_HEAD_REF (the source branch) is set for pull_request(_target) events only.
    branch: read(env, "GITHUB_HEAD_REF") ?? read(env, "GITHUB_REF_NAME"),
    commitSha: read(env, "GITHUB_SHA"),
    pullRequest: /^refs\/pull\/(\d+)\//.exec(read(env, "GITHUB_REF") ?? "")?.[1],
    ciUrl: build && `${server.replace(/\/+$/, "")}/${build.repository}/actions/runs/${build.runId}`,
  };
}

// https://docs.gitlab.com/ci/variables/predefined_variables/
function gitlab(env: Env): Detected | undefined {
  if (read(env, "GITLAB_CI") !== "true") return undefined;
  const project = read(env, "CI_PROJECT_PATH") ?? read(env, "CI_PROJECT_ID");
  const pipeline = read(env, "CI_PIPELINE_ID");
  return {
    provider: "gitlab",
    // A retried job is a new CI_JOB_ID in the same pipeline; GitLab numbers no attempt.
    key: project && pipeline ? `gitlab:${project}:${pipeline}` : undefined,
    attempt: 0,
    name: read(env, "CI_PIPELINE_NAME"),
    branch:
      read(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") ??
      read(env, "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME") ??
      read(env, "CI_COMMIT_REF_NAME"),
    commitSha: read(env, "CI_COMMIT_SHA"),
    commitMessage: read(env, "CI_COMMIT_MESSAGE"),
    pullRequest: read(env, "CI_MERGE_REQUEST_IID") ?? read(env, "CI_EXTERNAL_PULL_REQUEST_IID"),
    ciUrl: read(env, "CI_PIPELINE_URL"),
  };
}

// https://buildkite.com/docs/pipelines/configure/environment-variables
function buildkite(env: Env): Detected | undefined {
  if (read(env, "BUILDKITE") !== "true") return undefined;
  const build = read(env, "BUILDKITE_BUILD_ID");
  const pullRequest = read(env, "BUILDKITE_PULL_REQUEST");
  const commit = read(env, "BUILDKITE_COMMIT");
  return {
    provider: "buildkite",
    // A retried job stays in its build; BUILDKITE_RETRY_COUNT counts its retries from 0.
    key: build && `buildkite:${build}`,
    attempt: triesBefore(read(env, "BUILDKITE_RETRY_COUNT"), 0),
    name: read(env, "BUILDKITE_PIPELINE_NAME") ?? read(env, "BUILDKITE_PIPELINE_SLUG"),
    branch: read(env, "BUILDKITE_BRANCH"),
    // A build created by hand may name its commit "HEAD" rather than a SHA.
    commitSha: commit === "HEAD" ? undefined : commit,
    commitMessage: read(env, "BUILDKITE_MESSAGE"),
    pullRequest: pullRequest === "false" ? undefined : pullRequest,
    ciUrl: read(env, "BUILDKITE_BUILD_URL"),
  };
}

// https://circleci.com/docs/reference/variables/#built-in-environment-variables
function circleci(env: Env): Detected | undefined {
  if (read(env, "CIRCLECI") !== "true") return undefined;
  // "Rerun workflow" gives a new CIRCLE_WORKFLOW_ID; the workspace id stays the original's.
  const workflow = read(env, "CIRCLE_WORKFLOW_WORKSPACE_ID") ?? read(env, "CIRCLE_WORKFLOW_ID");
  const pullRequestUrl = read(env, "CIRCLE_PULL_REQUEST") ?? "";
  return {
    provider: "circleci",
    key: workflow && `circleci:${workflow}`,
    attempt: 0,
    branch: read(env, "CIRCLE_BRANCH") ?? read(env, "CIRCLE_TAG"),
    commitSha: read(env, "CIRCLE_SHA1"),
    // GitHub's /pull/<n>, Bitbucket's /pull-requests/<n>, GitLab's /merge_requests/<n>.
    pullRequest:
      /\/(?:pull|pull-requests|merge_requests)\/(\d+)/.exec(pullRequestUrl)?.[1] ??
      read(env, "CIRCLE_PR_NUMBER"),
    ciUrl: read(env, "CIRCLE_BUILD_URL"),
  };
}

// Core: https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#using-environment-variables
// (every instance lists them at ${JENKINS_URL}env-vars.html); CHANGE_*, BRANCH_NAME: Branch API
// plugin (multibranch); GIT_*: https://plugins.jenkins.io/git/#plugin-content-environment-variables
function jenkins(env: Env): Detected | undefined {
  const home = read(env, "JENKINS_URL") ?? read(env, "JENKINS_HOME");
  const number = read(env, "BUILD_NUMBER");
  if (!home || !number) return undefined;
  const job = read(env, "JOB_NAME");
  // BUILD_TAG is "jenkins-${JOB_NAME}-${BUILD_NUMBER}" with the job's slashes made dashes.
  const tag = read(env, "BUILD_TAG") ?? (job && `jenkins-${job.replaceAll("/", "-")}-${number}`);
  return {
    provider: "jenkins",
    key: tag && `jenkins:${tag}`,
    attempt: 0,
    name: job,
    // A pull request's BRANCH_NAME is "PR-<n>"; GIT_BRANCH names the remote's ("origin/main").
    branch:
      read(env, "CHANGE_BRANCH") ??
      read(env, "BRANCH_NAME") ??
      read(env, "GIT_LOCAL_BRANCH") ??
      read(env, "GIT_BRANCH")?.replace(/^origin\//, ""),
    commitSha: read(env, "GIT_COMMIT"),
    commitMessage: read(env, "GIT_COMMIT_TITLE"),
    pullRequest: read(env, "CHANGE_ID"),
    ciUrl: read(env, "BUILD_URL"),
  };
}

// https://learn.microsoft.com/en-us/azure/devops/pipelines/build/variables
function azure(env: Env): Detected | undefined {
  if (read(env, "TF_BUILD")?.toLowerCase() !== "true") return undefined;
  const build = read(env, "BUILD_BUILDID");
  const collectionUri = read(env, "SYSTEM_COLLECTIONURI");
  const project = read(env, "SYSTEM_TEAMPROJECT");
  const collectionId = read(env, "SYSTEM_COLLECTIONID") ?? collectionUri;
  const projectId = read(env, "SYSTEM_TEAMPROJECTID") ?? project;
  return {
    provider: "azure",
    // "Rerun failed jobs" keeps BUILD_BUILDID and counts SYSTEM_JOBATTEMPT up from 1.
    key:
      build && collectionId && projectId
        ? `azure:${collectionId}:${projectId}:${build}`
        : undefined,
    attempt: triesBefore(read(env, "SYSTEM_JOBATTEMPT"), 1),
    name: read(env, "BUILD_DEFINITIONNAME"),
    // For a pull request BUILD_SOURCEBRANCH is "refs/pull/<n>/merge".
    branch: refName(
      read(env, "SYSTEM_PULLREQUEST_SOURCEBRANCH") ?? read(env, "BUILD_SOURCEBRANCH"),
    ),
    commitSha: read(env, "BUILD_SOURCEVERSION"),
    commitMessage: read(env, "BUILD_SOURCEVERSIONMESSAGE"),
    // GitHub pull requests have a number besides their id; Azure Repos ones only the id.
    pullRequest:
      read(env, "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER") ??
      read(env, "SYSTEM_PULLREQUEST_PULLREQUESTID"),
    ciUrl:
      collectionUri && project && build
        ? `${collectionUri.replace(/\/+$/, "")}/${encodeURIComponent(project)}/_build/results?buildId=${build}`
        : undefined,
  };
}

const PROVIDERS = [github, gitlab, buildkite, circleci, jenkins, azure];

/** The first `max` characters of `text` (trimmed again), never splitting a surrogate pair. */
function cut(text: string | undefined, max: number): string | undefined {
  if (text === undefined || text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end).trimEnd();
}

/** An http(s) URL the server takes, or undefined. */
function httpUrl(text: string | undefined): string | undefined {
  const url = cut(text, RUN_LIMITS.ciUrl);
  if (!url) return undefined;
  try {
    const { protocol } = new URL(url);
    return protocol === "http:" || protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The run this process belongs to, from the CI provider's environment: a key shared by every
 * shard (parallel job) and re-run of one build, the re-run's attempt kept apart, and the branch,
 * commit, pull request and build link. `TESTTRACK_RUN_KEY`, `TESTTRACK_RUN_ATTEMPT`,
 * `TESTTRACK_BRANCH` and `TESTTRACK_COMMIT` win over what is detected. Without a CI build or
 * `TESTTRACK_RUN_KEY` the run is local: a fresh random key, attempt 0.
 */
export function detectRun(env: Env = process.env): RunContext {
  const detected = PROVIDERS.map((provider) => provider(env)).find(Boolean);
  const key = read(env, "TESTTRACK_RUN_KEY") ?? detected?.key;
  const attemptOverride = read(env, "TESTTRACK_RUN_ATTEMPT");
  const attempt =
    attemptOverride !== undefined && /^\d+$/.test(attemptOverride)
      ? Number(attemptOverride)
      : (detected?.attempt ?? 0);
  return {
    provider: detected?.provider ?? null,
    key: cut(key, RUN_LIMITS.key) ?? `local-${randomBytes(8).toString("hex")}`,
    // A fresh key starts a run of its own, which has had no earlier try.
    attempt: key === undefined ? 0 : Math.min(attempt, RUN_LIMITS.attempt),
    name: cut(detected?.name, RUN_LIMITS.text),
    branch: cut(read(env, "TESTTRACK_BRANCH") ?? detected?.branch, RUN_LIMITS.text),
    commitSha: cut(read(env, "TESTTRACK_COMMIT") ?? detected?.commitSha, RUN_LIMITS.commitSha),
    commitMessage: cut(detected?.commitMessage, RUN_LIMITS.commitMessage),
    pullRequest: cut(detected?.pullRequest, RUN_LIMITS.text),
    ciUrl: httpUrl(detected?.ciUrl),
  };
}
