"""The run (CI build) this process belongs to: the rules of packages/client/src/reporting/ci.ts.

A key shared by every shard and re-run of one build, the re-run's attempt apart, and the branch,
commit, pull request and build link. TESTTRACK_RUN_KEY, TESTTRACK_RUN_ATTEMPT, TESTTRACK_BRANCH
and TESTTRACK_COMMIT win over what is detected; without a CI build the run is local (a fresh
random key, attempt 0).
"""

from __future__ import annotations

import os
import re
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional

Env = Mapping[str, str]

# The longest values run.start takes (packages/core runs.ts).
KEY_MAX = 200
TEXT_MAX = 200
COMMIT_SHA_MAX = 64
COMMIT_MESSAGE_MAX = 10_000
CI_URL_MAX = 500
ATTEMPT_MAX = 1_000


@dataclass
class RunContext:
    provider: Optional[str]
    key: str
    attempt: int
    name: Optional[str] = None
    branch: Optional[str] = None
    commit_sha: Optional[str] = None
    commit_message: Optional[str] = None
    pull_request: Optional[str] = None
    ci_url: Optional[str] = None

    def run_start_input(self, project_id: Optional[int] = None, shard: Optional[tuple] = None,
                        name: Optional[str] = None) -> Dict[str, object]:
        """What POST /runs is sent for this context (as RunJoin sends run.start)."""
        body: Dict[str, object] = {
            "projectId": project_id,
            "key": self.key,
            "name": self.name or name,
            "branch": self.branch,
            "commitSha": self.commit_sha,
            "commitMessage": self.commit_message,
            "pullRequest": self.pull_request,
            "ciProvider": self.provider,
            "ciUrl": self.ci_url,
            "attempt": self.attempt,
        }
        if shard:
            body["shard"], body["expectedShards"] = shard
        return {k: v for k, v in body.items() if v is not None}


def _read(env: Env, name: str) -> Optional[str]:
    value = (env.get(name) or "").strip()
    return value or None


def _tries_before(text: Optional[str], first: int) -> int:
    return max(0, int(text) - first) if text and text.isdigit() else 0


def _ref_name(ref: Optional[str]) -> Optional[str]:
    return re.sub(r"^refs/(heads|tags)/", "", ref) if ref else None


def _github(env: Env) -> Optional[dict]:
    if _read(env, "GITHUB_ACTIONS") != "true":
        return None
    repository = _read(env, "GITHUB_REPOSITORY")
    run_id = _read(env, "GITHUB_RUN_ID")
    server = _read(env, "GITHUB_SERVER_URL") or "https://github.com"
    build = repository and run_id
    pull = re.match(r"^refs/pull/(\d+)/", _read(env, "GITHUB_REF") or "")
    return {
        "provider": "github",
        "key": f"github:{repository}:{run_id}" if build else None,
        "attempt": _tries_before(_read(env, "GITHUB_RUN_ATTEMPT"), 1),
        "name": _read(env, "GITHUB_WORKFLOW"),
        "branch": _read(env, "GITHUB_HEAD_REF") or _read(env, "GITHUB_REF_NAME"),
        "commit_sha": _read(env, "GITHUB_SHA"),
        "pull_request": pull.group(1) if pull else None,
        "ci_url": f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}" if build else None,
    }


