import { attemptNumber, LIMITS as serverLimits, startRunInput } from "@testtrack/core";
import { describe, expect, it } from "vitest";
import { detectRun, type RunContext } from "../src/reporting/index";

const SHA = "ffac537e6cbbf934b08745a378932722df287a53";

/** What `RunJoin` sends to `run.start`, as the server would parse it. */
function serverTakes(run: RunContext) {
  return startRunInput.safeParse({
    key: run.key,
    name: run.name,
    branch: run.branch,
    commitSha: run.commitSha,
    commitMessage: run.commitMessage,
    pullRequest: run.pullRequest,
    ciProvider: run.provider ?? undefined,
    ciUrl: run.ciUrl,
    attempt: run.attempt,
  }).success;
}

describe("GitHub Actions", () => {
  const push = {
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: "push",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_REPOSITORY: "acme/web",
    GITHUB_RUN_ID: "1658821493",
    GITHUB_RUN_NUMBER: "87",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_WORKFLOW: "CI",
    GITHUB_JOB: "test",
    GITHUB_REF: "refs/heads/main",
    GITHUB_REF_NAME: "main",
    GITHUB_HEAD_REF: "",
    GITHUB_BASE_REF: "",
    GITHUB_SHA: SHA,
  };

  it("keys a push build by repository and run id and links the workflow run", () => {
    const run = detectRun(push);
    expect(run).toEqual({
      provider: "github",
      key: "github:acme/web:1658821493",
      attempt: 0,
      name: "CI",
      branch: "main",
      commitSha: SHA,
      commitMessage: undefined,
      pullRequest: undefined,
      ciUrl: "https://github.com/acme/web/actions/runs/1658821493",
    });
    expect(serverTakes(run)).toBe(true);
  });

  it("takes a pull request's source branch and number from GITHUB_HEAD_REF and GITHUB_REF", () => {
    const run = detectRun({
      ...push,
      GITHUB_EVENT_NAME: "pull_request",
      GITHUB_SERVER_URL: "https://github.acme.dev/",
      GITHUB_REF: "refs/pull/42/merge",
      GITHUB_REF_NAME: "42/merge",
      GITHUB_HEAD_REF: "feature/login",
      GITHUB_BASE_REF: "main",
    });
    expect(run).toEqual({
      provider: "github",
      key: "github:acme/web:1658821493",
      attempt: 0,
      name: "CI",
      branch: "feature/login",
      commitSha: SHA,
      commitMessage: undefined,
      pullRequest: "42",
      ciUrl: "https://github.acme.dev/acme/web/actions/runs/1658821493",
    });
  });

  it("gives every matrix job and every re-run the same key, the re-run its attempt", () => {
    const shards = ["1", "2"].map((shard) =>
      detectRun({ ...push, GITHUB_JOB: `test-${shard}`, RUNNER_NAME: `runner ${shard}` }),
    );
    const rerun = detectRun({ ...push, GITHUB_RUN_ATTEMPT: "3" });
    expect(shards.map((run) => run.key)).toEqual([
      "github:acme/web:1658821493",
      "github:acme/web:1658821493",
    ]);
    expect(rerun).toMatchObject({ key: "github:acme/web:1658821493", attempt: 2 });
  });
});

