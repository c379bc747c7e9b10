"""The pytest plugin: records every test of the session in TestTrack, in the run of its CI build.

Enabled by ``--testtrack-url`` (or TESTTRACK_URL) with ``--testtrack-token`` (or TESTTRACK_TOKEN).
Each test is a test case found or created by its node id; each try of it (pytest-rerunfailures'
reruns too) is an execution with its outcome, duration, error and captured output. Results go up
in batches; when the server cannot be reached, the session goes on as if the plugin were not
there and says so once.

A test attaches files to its execution with the ``testtrack_attach`` fixture; they are uploaded
as artifacts once the execution is recorded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, List, Optional

import pytest

from .ci import RunContext, detect_run
from .client import ARTIFACT_KINDS, TestTrackClient, TestTrackError, TestTrackUnavailable

# As the JavaScript reporters count: a CI re-run's tries come after the 100 of the run it repeats.
TRIES_PER_CI_ATTEMPT = 100
BATCH_SIZE = 50
ENSURE_MAX = 500
KEY_MAX = 1_000
TITLE_MAX = 500
MESSAGE_MAX = 65_536
CONSOLE_LOG_MAX = 1_048_576


def pytest_addoption(parser):
    group = parser.getgroup("testtrack", "record results in TestTrack")
    group.addoption("--testtrack-url", default=None,
                    help="TestTrack server, e.g. http://127.0.0.1:3000 (or TESTTRACK_URL)")
    group.addoption("--testtrack-token", default=None,
                    help="API token (or TESTTRACK_TOKEN)")
    group.addoption("--testtrack-project", default=None, type=int,
                    help="project id (or TESTTRACK_PROJECT; default: the token's)")


ATTACHMENTS = pytest.StashKey[list]()


@pytest.fixture
def testtrack_attach(request):
    """Attaches a file to this test's execution in TestTrack, as an artifact.

    ``testtrack_attach(path, name=None, kind=None, content_type=None)``: ``name`` defaults to
    the file's name, ``content_type`` to one guessed from the name, ``kind`` (screenshot, video,
    trace, log, other) to one following from the content type. The file is uploaded after the
    test's execution is recorded (results go up in batches: keep it until the session ends); a
    file that cannot be uploaded is reported in the summary and never fails the test. Without a
    TestTrack server configured, attaching does nothing.
    """
    attachments = request.node.stash.setdefault(ATTACHMENTS, [])

    def attach(path, name: Optional[str] = None, kind: Optional[str] = None,
               content_type: Optional[str] = None) -> None:
        if kind is not None and kind not in ARTIFACT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(ARTIFACT_KINDS)}, not {kind!r}")
        attachments.append({
            "path": os.path.abspath(os.fspath(path)),
            "name": name,
            "kind": kind,
            "content_type": content_type,
        })

    return attach


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Each phase's report carries what the test attached during it; as a plain attribute it
    # travels with the report from pytest-xdist's workers to the controller that records it.
    outcome = yield
    attached = item.stash.get(ATTACHMENTS, None)
    if attached:
        outcome.get_result().testtrack_attachments = list(attached)
        attached.clear()


def pytest_configure(config):
    # pytest-xdist workers send their reports to the controller, which records them.
    if hasattr(config, "workerinput"):
        return
    url = config.getoption("testtrack_url") or os.environ.get("TESTTRACK_URL")
    if not url:
        return
    token = config.getoption("testtrack_token") or os.environ.get("TESTTRACK_TOKEN")
    project = config.getoption("testtrack_project") or _int(os.environ.get("TESTTRACK_PROJECT"))
    recorder = Recorder(TestTrackClient(url, token), detect_run(), project, _shard())
    config.pluginmanager.register(TestTrackPlugin(recorder), "testtrack-recorder")


@dataclass
class Try:
    """One try of one test: what an execution records."""

    nodeid: str
    index: int
    result: str
    duration: float
    started: Optional[float]
    stopped: Optional[float]
    error: Optional[str]
    output: Optional[str]
    attachments: List[dict] = field(default_factory=list)


class Recorder:
    """Joins the run, ensures test cases by node id and records tries, a batch at a time."""

    def __init__(self, client: TestTrackClient, context: RunContext,
                 project_id: Optional[int] = None, shard: Optional[tuple] = None):
        self.client = client
        self.context = context
        self.project_id = project_id
        self.shard = shard
        self.pending: List[Try] = []
        self.test_case_ids: Dict[str, int] = {}
        self.run_id: Optional[int] = None
        self.joined = False
        self.recorded = 0
        self.uploaded = 0
        self.unavailable: Optional[str] = None
        self.refusals: List[str] = []
        # Keys (node ids) of the project's quarantined tests, read once the run is joined.
        self.quarantined: set = set()

    def add(self, attempt: Try) -> None:
        self.pending.append(attempt)
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if self.unavailable or not batch:
            return
        try:
            self._join()
            self._ensure(batch)
            for attempt in batch:
                try:
                    self._record(attempt)
                except TestTrackError as error:
                    if error.status in (401, 403):
                        raise
                    self.refusals.append(f"{attempt.nodeid}: {error}")
        except TestTrackUnavailable as error:
            self.unavailable = str(error)
        except TestTrackError as error:
            if error.status in (401, 403):
                self.unavailable = f"TestTrack refused the token ({error.message})"
            else:
                self.refusals.append(str(error))

    def finish(self) -> None:
        self.flush()
        if self.unavailable or self.run_id is None:
            return
        try:
            if self.shard:
                self.client.finish_shard(self.run_id, self.shard[0])
            else:
                self.client.finish_run(self.run_id)
        except TestTrackUnavailable as error:
            self.unavailable = str(error)
        except TestTrackError as error:
            self.refusals.append(f"could not finish run {self.context.key}: {error}")

    def _join(self) -> None:
        if self.joined:
            return
        self.joined = True
        try:
            run = self.client.start_run(
                **self.context.run_start_input(self.project_id, self.shard, name="pytest")
            )
            self.run_id = run["id"]
            self.project_id = self.project_id or run.get("projectId")
        except TestTrackError as error:
            self.refusals.append(f"could not join run {self.context.key}: {error}; "
                                 "recording without a run")
            return
        try:
            self.quarantined = self.client.quarantined_keys(self.project_id)
        except TestTrackError as error:
            self.refusals.append(f"could not read the quarantine: {error}; "
                                 "failures count as usual")

    def _ensure(self, batch: List[Try]) -> None:
        missing = list(dict.fromkeys(a.nodeid for a in batch if a.nodeid not in self.test_case_ids))
        for start in range(0, len(missing), ENSURE_MAX):
            keys = missing[start:start + ENSURE_MAX]
            cases = [{"key": key[:KEY_MAX], "title": _title(key)} for key in keys]
            ensured = self.client.ensure_test_cases(cases, self.project_id)
            for key, case in zip(keys, ensured):
                self.test_case_ids[key] = case["id"]

    def _record(self, attempt: Try) -> None:
        test_case_id = self.test_case_ids[attempt.nodeid]
        start = {
            "runId": self.run_id,
            "attempt": self.context.attempt * TRIES_PER_CI_ATTEMPT
            + min(attempt.index, TRIES_PER_CI_ATTEMPT - 1),
            "triggeredBy": "ci_cd" if self.context.provider else "manual",
        }
        try:
            started = self.client.start_execution(test_case_id, **start)
        except TestTrackError:
            if self.run_id is None:
                raise
            # The run ended meanwhile (another job finished it): keep the result without it.
            started = self.client.start_execution(test_case_id, **{**start, "runId": None})
        execution_id = started["executionId"]
        started_at = _iso(attempt.started)
        self.client.update_execution(execution_id, status="running", startedAt=started_at)
        self.client.update_execution(
            execution_id,
            status="completed",
            result=attempt.result,
            startedAt=started_at,
            completedAt=_iso(attempt.stopped),
            durationSeconds=round(max(attempt.duration, 0.0), 6),
            errorMessage=_cut_start(attempt.error, MESSAGE_MAX),
            consoleLog=_cut_end(attempt.output, CONSOLE_LOG_MAX),
        )
        self.recorded += 1
        self._upload(attempt, execution_id)

    def _upload(self, attempt: Try, execution_id: int) -> None:
        """Each attached file becomes an artifact; one that cannot be uploaded is only reported."""
        for attachment in attempt.attachments:
            try:
                self.client.upload_artifact(execution_id, **attachment)
                self.uploaded += 1
            except (TestTrackError, TestTrackUnavailable, OSError) as error:
                name = attachment.get("name") or os.path.basename(attachment["path"])
                self.refusals.append(f"{attempt.nodeid}: could not upload {name}: {error}")


class TestTrackPlugin:
    """pytest's side: turns each test's reports into tries and hands them to the recorder."""

    __test__ = False

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.reports: Dict[str, list] = {}
        self.tries: Dict[str, int] = {}
        # Each test's last try: pytest's verdict is the last one too.
        self.final: Dict[str, str] = {}
        self.quarantine_note: Optional[str] = None
        self.crashed: Optional[str] = None

    def pytest_runtest_logreport(self, report):
        try:
            self._collect(report)
        except Exception as error:  # noqa: BLE001 - the plugin must never break the session
            self.crashed = self.crashed or f"{type(error).__name__}: {error}"

    def pytest_sessionfinish(self, session):
        try:
            self.recorder.finish()
            self._pass_if_only_quarantined_failed(session)
        except Exception as error:  # noqa: BLE001
            self.crashed = self.crashed or f"{type(error).__name__}: {error}"

    def _pass_if_only_quarantined_failed(self, session) -> None:
        """When every failing test is quarantined in TestTrack, the session exits 0."""
        status = getattr(session, "exitstatus", None)
        if status != pytest.ExitCode.TESTS_FAILED or not self.recorder.quarantined:
            return
        failing = [n for n, result in self.final.items() if result in ("fail", "error")]
        if failing and all(n[:KEY_MAX] in self.recorder.quarantined for n in failing):
            session.exitstatus = pytest.ExitCode.OK
            self.quarantine_note = (
                f"{len(failing)} failing test{' is' if len(failing) == 1 else 's are'} "
                "in quarantine: they do not fail the session"
            )

    def pytest_terminal_summary(self, terminalreporter):
        recorder = self.recorder
        if recorder.unavailable:
            terminalreporter.write_line(
                f"TestTrack warning: {recorder.unavailable}; this session's results were not "
                "recorded (the tests ran as usual)",
                yellow=True,
            )
            return
        for refusal in recorder.refusals[:5]:
            terminalreporter.write_line(f"TestTrack warning: {refusal}", yellow=True)
        if self.crashed:
            terminalreporter.write_line(f"TestTrack warning: the plugin failed: {self.crashed}",
                                        yellow=True)
        run = f" in run {recorder.context.key}" if recorder.run_id is not None else ""
        uploaded = f", uploaded {recorder.uploaded} artifacts" if recorder.uploaded else ""
        terminalreporter.write_line(
            f"TestTrack: recorded {recorder.recorded} executions{uploaded}{run}"
        )
        if self.quarantine_note:
            terminalreporter.write_line(f"TestTrack: {self.quarantine_note}")

    def _collect(self, report) -> None:
        nodeid = report.nodeid
        if report.outcome == "rerun":
            # pytest-rerunfailures: this try failed and the test runs again.
            self._end_try(nodeid, self.reports.pop(nodeid, []) + [report])
            return
        self.reports.setdefault(nodeid, []).append(report)
        if report.when == "teardown":
            self._end_try(nodeid, self.reports.pop(nodeid))

    def _end_try(self, nodeid: str, reports: list) -> None:
        index = self.tries.get(nodeid, 0)
        self.tries[nodeid] = index + 1
        result, error = outcome_of(reports)
        self.final[nodeid] = result
        starts = [r.start for r in reports if getattr(r, "start", None)]
        stops = [r.stop for r in reports if getattr(r, "stop", None)]
        self.recorder.add(Try(
            nodeid=nodeid,
            index=index,
            result=result,
            duration=sum(getattr(r, "duration", 0.0) or 0.0 for r in reports),
            started=min(starts) if starts else None,
            stopped=max(stops) if stops else None,
            error=error,
            output=output_of(reports),
            attachments=[a for r in reports for a in getattr(r, "testtrack_attachments", None) or []],
        ))


def outcome_of(reports: list) -> tuple:
    """(result, error) of one try: pass, fail, error (setup or teardown failed) or skip."""
    by_phase = {r.when: r for r in reports}
    setup, call, teardown = (by_phase.get(w) for w in ("setup", "call", "teardown"))
    for report in reports:
        if report.outcome == "rerun":
            return ("error" if report.when != "call" else "fail"), _longrepr(report)
    if setup is not None and setup.failed:
        return "error", _longrepr(setup)
    if setup is not None and setup.skipped:
        return "skip", _skip_reason(setup)
    if call is not None and call.failed:
        return "fail", _longrepr(call)
    if call is not None and call.skipped:
        # xfail: it failed as expected.
        return "skip", _skip_reason(call)
    if teardown is not None and teardown.failed:
        return "error", _longrepr(teardown)
    return "pass", None


def output_of(reports: list) -> Optional[str]:
    # Each phase's report carries the sections of the phases before it: the last has them all.
    sections = getattr(reports[-1], "sections", None) or []
    text = "".join(f"----- {title} -----\n{content.rstrip()}\n" for title, content in sections)
    return text or None


def _longrepr(report) -> Optional[str]:
    text = getattr(report, "longreprtext", "") or ""
    return text or None


def _skip_reason(report) -> Optional[str]:
    if getattr(report, "wasxfail", None) is not None:
        return f"xfail: {report.wasxfail}" if report.wasxfail else "xfail"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return _longrepr(report)


def _title(nodeid: str) -> str:
    title = nodeid.split("::", 1)[1] if "::" in nodeid else nodeid
    return title[:TITLE_MAX].strip() or nodeid[:TITLE_MAX]


def _iso(timestamp: Optional[float]) -> Optional[str]:
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cut_start(text: Optional[str], limit: int) -> Optional[str]:
    return text if text is None or len(text) <= limit else text[:limit]


def _cut_end(text: Optional[str], limit: int) -> Optional[str]:
    # The end of a long log says most about how the test ended.
    return text if text is None or len(text) <= limit else text[-limit:]


def _int(text: Optional[str]) -> Optional[int]:
    return int(text) if text and text.strip().isdigit() else None


def _shard() -> Optional[tuple]:
    match = re.match(r"^\s*(\d+)\s*/\s*(\d+)\s*$", os.environ.get("TESTTRACK_SHARD", ""))
    if not match:
        return None
    current, total = int(match.group(1)), int(match.group(2))
    return (current, total) if 1 <= current <= total <= 1_000 else None
