import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from testtrack.ci import RunContext
from testtrack.client import TestTrackClient, TestTrackError
from testtrack.plugin import Recorder, TestTrackPlugin


class ArtifactServer:
    """A local HTTP server standing in for TestTrack's upload route: it keeps what it got."""

    def __init__(self, status=201, read_body=True):
        self.requests = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length) if read_body else b""
                url = urlsplit(self.path)
                received.append(SimpleNamespace(path=url.path, query=parse_qs(url.query),
                                                headers=dict(self.headers), body=body))
                answer = ({"id": 1, "size": len(body)} if status == 201 else
                          {"code": "PAYLOAD_TOO_LARGE", "message": "the file is too large"})
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_upload_artifact_streams_the_file_with_its_name_kind_and_content_type(tmp_path):
    server = ArtifactServer()
    try:
        shot = tmp_path / "checkout.png"
        shot.write_bytes(bytes(range(256)) * 1024)
        answer = TestTrackClient(server.url, "secret").upload_artifact(7, shot)
        assert answer == {"id": 1, "size": 256 * 1024}
        [request] = server.requests
        assert request.path == "/api/v1/executions/7/artifacts"
        assert request.query == {"name": ["checkout.png"], "kind": ["screenshot"],
                                 "contentType": ["image/png"]}
        assert request.headers["authorization"] == "Bearer secret"
        assert request.headers["content-length"] == str(256 * 1024)
        assert request.body == shot.read_bytes()

        log = tmp_path / "server.log"
        log.write_text("GET /cart 200\n")
        TestTrackClient(server.url, "secret").upload_artifact(
            7, log, name="server output.txt", kind="other", content_type="text/plain; charset=utf-8")
        assert server.requests[1].query == {"name": ["server output.txt"], "kind": ["other"],
                                            "contentType": ["text/plain; charset=utf-8"]}
    finally:
        server.close()


def test_a_refused_upload_raises_the_servers_answer(tmp_path):
    server = ArtifactServer(status=413, read_body=False)
    try:
        big = tmp_path / "video.webm"
        big.write_bytes(b"\0" * (4 * 1024 * 1024))
        with pytest.raises(TestTrackError) as refused:
            TestTrackClient(server.url, "secret").upload_artifact(7, big)
        assert refused.value.status == 413
        assert refused.value.code == "PAYLOAD_TOO_LARGE"
    finally:
        server.close()


class RecordingClient:
    """Answers the recorder's calls; an upload of a file named "missing.png" fails."""

    def __init__(self):
        self.uploads = []

    def start_run(self, **_):
        return {"id": 3, "projectId": 1}

    def quarantined_keys(self, _project):
        return set()

    def ensure_test_cases(self, cases, _project):
        return [{"id": 10 + i} for i, _ in enumerate(cases)]

    def start_execution(self, _test_case_id, **_):
        return {"executionId": 42}

    def update_execution(self, *_args, **_fields):
        return {}

    def upload_artifact(self, execution_id, path, **meta):
        if path.endswith("missing.png"):
            raise FileNotFoundError(2, "No such file or directory", path)
        self.uploads.append((execution_id, path, meta))

    def finish_run(self, _run_id):
        return {}


def report(when, **extra):
    fields = dict(nodeid="tests/test_shop.py::test_pay", when=when, outcome="passed",
                  passed=True, failed=False, skipped=False, duration=0.1, start=1.0, stop=1.1,
                  longreprtext="", longrepr=None, sections=[])
    fields.update(extra)
    return SimpleNamespace(**fields)


def test_a_tries_attachments_are_uploaded_to_its_execution_and_failures_only_reported():
    client = RecordingClient()
    recorder = Recorder(client, RunContext(provider=None, key="k", attempt=0))
    plugin = TestTrackPlugin(recorder)
    shot = {"path": "/tmp/shot.png", "name": None, "kind": None, "content_type": None}
    missing = {"path": "/tmp/missing.png", "name": "gone.png", "kind": None, "content_type": None}
    log = {"path": "/tmp/teardown.log", "name": None, "kind": "log", "content_type": None}
    plugin.pytest_runtest_logreport(report("setup"))
    plugin.pytest_runtest_logreport(report("call", testtrack_attachments=[shot, missing]))
    plugin.pytest_runtest_logreport(report("teardown", testtrack_attachments=[log]))
    plugin.pytest_sessionfinish(session=None)
    assert plugin.crashed is None
    assert recorder.recorded == 1
    assert recorder.uploaded == 2
    assert client.uploads == [
        (42, "/tmp/shot.png", {"name": None, "kind": None, "content_type": None}),
        (42, "/tmp/teardown.log", {"name": None, "kind": "log", "content_type": None}),
    ]
    assert len(recorder.refusals) == 1
    assert recorder.refusals[0].startswith(
        "tests/test_shop.py::test_pay: could not upload gone.png: [Errno 2] No such file")


SESSION_CONFTEST = '''
import json
import os

from _pytest.reports import pytest_report_from_serializable, pytest_report_to_serializable


def pytest_runtest_logreport(report):
    # As pytest-xdist carries a worker's report to the controller: to JSON and back.
    wire = json.loads(json.dumps(pytest_report_to_serializable(report)))
    carried = pytest_report_from_serializable(wire)
    with open(os.environ["CARRIED"], "a") as out:
        out.write(json.dumps([carried.when, getattr(carried, "testtrack_attachments", None)]) + "\\n")
'''

SESSION_TEST = '''
import pytest

@pytest.fixture
def screenshot(tmp_path, testtrack_attach):
    yield
    testtrack_attach(tmp_path / "after.png", kind="screenshot")

def test_checkout(screenshot, testtrack_attach):
    testtrack_attach("logs/server.log", name="server.txt", content_type="text/plain")

def test_bad_kind(testtrack_attach):
    with pytest.raises(ValueError, match="kind must be one of"):
        testtrack_attach("x.bin", kind="movie")
'''


def test_attachments_ride_on_the_reports_of_their_phase_through_serialisation(tmp_path):
    (tmp_path / "conftest.py").write_text(SESSION_CONFTEST)
    (tmp_path / "test_session.py").write_text(SESSION_TEST)
    carried = tmp_path / "carried.jsonl"
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": package, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           "CARRIED": str(carried)}
    env.pop("TESTTRACK_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "testtrack.plugin", "-p", "no:cacheprovider",
         "-q", "--basetemp", str(tmp_path / "base"), str(tmp_path / "test_session.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in carried.read_text().splitlines()]
    checkout, bad_kind = lines[:3], lines[3:]
    assert [when for when, _ in checkout] == ["setup", "call", "teardown"]
    assert checkout[0][1] is None
    assert checkout[1][1] == [{"path": str(tmp_path / "logs" / "server.log"), "name": "server.txt",
                               "kind": None, "content_type": "text/plain"}]
    [after] = checkout[2][1]
    assert after["path"].endswith("after.png") and after["kind"] == "screenshot"
    assert all(attached is None for _, attached in bad_kind)