describe("GitLab CI", () => {
  const branchPipeline = {
    CI: "true",
    GITLAB_CI: "true",
    CI_SERVER_URL: "https://gitlab.com",
    CI_PROJECT_ID: "278964",
    CI_PROJECT_PATH: "acme/web",
    CI_PROJECT_NAME: "web",
    CI_PIPELINE_ID: "1234567890",
    CI_PIPELINE_IID: "321",
    CI_PIPELINE_SOURCE: "push",
    CI_PIPELINE_NAME: "Nightly tests",
    CI_PIPELINE_URL: "https://gitlab.com/acme/web/-/pipelines/1234567890",
    CI_JOB_ID: "9876543210",
    CI_JOB_NAME: "test 1/4",
    CI_NODE_INDEX: "1",
    CI_NODE_TOTAL: "4",
    CI_COMMIT_REF_NAME: "main",
    CI_COMMIT_BRANCH: "main",
    CI_COMMIT_SHA: SHA,
    CI_COMMIT_MESSAGE: "Fix the login redirect\n\nCloses #12\n",
  };

  it("keys a branch pipeline by project path and pipeline id", () => {
    const run = detectRun(branchPipeline);
    expect(run).toEqual({
      provider: "gitlab",
      key: "gitlab:acme/web:1234567890",
      attempt: 0,
      name: "Nightly tests",
      branch: "main",
      commitSha: SHA,
      commitMessage: "Fix the login redirect\n\nCloses #12",
      pullRequest: undefined,
      ciUrl: "https://gitlab.com/acme/web/-/pipelines/1234567890",
    });
    expect(serverTakes(run)).toBe(true);
  });

  it("takes a merge request pipeline's source branch and the IID its URL shows", () => {
    const { CI_COMMIT_BRANCH: _, CI_PIPELINE_NAME: __, ...common } = branchPipeline;
    const run = detectRun({
      ...common,
      CI_PIPELINE_SOURCE: "merge_request_event",
      CI_COMMIT_REF_NAME: "feature/login",
      CI_MERGE_REQUEST_ID: "88877766",
      CI_MERGE_REQUEST_IID: "17",
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: "feature/login",
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: "main",
    });
    expect(run).toEqual({
      provider: "gitlab",
      key: "gitlab:acme/web:1234567890",
      attempt: 0,
      name: undefined,
      branch: "feature/login",
      commitSha: SHA,
      commitMessage: "Fix the login redirect\n\nCloses #12",
      pullRequest: "17",
      ciUrl: "https://gitlab.com/acme/web/-/pipelines/1234567890",
    });
  });

  it("keeps a retried job (a new job id) in its pipeline's run", () => {
    const retried = detectRun({ ...branchPipeline, CI_JOB_ID: "9876543299" });
    expect(retried).toMatchObject({ key: "gitlab:acme/web:1234567890", attempt: 0 });
  });
});

describe("Buildkite", () => {
  const build = {
    CI: "true",
    BUILDKITE: "true",
    BUILDKITE_BUILD_ID: "4735ba57-80d0-46e2-8fa0-b28223a86586",
    BUILDKITE_BUILD_NUMBER: "1514",
    BUILDKITE_BUILD_URL: "https://buildkite.com/acme-inc/web/builds/1514",
    BUILDKITE_JOB_ID: "e44f9784-e20e-4b93-a21d-f41fd5869db9",
    BUILDKITE_PARALLEL_JOB: "0",
    BUILDKITE_PARALLEL_JOB_COUNT: "4",
    BUILDKITE_RETRY_COUNT: "0",
    BUILDKITE_PIPELINE_NAME: "Web",
    BUILDKITE_PIPELINE_SLUG: "web",
    BUILDKITE_BRANCH: "main",
    BUILDKITE_COMMIT: SHA,
    BUILDKITE_MESSAGE: "Fix the login redirect",
    BUILDKITE_PULL_REQUEST: "false",
    BUILDKITE_PULL_REQUEST_BASE_BRANCH: "",
  };

  it("keys a build by its UUID and reads no pull request from 'false'", () => {
    const run = detectRun(build);
    expect(run).toEqual({
      provider: "buildkite",
      key: "buildkite:4735ba57-80d0-46e2-8fa0-b28223a86586",
      attempt: 0,
      name: "Web",
      branch: "main",
      commitSha: SHA,
      commitMessage: "Fix the login redirect",
      pullRequest: undefined,
      ciUrl: "https://buildkite.com/acme-inc/web/builds/1514",
    });
    expect(serverTakes(run)).toBe(true);
  });

  it("reads a pull request build's number", () => {
    const run = detectRun({
      ...build,
      BUILDKITE_BRANCH: "feature/login",
      BUILDKITE_PULL_REQUEST: "123",
      BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main",
    });
    expect(run).toEqual({
      provider: "buildkite",
      key: "buildkite:4735ba57-80d0-46e2-8fa0-b28223a86586",
      attempt: 0,
      name: "Web",
      branch: "feature/login",
      commitSha: SHA,
      commitMessage: "Fix the login redirect",
      pullRequest: "123",
      ciUrl: "https://buildkite.com/acme-inc/web/builds/1514",
    });
  });

  it("keeps a retried job in its build with the retry count as attempt", () => {
    const retried = detectRun({
      ...build,
      BUILDKITE_JOB_ID: "0183c5d4-0000-4000-8000-000000000002",
      BUILDKITE_RETRY_COUNT: "2",
    });
    expect(retried).toMatchObject({
      key: "buildkite:4735ba57-80d0-46e2-8fa0-b28223a86586",
      attempt: 2,
    });
  });

  it("records no commit for a build created by hand on HEAD", () => {
    expect(detectRun({ ...build, BUILDKITE_COMMIT: "HEAD" }).commitSha).toBeUndefined();
  });
});

