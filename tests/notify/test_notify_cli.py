"""`hullscan notify ...` as a user runs it: endpoints (secrets never printed, URL tokens hidden), status
and retry of dead letters, and a deliverer killed with SIGKILL mid-run, then restarted: every page
arrives, duplicates only of the page in flight and with the same notification id and page index."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from notify_support import IMAGE, SECRET, Clock, Receiver, changes, verify

from hullscan.notify import queue
from hullscan.notify.deliver import Settings, deliver
from hullscan.state.store import open_state

HULLSCAN = [sys.executable, "-m", "hullscan"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "COLUMNS": "80", "HOOK_SECRET": SECRET}
    env.pop("HULLSCAN_STATE_URL", None)
    return env


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HULLSCAN, "notify", *args], capture_output=True, text=True, env=_env(tmp_path), timeout=120)


def test_endpoints_cli(tmp_path: Path, receiver: Receiver) -> None:
    r = _run(tmp_path, "add", receiver.url + "?token=tok-123", "--secret-env", "HOOK_SECRET", "--name", "ci")
    assert r.returncode == 0, r.stderr
    r2 = _run(tmp_path, "add", "https://hooks.example.net/x", "--cloudevents")  # named after its host, unsigned
    assert r2.returncode == 0 and "warning: no secret" in r2.stderr
    listed = _run(tmp_path, "list")
    assert listed.returncode == 0
    assert "env:HOOK_SECRET" in listed.stdout and "hooks.example.net" in listed.stdout and "cloudevents" in listed.stdout
    assert "tok-123" not in listed.stdout + r.stdout + r.stderr  # a token in the query is never shown
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    dup = _run(tmp_path, "add", receiver.url, "--name", "ci")
    assert dup.returncode == 2 and "exists" in dup.stderr
    for bad in (["add", "ftp://x/y"], ["add", "http:///nohost"], ["rm", "nobody"], ["retry"],
                ["add", receiver.url, "--secret-env", "A", "--secret-file", "f"]):
        out = _run(tmp_path, *bad)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (bad, out.stderr)
    assert _run(tmp_path, "rm", "hooks.example.net").returncode == 0
    assert "hooks.example.net" not in _run(tmp_path, "list").stdout


def test_status_retry_cli(tmp_path: Path, receiver: Receiver) -> None:
    state = tmp_path / "data" / "hullscan" / "state.sqlite"
    assert _run(tmp_path, "add", receiver.url, "--secret-env", "HOOK_SECRET", "--name", "ci").returncode == 0
    with open_state(str(state)) as store:
        nid = queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail").id
    receiver.script = [500]
    first = _run(tmp_path, "deliver", "--once", "--give-up-after", "1ms")  # any failure is past that age
    assert first.returncode == 0 and "delivered 0, failed 0 (retried later), gave up 1" in first.stdout
    st = _run(tmp_path, "status")
    assert "0 pending, 0 delivered, 1 dead" in st.stdout and nid[:12] in st.stdout and "HTTP 500" in st.stdout
    assert SECRET not in st.stdout + first.stdout + first.stderr
    assert max(len(line) for line in st.stdout.splitlines()) <= 80
    assert _run(tmp_path, "retry", nid[:8]).stdout.strip() == "1 dead delivery queued again"
    again = _run(tmp_path, "deliver", "--once")
    assert "delivered 1" in again.stdout, again.stderr
    assert "0 pending, 1 delivered, 0 dead" in _run(tmp_path, "status").stdout
    assert all(verify(SECRET.encode(), g.headers, g.body, now=time.time()) for g in receiver.got)


def test_kill_9_mid_run_then_restart(tmp_path: Path, receiver: Receiver, secret_env: str) -> None:
    state = tmp_path / "data" / "hullscan" / "state.sqlite"
    assert _run(tmp_path, "add", receiver.url, "--secret-env", "HOOK_SECRET", "--name", "ci").returncode == 0
    with open_state(str(state)) as store:
        nid = queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail", page_size=2).id  # 4 pages
    receiver.script = [200, 200, "hang"]  # the third page is in flight when the deliverer dies
    proc = subprocess.Popen([*HULLSCAN, "notify", "deliver"], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert receiver.hanging.wait(60), "the deliverer never reached the third page"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        receiver.release.set()
    assert proc.returncode == -signal.SIGKILL
    with open_state(str(state)) as store:
        rows = queue.deliveries(store, nid)
        assert [r.state for r in rows] == ["delivered", "delivered", "pending", "pending"]
        # restarted while the dead deliverer's lease still runs: the leased page waits for it to expire
        clock = Clock(time.time())
        summary = deliver(store, once=True, settings=Settings(timeout=5), clock=clock)
        assert [r.state for r in queue.deliveries(store, nid)] == ["delivered", "delivered", "pending", "delivered"], \
            (summary, queue.deliveries(store, nid))
        clock.t += 121  # past the lease (120 s)
        deliver(store, once=True, settings=Settings(timeout=5), clock=clock)
        assert [r.state for r in queue.deliveries(store, nid)] == ["delivered"] * 4
    seen: list[Any] = [(g.json["notification_id"], g.json["page"]["index"]) for g in receiver.got]
    # pages 0, 1 once; page 2 twice (in flight at the kill: at least once); page 3 once
    assert sorted(seen) == [(nid, 0), (nid, 1), (nid, 2), (nid, 2), (nid, 3)]