def _gitlab(env: Env) -> Optional[dict]:
    if _read(env, "GITLAB_CI") != "true":
        return None
    project = _read(env, "CI_PROJECT_PATH") or _read(env, "CI_PROJECT_ID")
    pipeline = _read(env, "CI_PIPELINE_ID")
    return {
        "provider": "gitlab",
        "key": f"gitlab:{project}:{pipeline}" if project and pipeline else None,
        "attempt": 0,
        "name": _read(env, "CI_PIPELINE_NAME"),
        "branch": _read(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        or _read(env, "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME")
        or _read(env, "CI_COMMIT_REF_NAME"),
        "commit_sha": _read(env, "CI_COMMIT_SHA"),
        "commit_message": _read(env, "CI_COMMIT_MESSAGE"),
        "pull_request": _read(env, "CI_MERGE_REQUEST_IID")
        or _read(env, "CI_EXTERNAL_PULL_REQUEST_IID"),
        "ci_url": _read(env, "CI_PIPELINE_URL"),
    }


def _buildkite(env: Env) -> Optional[dict]:
    if _read(env, "BUILDKITE") != "true":
        return None
    build = _read(env, "BUILDKITE_BUILD_ID")
    pull = _read(env, "BUILDKITE_PULL_REQUEST")
    commit = _read(env, "BUILDKITE_COMMIT")
    return {
        "provider": "buildkite",
        "key": f"buildkite:{build}" if build else None,
        "attempt": _tries_before(_read(env, "BUILDKITE_RETRY_COUNT"), 0),
        "name": _read(env, "BUILDKITE_PIPELINE_NAME") or _read(env, "BUILDKITE_PIPELINE_SLUG"),
        "branch": _read(env, "BUILDKITE_BRANCH"),
        "commit_sha": None if commit == "HEAD" else commit,
        "commit_message": _read(env, "BUILDKITE_MESSAGE"),
        "pull_request": None if pull == "false" else pull,
        "ci_url": _read(env, "BUILDKITE_BUILD_URL"),
    }


def _circleci(env: Env) -> Optional[dict]:
    if _read(env, "CIRCLECI") != "true":
        return None
    workflow = _read(env, "CIRCLE_WORKFLOW_WORKSPACE_ID") or _read(env, "CIRCLE_WORKFLOW_ID")
    pull = re.search(r"/(?:pull|pull-requests|merge_requests)/(\d+)",
                     _read(env, "CIRCLE_PULL_REQUEST") or "")
    return {
        "provider": "circleci",
        "key": f"circleci:{workflow}" if workflow else None,
        "attempt": 0,
        "branch": _read(env, "CIRCLE_BRANCH") or _read(env, "CIRCLE_TAG"),
        "commit_sha": _read(env, "CIRCLE_SHA1"),
        "pull_request": pull.group(1) if pull else _read(env, "CIRCLE_PR_NUMBER"),
        "ci_url": _read(env, "CIRCLE_BUILD_URL"),
    }


def _jenkins(env: Env) -> Optional[dict]:
    home = _read(env, "JENKINS_URL") or _read(env, "JENKINS_HOME")
    number = _read(env, "BUILD_NUMBER")
    if not home or not number:
        return None
    job = _read(env, "JOB_NAME")
    tag = _read(env, "BUILD_TAG") or (f"jenkins-{job.replace('/', '-')}-{number}" if job else None)
    git_branch = _read(env, "GIT_BRANCH")
    return {
        "provider": "jenkins",
        "key": f"jenkins:{tag}" if tag else None,
        "attempt": 0,
        "name": job,
        "branch": _read(env, "CHANGE_BRANCH")
        or _read(env, "BRANCH_NAME")
        or _read(env, "GIT_LOCAL_BRANCH")
        or (re.sub(r"^origin/", "", git_branch) if git_branch else None),
        "commit_sha": _read(env, "GIT_COMMIT"),
        "commit_message": _read(env, "GIT_COMMIT_TITLE"),
        "pull_request": _read(env, "CHANGE_ID"),
        "ci_url": _read(env, "BUILD_URL"),
    }


def _azure(env: Env) -> Optional[dict]:
    if (_read(env, "TF_BUILD") or "").lower() != "true":
        return None
    build = _read(env, "BUILD_BUILDID")
    collection_uri = _read(env, "SYSTEM_COLLECTIONURI")
    project = _read(env, "SYSTEM_TEAMPROJECT")
    collection_id = _read(env, "SYSTEM_COLLECTIONID") or collection_uri
    project_id = _read(env, "SYSTEM_TEAMPROJECTID") or project
    ci_url = None
    if collection_uri and project and build:
        quoted = urllib.parse.quote(project, safe="!'()*-._~")
        ci_url = f"{collection_uri.rstrip('/')}/{quoted}/_build/results?buildId={build}"
    return {
        "provider": "azure",
        "key": f"azure:{collection_id}:{project_id}:{build}"
        if build and collection_id and project_id
        else None,
        "attempt": _tries_before(_read(env, "SYSTEM_JOBATTEMPT"), 1),
        "name": _read(env, "BUILD_DEFINITIONNAME"),
        "branch": _ref_name(
            _read(env, "SYSTEM_PULLREQUEST_SOURCEBRANCH") or _read(env, "BUILD_SOURCEBRANCH")
        ),
        "commit_sha": _read(env, "BUILD_SOURCEVERSION"),
        "commit_message": _read(env, "BUILD_SOURCEVERSIONMESSAGE"),
        "pull_request": _read(env, "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER")
        or _read(env, "SYSTEM_PULLREQUEST_PULLREQUESTID"),
        "ci_url": ci_url,
    }


PROVIDERS: List[Callable[[Env], Optional[dict]]] = [
    _github, _gitlab, _buildkite, _circleci, _jenkins, _azure,
]


def _cut(text: Optional[str], limit: int) -> Optional[str]:
    if text is None or len(text) <= limit:
        return text
    return text[:limit].rstrip()


def _http_url(text: Optional[str]) -> Optional[str]:
    url = _cut(text, CI_URL_MAX)
    if not url:
        return None
    try:
        scheme = urllib.parse.urlsplit(url).scheme
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def detect_run(env: Optional[Env] = None) -> RunContext:
    env = os.environ if env is None else env
    detected = next((found for found in (p(env) for p in PROVIDERS) if found), None) or {}
    key = _read(env, "TESTTRACK_RUN_KEY") or detected.get("key")
    override = _read(env, "TESTTRACK_RUN_ATTEMPT")
    attempt = int(override) if override and override.isdigit() else detected.get("attempt", 0)
    return RunContext(
        provider=detected.get("provider"),
        key=_cut(key, KEY_MAX) or f"local-{secrets.token_hex(8)}",
        # A fresh key starts a run of its own, which has had no earlier try.
        attempt=0 if key is None else min(attempt, ATTEMPT_MAX),
        name=_cut(detected.get("name"), TEXT_MAX),
        branch=_cut(_read(env, "TESTTRACK_BRANCH") or detected.get("branch"), TEXT_MAX),
        commit_sha=_cut(_read(env, "TESTTRACK_COMMIT") or detected.get("commit_sha"),
                        COMMIT_SHA_MAX),
        commit_message=_cut(detected.get("commit_message"), COMMIT_MESSAGE_MAX),
        pull_request=_cut(detected.get("pull_request"), TEXT_MAX),
        ci_url=_http_url(detected.get("ci_url")),
    )