describe("CircleCI", () => {
  const workflow = {
    CI: "true",
    CIRCLECI: "true",
    CIRCLE_WORKFLOW_ID: "5034460f-c7c4-4c43-9457-de07e2029e7b",
    CIRCLE_WORKFLOW_WORKSPACE_ID: "5034460f-c7c4-4c43-9457-de07e2029e7b",
    CIRCLE_WORKFLOW_JOB_ID: "b2c1ff8c-4c7c-4e1d-9a4f-2b0f1d0c0a01",
    CIRCLE_JOB: "test",
    CIRCLE_NODE_INDEX: "0",
    CIRCLE_NODE_TOTAL: "4",
    CIRCLE_BUILD_NUM: "2468",
    CIRCLE_BUILD_URL: "https://circleci.com/gh/acme/web/2468",
    CIRCLE_PROJECT_USERNAME: "acme",
    CIRCLE_PROJECT_REPONAME: "web",
    CIRCLE_BRANCH: "main",
    CIRCLE_SHA1: SHA,
  };

  it("keys a workflow by the id its jobs share", () => {
    const run = detectRun(workflow);
    expect(run).toEqual({
      provider: "circleci",
      key: "circleci:5034460f-c7c4-4c43-9457-de07e2029e7b",
      attempt: 0,
      name: undefined,
      branch: "main",
      commitSha: SHA,
      commitMessage: undefined,
      pullRequest: undefined,
      ciUrl: "https://circleci.com/gh/acme/web/2468",
    });
    expect(serverTakes(run)).toBe(true);
  });

  it("reads a pull request's number from its URL, or a fork's CIRCLE_PR_NUMBER", () => {
    const pullRequest = {
      ...workflow,
      CIRCLE_BRANCH: "feature/login",
      CIRCLE_PULL_REQUEST: "https://github.com/acme/web/pull/42",
      CIRCLE_PULL_REQUESTS: "https://github.com/acme/web/pull/42",
    };
    expect(detectRun(pullRequest)).toEqual({
      provider: "circleci",
      key: "circleci:5034460f-c7c4-4c43-9457-de07e2029e7b",
      attempt: 0,
      name: undefined,
      branch: "feature/login",
      commitSha: SHA,
      commitMessage: undefined,
      pullRequest: "42",
      ciUrl: "https://circleci.com/gh/acme/web/2468",
    });
    const bitbucket = "https://bitbucket.org/acme/web/pull-requests/7";
    expect(detectRun({ ...workflow, CIRCLE_PULL_REQUEST: bitbucket }).pullRequest).toBe("7");
    expect(detectRun({ ...workflow, CIRCLE_PR_NUMBER: "43" }).pullRequest).toBe("43");
  });

  it("keeps a re-run workflow (a new workflow id) in the original's run", () => {
    const rerun = detectRun({
      ...workflow,
      CIRCLE_WORKFLOW_ID: "9d1e3c2a-7f4b-4a8e-b6c5-0e2d4f6a8b1c",
    });
    expect(rerun).toMatchObject({
      key: "circleci:5034460f-c7c4-4c43-9457-de07e2029e7b",
      attempt: 0,
    });
  });
});

