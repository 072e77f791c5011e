"""`hullscan worker` for real: worker processes on the machine's RabbitMQ (queues of this run's own prefix), a
throwaway PostgreSQL database holding the state store, the vulnerability DB (the demo feeds) and the shared
layer cache, and a real registry holding images that share their two base layers (worker_support.py).

Faults are made on parts of the test's own: a worker killed with SIGKILL, a loopback TCP proxy in front of
RabbitMQ that cuts it off for 30 s, a private PostgreSQL cluster restarted, a proxy answering 500 in front
of the registry. Run serially (one xdist group): they share the workers and the machine's 2 cores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from worker_support import (
    BROKER,
    HULLSCAN,
    Images,
    PrivateCluster,
    Service,
    TcpProxy,
    create_database,
    delete_queues,
    drop_database,
    import_feeds,
    push_images,
    require_broker,
    start_registry,
    wait_until,
)

from testsupport import require_module

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("service-worker")]
IMAGES = 8


@dataclass
class Setup:
    service: Service
    registry_host: str
    images: Images


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    require_module("celery")
    require_broker()
    root = tmp_path_factory.mktemp("worker")
    registry = start_registry(root / "registry")
    db = create_database()
    service = Service(root, db, BROKER, extra_env={"HULLSCAN_JOB_RETRIES": "2"})
    try:
        images = push_images(root / "images", registry.host, IMAGES)
        import_feeds(db, service.env)
        service.start_worker(name="a")
        service.start_worker(name="b")
        yield Setup(service, registry.host, images)
    finally:
        service.stop()
        registry.stop()
        delete_queues(BROKER, service.prefix)
        drop_database(db)


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Make this process submit as `service` does (its environment), restored after the test."""
    def apply(service: Service):  # noqa: ANN202
        from hullscan.state.store import open_state

        for k in [k for k in os.environ if k.startswith("HULLSCAN_")]:
            monkeypatch.delenv(k)
        for k, v in service.env.items():
            if k.startswith("HULLSCAN_"):
                monkeypatch.setenv(k, v)
        return open_state(service.env["HULLSCAN_STATE_URL"])
    return apply


def _spec(ref: str, nonce: str = "", **options: object):  # noqa: ANN202
    from hullscan.service import jobs

    return jobs.JobSpec(reference=ref, nonce=nonce, options=jobs.JobOptions(insecure=True, **options))  # type: ignore[arg-type]


def _all_finished(store, ids: list[str], service: Service, timeout: float = 90.0):  # noqa: ANN001, ANN202
    from hullscan.service import jobs

    return wait_until(f"jobs {ids}", lambda: (got := [jobs.get(store, i) for i in ids]) and all(j.finished for j in got)
                      and got, timeout, service)


def test_two_workers_analyze_every_layer_once(setup: Setup, use) -> None:  # noqa: ANN001
    from hullscan.service import jobs

    store = use(setup.service)
    refs = setup.images.refs[:6]
    submitted = [jobs.submit(store, _spec(ref)) for ref in refs]
    assert [jobs.submit(store, _spec(ref)).id for ref in refs] == [j.id for j in submitted]  # idempotent
    done = _all_finished(store, [j.id for j in submitted], setup.service)
    assert [j.status for j in done] == ["done"] * 6, [j.error for j in done]
    # 6 images = the 2 shared base layers + one own layer each: 8 distinct layers, each analyzed exactly once
    # by the two workers together (a layer one worker analyzed is a cache hit for the other; the layer lock
    # made a worker wait rather than analyze a layer the other was analyzing)
    assert sum(j.stats["walked"] for j in done) == 2 + 6
    assert sum(j.stats["layers_missed"] for j in done) == 2 + 6
    assert sum(j.stats["walked"] + j.stats["cached"] for j in done) == 6 * 3
    assert len({j.stats["pid"] for j in done}) == 2  # both workers ran jobs

    # the job's report is the CLI's JSON for the same image (same findings, same counts)
    report = json.loads(jobs.report(store, done[0], "json"))
    cli = subprocess.run([*HULLSCAN, "image", f"registry:{refs[0]}", "--insecure", "-f", "json", "-q"],
                         capture_output=True, text=True, timeout=120,
                         env={**setup.service.env, "HULLSCAN_CACHE_URL": "",
                              "XDG_CACHE_HOME": str(setup.service.root / "cli-cache")})
    assert cli.returncode in (0, 1), cli.stderr
    expected = json.loads(cli.stdout)

    def findings(doc: dict) -> list[tuple[str, str, str]]:
        return sorted((v["id"], v["package"]["name"], v["package"]["version"]) for v in doc["vulnerabilities"])

    assert findings(report) == findings(expected) and findings(report)
    assert len(report["packages"]) == len(expected["packages"]) == 16  # 14 apk + idna + app0


