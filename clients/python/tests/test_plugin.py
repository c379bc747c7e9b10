from types import SimpleNamespace

from testtrack.ci import RunContext
from testtrack.client import TestTrackUnavailable
from testtrack.plugin import Recorder, TestTrackPlugin, outcome_of


def report(when, outcome, **extra):
    fields = dict(nodeid="tests/test_shop.py::test_pay", when=when, outcome=outcome,
                  passed=outcome == "passed", failed=outcome == "failed",
                  skipped=outcome == "skipped", duration=0.5, start=100.0, stop=100.5,
                  longreprtext="", longrepr=None, sections=[])
    fields.update(extra)
    return SimpleNamespace(**fields)


class Tries:
    def __init__(self):
        self.tries = []

    def add(self, attempt):
        self.tries.append(attempt)


def test_rerunfailures_reruns_become_tries_and_the_last_one_is_the_outcome():
    recorder = Tries()
    plugin = TestTrackPlugin(recorder)
    for r in [
        report("setup", "passed"),
        report("call", "rerun", longreprtext="AssertionError: flaky"),
        report("setup", "passed"),
        report("call", "passed", sections=[("Captured stdout call", "paid\n")]),
        report("teardown", "passed", sections=[("Captured stdout call", "paid\n")]),
    ]:
        plugin.pytest_runtest_logreport(r)
    assert [(t.index, t.result) for t in recorder.tries] == [(0, "fail"), (1, "pass")]
    assert recorder.tries[0].error == "AssertionError: flaky"
    assert recorder.tries[1].output == "----- Captured stdout call -----\npaid\n"
    assert recorder.tries[1].duration == 1.5


def test_outcomes_of_setup_errors_skips_and_xfails():
    assert outcome_of([report("setup", "failed", longreprtext="E fixture broke")]) == ("error", "E fixture broke")
    skipped = report("setup", "skipped", longrepr=("f.py", 3, "Skipped: not today"))
    assert outcome_of([skipped, report("teardown", "passed")]) == ("skip", "Skipped: not today")
    xfail = report("call", "skipped", wasxfail="known bug")
    assert outcome_of([report("setup", "passed"), xfail, report("teardown", "passed")]) == ("skip", "xfail: known bug")
    broken_teardown = report("teardown", "failed", longreprtext="E cleanup")
    assert outcome_of([report("setup", "passed"), report("call", "passed"), broken_teardown]) == ("error", "E cleanup")


class DownClient:
    calls = 0

    def start_run(self, **_):
        DownClient.calls += 1
        raise TestTrackUnavailable("cannot reach http://127.0.0.1:9/api/v1: refused")


def test_a_server_that_is_down_is_asked_once():
    recorder = Recorder(DownClient(), RunContext(provider=None, key="k", attempt=0))
    plugin = TestTrackPlugin(recorder)
    for _ in range(120):
        plugin.pytest_runtest_logreport(report("setup", "passed"))
        plugin.pytest_runtest_logreport(report("call", "passed"))
        plugin.pytest_runtest_logreport(report("teardown", "passed"))
    plugin.pytest_sessionfinish(session=None)
    assert DownClient.calls == 1
    assert recorder.unavailable.startswith("cannot reach")
    assert plugin.crashed is None