describe("Jenkins", () => {
  const branchBuild = {
    CI: "true",
    JENKINS_URL: "https://ci.acme.dev/",
    JENKINS_HOME: "/var/jenkins_home",
    JOB_NAME: "web/main",
    JOB_BASE_NAME: "main",
    BUILD_NUMBER: "153",
    BUILD_ID: "153",
    BUILD_TAG: "jenkins-web-main-153",
    BUILD_URL: "https://ci.acme.dev/job/web/job/main/153/",
    BRANCH_NAME: "main",
    GIT_BRANCH: "main",
    GIT_COMMIT: SHA,
    GIT_COMMIT_TITLE: "Fix the login redirect",
  };

  it("keys a multibranch build by BUILD_TAG", () => {
    const run = detectRun(branchBuild);
    expect(run).toEqual({
      provider: "jenkins",
      key: "jenkins:jenkins-web-main-153",
      attempt: 0,
      name: "web/main",
      branch: "main",
      commitSha: SHA,
      commitMessage: "Fix the login redirect",
      pullRequest: undefined,
      ciUrl: "https://ci.acme.dev/job/web/job/main/153/",
    });
    expect(serverTakes(run)).toBe(true);
  });

  it("takes a pull request's source branch from CHANGE_BRANCH, not BRANCH_NAME's PR-<n>", () => {
    const run = detectRun({
      ...branchBuild,
      JOB_NAME: "web/PR-42",
      JOB_BASE_NAME: "PR-42",
      BUILD_NUMBER: "3",
      BUILD_ID: "3",
      BUILD_TAG: "jenkins-web-PR-42-3",
      BUILD_URL: "https://ci.acme.dev/job/web/job/PR-42/3/",
      BRANCH_NAME: "PR-42",
      GIT_BRANCH: "PR-42",
      CHANGE_ID: "42",
      CHANGE_BRANCH: "feature/login",
      CHANGE_TARGET: "main",
      CHANGE_URL: "https://github.com/acme/web/pull/42",
    });
    expect(run).toEqual({
      provider: "jenkins",
      key: "jenkins:jenkins-web-PR-42-3",
      attempt: 0,
      name: "web/PR-42",
      branch: "feature/login",
      commitSha: SHA,
      commitMessage: "Fix the login redirect",
      pullRequest: "42",
      ciUrl: "https://ci.acme.dev/job/web/job/PR-42/3/",
    });
  });

  it("builds BUILD_TAG's key itself and strips the remote from GIT_BRANCH", () => {
    const freestyle = detectRun({
      JENKINS_HOME: "/var/jenkins_home",
      JOB_NAME: "folder/web",
      BUILD_NUMBER: "7",
      GIT_BRANCH: "origin/release/2.x",
      GIT_COMMIT: SHA,
    });
    expect(freestyle).toEqual({
      provider: "jenkins",
      key: "jenkins:jenkins-folder-web-7",
      attempt: 0,
      name: "folder/web",
      branch: "release/2.x",
      commitSha: SHA,
      commitMessage: undefined,
      pullRequest: undefined,
      ciUrl: undefined,
    });
  });
});

describe("Azure Pipelines", () => {
  const build = {
    TF_BUILD: "True",
    AGENT_JOBNAME: "Test 1",
    BUILD_BUILDID: "1430",
    BUILD_BUILDNUMBER: "20240131.3",
    BUILD_DEFINITIONNAME: "web-ci",
    BUILD_REASON: "IndividualCI",
    SYSTEM_COLLECTIONID: "e8fb4c4b-5fb2-4e7c-9c33-0c7d4ae2c0b1",
    SYSTEM_COLLECTIONURI: "https://dev.azure.com/fabrikamfiber/",
    SYSTEM_TEAMPROJECT: "Fabrikam Web",
    SYSTEM_TEAMPROJECTID: "7c3f2a9e-1b4d-4e8a-9f6c-2d5b8a0e4c71",
    SYSTEM_JOBATTEMPT: "1",
    BUILD_SOURCEBRANCH: "refs/heads/main",
    BUILD_SOURCEBRANCHNAME: "main",
    BUILD_SOURCEVERSION: SHA,
    BUILD_SOURCEVERSIONMESSAGE: "Fix the login redirect",
  };
  const key =
    "azure:e8fb4c4b-5fb2-4e7c-9c33-0c7d4ae2c0b1:7c3f2a9e-1b4d-4e8a-9f6c-2d5b8a0e4c71:1430";
  const ciUrl = "https://dev.azure.com/fabrikamfiber/Fabrikam%20Web/_build/results?buildId=1430";

  it("keys a build by organization, project and build id and links its results", () => {
    const run = detectRun(build);
    expect(run).toEqual({
      provider: "azure",
      key,
      attempt: 0,
      name: "web-ci",
      branch: "main",
      commitSha: SHA,
      commitMessage: "Fix the login redirect",
      pullRequest: undefined,
      ciUrl,
    });
    expect(serverTakes(run)).toBe(true);
  });

  it("takes a pull request's source branch, and a GitHub pull request's number over its id", () => {
    const pullRequest = {
      ...build,
      BUILD_REASON: "PullRequest",
      BUILD_SOURCEBRANCH: "refs/pull/17/merge",
      BUILD_SOURCEBRANCHNAME: "merge",
      SYSTEM_PULLREQUEST_SOURCEBRANCH: "refs/heads/users/raisa/new-feature",
      SYSTEM_PULLREQUEST_TARGETBRANCH: "refs/heads/main",
      SYSTEM_PULLREQUEST_PULLREQUESTID: "17",
    };
    expect(detectRun(pullRequest)).toEqual({
      provider: "azure",
      key,
      attempt: 0,
      name: "web-ci",
      branch: "users/raisa/new-feature",
      commitSha: SHA,
      commitMessage: "Fix the login redirect",
      pullRequest: "17",
      ciUrl,
    });
    const github = {
      ...pullRequest,
      SYSTEM_PULLREQUEST_PULLREQUESTID: "1502788334",
      SYSTEM_PULLREQUEST_PULLREQUESTNUMBER: "524",
    };
    expect(detectRun(github).pullRequest).toBe("524");
  });

  it("keeps a re-run job in its build with SYSTEM_JOBATTEMPT - 1 as attempt", () => {
    expect(detectRun({ ...build, AGENT_JOBNAME: "Test 2", SYSTEM_JOBATTEMPT: "2" })).toMatchObject({
      key,
      attempt: 1,
    });
  });
});