def test_registry_500_retried_then_failed(setup: Setup, use, tmp_path: Path) -> None:  # noqa: ANN001
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
    from regserver import Fault, FaultProxy

    from hullscan.service import jobs

    store = use(setup.service)
    proxy = FaultProxy(setup.registry_host)
    proxy.faults.append(Fault(match="/manifests/", status=500, times=10_000))
    try:
        job = jobs.submit(store, _spec(f"{proxy.host}/test/app7:1"))
        failed = _all_finished(store, [job.id], setup.service)[0]
    finally:
        proxy.stop()
    # HULLSCAN_JOB_RETRIES=2: the first run and two retries (backoff 0.5 s, 1 s), each through the HTTP
    # client's own retries, then failed with the registry's answer named
    assert failed.status == "failed" and failed.attempts == 3, failed
    assert "500" in failed.error and "after 3 attempts" in failed.error, failed.error
    assert sum(1 for m, p, s in proxy.requests if "/manifests/" in p and s == 500) >= 3
    with pytest.raises(jobs.JobNotDone, match="failed"):
        jobs.report(store, failed)


def test_worker_killed_mid_scan_job_redelivered_and_completed_once(setup: Setup, use) -> None:  # noqa: ANN001
    from hullscan.service import jobs

    store = use(setup.service)
    slow = TcpProxy(tuple(setup.registry_host.split(":")), delay=0.4)  # type: ignore[arg-type]
    try:
        job = jobs.submit(store, _spec(f"{slow.host}/test/app6:1"))
        wait_until("the job running", lambda: jobs.get(store, job.id).status == "running", 60, setup.service)
        time.sleep(1.0)  # mid-scan: the slow registry holds every answer 0.4 s
        assert jobs.get(store, job.id).status == "running"
        victim = setup.service.worker_of(job.id)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        done = _all_finished(store, [job.id], setup.service)[0]
    finally:
        slow.stop()
        setup.service.start_worker(name=str(len(setup.service.workers)))  # two workers again for the next tests
    assert done.status == "done" and done.attempts == 2, done  # redelivered once, run to the end once
    assert done.stats["pid"] != victim.pid
    time.sleep(2)
    assert jobs.get(store, job.id).attempts == 2  # no further delivery ran it again
    report = json.loads(jobs.report(store, done, "json"))
    assert any(p["name"] == "app6" and p["version"] == "1.0.6" for p in report["packages"])


def test_broker_cut_off_for_30s_loses_no_job(setup: Setup, use, tmp_path: Path) -> None:  # noqa: ANN001
    from hullscan.service import jobs

    proxy = TcpProxy(("127.0.0.1", 5672))
    service = Service(tmp_path, setup.service.db_url, proxy.url)
    try:
        store = use(service)
        service.start_worker("--beat", "--relay-interval", "1", name="beat")
        service.start_worker(name="plain")
        # jobs of their own (a nonce): the images' layers are cached by now, so the jobs are quick
        before = [jobs.submit(store, _spec(ref, nonce="outage")) for ref in setup.images.refs[:3]]
        proxy.pause()
        during = [jobs.submit(store, _spec(ref, nonce="outage")) for ref in setup.images.refs[3:9]]
        assert {j.status for j in during} == {"queued"}  # committed, not published: the outbox holds them
        time.sleep(30)
        proxy.resume()
        ids = [j.id for j in before + during]
        done = _all_finished(store, ids, service, timeout=120)
    finally:
        proxy.resume()
        service.stop()
        proxy.stop()
        delete_queues(BROKER, service.prefix)
    assert [j.status for j in done] == ["done"] * 8, [(j.status, j.error) for j in done]


def test_worker_reconnects_after_postgres_restart(setup: Setup, use, tmp_path: Path) -> None:  # noqa: ANN001
    from hullscan.service import jobs

    cluster = PrivateCluster()
    cluster.start()
    service = Service(tmp_path, cluster.url, BROKER)
    try:
        import_feeds(cluster.url, service.env)
        store = use(service)
        service.start_worker(name="pg")
        first = jobs.submit(store, _spec(setup.images.refs[0]))
        assert _all_finished(store, [first.id], service)[0].status == "done"
        cluster.restart()  # every connection of the worker and of this process is cut
        second = jobs.submit(store, _spec(setup.images.refs[1]))
        finished = _all_finished(store, [second.id], service)[0]
        assert finished.status == "done", finished.error
    finally:
        service.stop()
        cluster.close()
        delete_queues(BROKER, service.prefix)
