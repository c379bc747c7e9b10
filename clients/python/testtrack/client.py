"""A client for TestTrack's REST API (/api/v1), on the standard library only."""

from __future__ import annotations

import http.client
import json
import mimetypes
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Union

ARTIFACT_KINDS = ("screenshot", "video", "trace", "log", "other")
UPLOAD_CHUNK = 64 * 1024


class TestTrackError(Exception):
    """The server refused a request: ``status`` is the HTTP status, ``code`` TestTrack's code."""

    __test__ = False  # not a test class, though pytest may collect it by its name

    def __init__(self, status: int, code: str, message: str, issues: Optional[list] = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.issues = issues or []


class TestTrackUnavailable(Exception):
    """The server could not be reached, or answered that it cannot serve now (5xx)."""

    __test__ = False


class TestTrackClient:
    """Calls ``{url}/api/v1`` with ``Authorization: Bearer <token>``; answers parsed JSON."""

    __test__ = False

    def __init__(self, url: str, token: Optional[str] = None, timeout: float = 10.0):
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Optional[Mapping[str, Any]] = None,
        query: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        url = self.base + path
        if query:
            pairs = {k: _text(v) for k, v in query.items() if v is not None}
            url += "?" + urllib.parse.urlencode(pairs)
        headers = {"accept": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps({k: v for k, v in body.items() if v is not None}).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            raise _refusal(error) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TestTrackUnavailable(f"cannot reach {self.base}: {reason}") from None
        return json.loads(text) if text else None

    # The seed's six paths.
    def start_execution(self, test_case_id: int, **fields: Any) -> Dict[str, Any]:
        return self.request("POST", f"/tests/{test_case_id}/execute", fields)

    def execution_history(self, test_case_id: int, **page: Any) -> Dict[str, Any]:
        return self.request("GET", f"/tests/{test_case_id}/executions", query=page)

    def list_executions(self, **filters: Any) -> Dict[str, Any]:
        return self.request("GET", "/executions", query=filters)

    def execution_stats(self, **filters: Any) -> Dict[str, Any]:
        return self.request("GET", "/executions/stats", query=filters)

    def get_execution(self, execution_id: int) -> Dict[str, Any]:
        return self.request("GET", f"/executions/{execution_id}")

    def delete_execution(self, execution_id: int) -> Dict[str, Any]:
        return self.request("DELETE", f"/executions/{execution_id}")

    # What a test runner needs besides.
    def update_execution(self, execution_id: int, **fields: Any) -> Dict[str, Any]:
        return self.request("PATCH", f"/executions/{execution_id}", fields)

    def ensure_test_cases(
        self, test_cases: List[Dict[str, Any]], project_id: Optional[int] = None
    ) -> List[Dict[str, Any]]:
        """Finds or creates test cases by ``key`` (up to 500 a call), answered in input order."""
        return self.request(
            "POST", "/tests/ensure-many", {"projectId": project_id, "testCases": test_cases}
        )

    def start_run(self, **fields: Any) -> Dict[str, Any]:
        """Starts the run of ``key``, or joins it (every shard and re-run of a build does)."""
        return self.request("POST", "/runs", fields)

    def quarantined_keys(self, project_id: Optional[int] = None) -> set:
        """Keys of the project's test cases in quarantine now (every page of GET /quarantine)."""
        keys: set = set()
        cursor: Optional[str] = None
        while True:
            query: Dict[str, Any] = {"limit": 100}
            if project_id is not None:
                query["projectId"] = project_id
            if cursor:
                query["cursor"] = cursor
            page = self.request("GET", "/quarantine", query=query)
            keys.update(item["key"] for item in page["items"] if item.get("key"))
            cursor = page.get("nextCursor")
            if not cursor:
                return keys

    def finish_run(self, run_id: int) -> Dict[str, Any]:
        return self.request("POST", f"/runs/{run_id}/finish", {})

    def finish_shard(self, run_id: int, shard: int) -> Dict[str, Any]:
        return self.request("POST", f"/runs/{run_id}/shards/{shard}/finish", {})

    def upload_artifact(
        self,
        execution_id: int,
        path: Union[str, "os.PathLike[str]"],
        name: Optional[str] = None,
        kind: Optional[str] = None,
        content_type: Optional[str] = None,
        step_number: Optional[int] = None,
    ) -> Dict[str, Any]:
        """Streams the file at ``path`` to POST /executions/{id}/artifacts, 64 KB at a time.

        ``name`` defaults to the file's own name, ``content_type`` to one guessed from the name,
        ``kind`` to one following from the content type. Answers the stored artifact (its
        ``id``, ``size``, ``sha256`` and a signed ``url``).
        """
        path = os.fspath(path)
        name = name or os.path.basename(path)
        content_type = content_type or content_type_of(name)
        query = {
            "name": name,
            "kind": kind or kind_of(content_type, name),
            "contentType": content_type,
            "stepNumber": step_number,
        }
        target = urllib.parse.urlsplit(
            f"{self.base}/executions/{execution_id}/artifacts?"
            + urllib.parse.urlencode({k: _text(v) for k, v in query.items() if v is not None})
        )
        size = os.path.getsize(path)
        connection_type = (
            http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(target.hostname, target.port, timeout=self.timeout)
        try:
            with open(path, "rb") as file:
                try:
                    connection.putrequest("POST", f"{target.path}?{target.query}")
                    if self.token:
                        connection.putheader("authorization", f"Bearer {self.token}")
                    connection.putheader("accept", "application/json")
                    connection.putheader("content-length", str(size))
                    connection.endheaders()
                    _send_file(connection, file)
                    response = connection.getresponse()
                    status, reason, text = response.status, response.reason, response.read()
                except (socket.timeout, ConnectionError, OSError) as error:
                    raise TestTrackUnavailable(f"cannot reach {self.base}: {error}") from None
        finally:
            connection.close()
        if status == 201:
            return json.loads(text.decode("utf-8"))
        raise _refusal_of(status, reason, text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def content_type_of(name: str) -> str:
    """The media type of a file name's extension (``.log`` is text), else octet-stream."""
    if name.lower().endswith(".log"):
        return "text/plain"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def kind_of(content_type: str, name: str = "") -> str:
    """As the JavaScript client: image → screenshot, video → video, a trace zip, text → log."""
    if content_type.startswith("image/"):
        return "screenshot"
    if content_type.startswith("video/"):
        return "video"
    if "trace" in name.lower() and content_type == "application/zip":
        return "trace"
    if content_type.startswith("text/plain"):
        return "log"
    return "other"


def _send_file(connection: http.client.HTTPConnection, file) -> None:
    # A refused upload (413, 404) is answered before the body ends and the server stops
    # reading: the answer counts, not the broken pipe.
    try:
        while True:
            chunk = file.read(UPLOAD_CHUNK)
            if not chunk:
                return
            connection.send(chunk)
    except (BrokenPipeError, ConnectionResetError):
        return


def _refusal(error: urllib.error.HTTPError) -> Exception:
    try:
        text = error.read()
    except OSError:
        text = b""
    return _refusal_of(error.code, str(error.reason), text)


def _refusal_of(status: int, reason: str, text: bytes) -> Exception:
    try:
        body = json.loads(text.decode("utf-8") or "{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or reason)
    if status >= 500:
        return TestTrackUnavailable(f"the server answered {status}: {message}")
    return TestTrackError(status, str(body.get("code", "")), message, body.get("issues"))
