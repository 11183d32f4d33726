"""`claimpost dev` supervises its processes: one that dies is started again, with a back-off,
and the others keep running (issue 7, finding 8)."""

import sys
import threading
import time

import web.dev
from tests.conftest import wait_for
from web.dev import Child, supervise


def test_a_child_that_dies_is_started_again_and_the_others_keep_running(tmp_path, monkeypatch):
    monkeypatch.setattr(web.dev, "FIRST_PAUSE_SECONDS", 0.1)
    starts = tmp_path / "starts"
    flaky = [sys.executable, "-c", f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"]
    steady = [sys.executable, "-c", "import time; time.sleep(120)"]
    started: list[Child] = []
    real_start = Child.start

    def remember(child):
        real_start(child)
        started.append(child)

    monkeypatch.setattr(Child, "start", remember)
    stop = threading.Event()
    runner = threading.Thread(target=supervise, args=({"flaky": flaky, "steady": steady}, stop))
    runner.start()
    try:
        wait_for(lambda: starts.exists() and len(starts.read_text()) >= 3, what="three starts")
        steady_children = [c for c in started if c.name == "steady"]
        assert len(steady_children) == 1 and steady_children[0].process.poll() is None
    finally:
        stop.set()
        runner.join(timeout=15)
    assert not runner.is_alive()
    assert steady_children[0].process.poll() is not None  # stopped with the rest


def test_the_pause_doubles_while_a_child_keeps_dying_and_resets_after_a_steady_run():
    child = Child("worker", [sys.executable, "-c", "pass"])
    child.start()
    child.process.wait()
    now = time.monotonic()
    child.check(now)
    assert child.process is None and child.restart_at == now + web.dev.FIRST_PAUSE_SECONDS
    child.check(child.restart_at)  # started again
    child.process.wait()
    child.check(child.started_at + 1)
    assert child.restart_at == child.started_at + 1 + 2 * web.dev.FIRST_PAUSE_SECONDS
    child.check(child.restart_at)
    child.process.wait()
    # It ran a long while. (A second more than "steady": (t + 60) - t can come out a hair
    # under 60 in floating point, and did, for some values of the monotonic clock.)
    steady_until = child.started_at + web.dev.STEADY_AFTER_SECONDS + 1
    child.check(steady_until)
    assert child.restart_at == steady_until + web.dev.FIRST_PAUSE_SECONDS