describe("overrides", () => {
  const github = {
    GITHUB_ACTIONS: "true",
    GITHUB_REPOSITORY: "acme/web",
    GITHUB_RUN_ID: "1658821493",
    GITHUB_RUN_ATTEMPT: "2",
    GITHUB_REF_NAME: "main",
    GITHUB_SHA: SHA,
  };

  it("lets TESTTRACK_RUN_KEY, _BRANCH and _COMMIT win, keeping the detected attempt", () => {
    const run = detectRun({
      ...github,
      TESTTRACK_RUN_KEY: "  nightly-2024-01-31 \n",
      TESTTRACK_BRANCH: "release/2.x",
      TESTTRACK_COMMIT: "0123456789abcdef0123456789abcdef01234567",
    });
    expect(run).toMatchObject({
      provider: "github",
      key: "nightly-2024-01-31",
      attempt: 1,
      branch: "release/2.x",
      commitSha: "0123456789abcdef0123456789abcdef01234567",
      ciUrl: "https://github.com/acme/web/actions/runs/1658821493",
    });
  });

  it("takes TESTTRACK_RUN_ATTEMPT only as a non-negative integer", () => {
    const attempt = (value: string) => detectRun({ ...github, TESTTRACK_RUN_ATTEMPT: value });
    expect(attempt("4").attempt).toBe(4);
    expect(attempt(" 0 ").attempt).toBe(0);
    expect(["-1", "1.5", "two", "0x10", "1e3"].map((value) => attempt(value).attempt)).toEqual([
      1, 1, 1, 1, 1,
    ]);
  });

  it("names a run outside CI by TESTTRACK_RUN_KEY with its attempt", () => {
    expect(detectRun({ TESTTRACK_RUN_KEY: "build-7", TESTTRACK_RUN_ATTEMPT: "2" })).toEqual({
      provider: null,
      key: "build-7",
      attempt: 2,
      name: undefined,
      branch: undefined,
      commitSha: undefined,
      commitMessage: undefined,
      pullRequest: undefined,
      ciUrl: undefined,
    });
  });
});

describe("a local run", () => {
  it("gets a fresh random key on every call and attempt 0", () => {
    const first = detectRun({ TESTTRACK_RUN_ATTEMPT: "3" });
    const second = detectRun({});
    expect(first).toEqual({
      provider: null,
      key: expect.stringMatching(/^local-[0-9a-f]{16}$/),
      attempt: 0,
      name: undefined,
      branch: undefined,
      commitSha: undefined,
      commitMessage: undefined,
      pullRequest: undefined,
      ciUrl: undefined,
    });
    expect(second.key).toMatch(/^local-[0-9a-f]{16}$/);
    expect(second.key).not.toBe(first.key);
    expect(serverTakes(first)).toBe(true);
  });

  it("takes its branch and commit from TESTTRACK_BRANCH and TESTTRACK_COMMIT", () => {
    expect(detectRun({ TESTTRACK_BRANCH: "wip", TESTTRACK_COMMIT: SHA })).toMatchObject({
      provider: null,
      branch: "wip",
      commitSha: SHA,
    });
  });
});

describe("values the server would refuse", () => {
  it("cuts long values to exactly the lengths the server takes", () => {
    const long = (length: number, letter = "a") => letter.repeat(length);
    const github = detectRun({
      GITHUB_ACTIONS: "true",
      GITHUB_REPOSITORY: `acme/${long(600)}`,
      GITHUB_RUN_ID: "1658821493",
      GITHUB_WORKFLOW: long(300, "w"),
      GITHUB_REF_NAME: long(300, "b"),
      GITHUB_SHA: long(100, "f"),
    });
    expect(github.key).toBe(`github:acme/${long(600)}`.slice(0, serverLimits.runKey));
    expect(github.name).toHaveLength(serverLimits.name);
    expect(github.branch).toHaveLength(serverLimits.name);
    expect(github.commitSha).toHaveLength(64);
    expect(github.ciUrl).toHaveLength(serverLimits.url);
    expect(github.ciUrl).toMatch(/^https:\/\/github\.com\/acme\/a+$/);
    expect(serverTakes(github)).toBe(true);

    const gitlab = detectRun({
      GITLAB_CI: "true",
      CI_PROJECT_PATH: "acme/web",
      CI_PIPELINE_ID: "1234567890",
      CI_COMMIT_MESSAGE: long(20_000, "m"),
      CI_MERGE_REQUEST_IID: long(300, "7"),
    });
    expect(gitlab.commitMessage).toHaveLength(serverLimits.text);
    expect(gitlab.pullRequest).toHaveLength(serverLimits.name);
    expect(serverTakes(gitlab)).toBe(true);
  });

  it("never cuts a character in half, nor leaves a space at the end", () => {
    const branch = `${"b".repeat(serverLimits.name - 1)}😀tail`;
    expect(detectRun({ TESTTRACK_BRANCH: branch }).branch).toBe("b".repeat(serverLimits.name - 1));
    const spaced = `${"k".repeat(serverLimits.runKey - 1)} more`;
    expect(detectRun({ TESTTRACK_RUN_KEY: spaced }).key).toBe("k".repeat(serverLimits.runKey - 1));
  });

  it("caps the attempt at the server's largest", () => {
    const run = detectRun({ TESTTRACK_RUN_KEY: "build-7", TESTTRACK_RUN_ATTEMPT: "5000" });
    expect(run.attempt).toBe(1_000);
    expect(attemptNumber.safeParse(run.attempt).success).toBe(true);
    expect(attemptNumber.safeParse(run.attempt + 1).success).toBe(false);
  });

  it("keeps a build link only when it is an http(s) URL", () => {
    const buildkite = (url: string) =>
      detectRun({ BUILDKITE: "true", BUILDKITE_BUILD_ID: "b1", BUILDKITE_BUILD_URL: url }).ciUrl;
    expect(buildkite("http://buildkite.internal/acme/web/builds/1")).toBe(
      "http://buildkite.internal/acme/web/builds/1",
    );
    expect(buildkite("ftp://buildkite.internal/builds/1")).toBeUndefined();
    expect(buildkite("javascript:alert(1)")).toBeUndefined();
    expect(buildkite("not a url")).toBeUndefined();
  });
});

describe("empty variables", () => {
  it("count as unset, for detection, every field and the overrides", () => {
    expect(detectRun({ GITHUB_ACTIONS: "", GITLAB_CI: " ", BUILDKITE: "" }).provider).toBeNull();
    const run = detectRun({
      BUILDKITE: "true",
      BUILDKITE_BUILD_ID: "4735ba57-80d0-46e2-8fa0-b28223a86586",
      BUILDKITE_RETRY_COUNT: "",
      BUILDKITE_PIPELINE_NAME: "  ",
      BUILDKITE_PIPELINE_SLUG: "web",
      BUILDKITE_BRANCH: "main",
      BUILDKITE_COMMIT: SHA,
      BUILDKITE_MESSAGE: "",
      BUILDKITE_PULL_REQUEST: "",
      BUILDKITE_BUILD_URL: "",
      TESTTRACK_RUN_KEY: "",
      TESTTRACK_RUN_ATTEMPT: " ",
      TESTTRACK_BRANCH: "\n",
      TESTTRACK_COMMIT: "",
    });
    expect(run).toEqual({
      provider: "buildkite",
      key: "buildkite:4735ba57-80d0-46e2-8fa0-b28223a86586",
      attempt: 0,
      name: "web",
      branch: "main",
      commitSha: SHA,
      commitMessage: undefined,
      pullRequest: undefined,
      ciUrl: undefined,
    });
  });
});
