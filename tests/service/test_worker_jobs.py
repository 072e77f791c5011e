"""service/jobs.py without a broker: the outbox (a job row committed before its publish; a failed publish
left `queued` for the relay), idempotent submissions, the state machine that makes a second completion a
no-op, and registry credentials encrypted at rest. On a SQLite store and on a throwaway PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport import missing, require_module

PG = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    from hullscan.state.store import open_state

    if request.param == "sqlite":
        with open_state(str(tmp_path / "state.sqlite")) as st:
            yield st
        return
    psycopg = require_module("psycopg")
    schema = f"hs_jobs_{uuid.uuid4().hex[:10]}"
    try:
        psycopg.connect(PG, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError as err:
        missing(f"PostgreSQL not reachable: {err}")
    try:
        with open_state(PG, schema=schema) as st:
            yield st
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Broker:
    """A publisher that records what it sent, and fails while `down`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = False

    def __call__(self, job_id: str, kind: str) -> None:
        if self.down:
            raise ConnectionRefusedError("broker down")
        self.sent.append((job_id, kind))


REF = "registry:127.0.0.1:5000/test/app@sha256:" + "ab" * 32


def test_submit_is_idempotent_and_published(store) -> None:  # noqa: ANN001
    from hullscan.service import jobs

    broker = Broker()
    spec = jobs.JobSpec(reference=REF)
    job = jobs.submit(store, spec, broker)
    assert (job.status, job.attempts, job.kind, job.reference) == ("published", 0, "scan", REF)
    assert job.published_at is not None
    again = jobs.submit(store, jobs.JobSpec(reference=REF), broker)
    assert again.id == job.id and broker.sent == [(job.id, "scan")]  # the same job, published once
    other = jobs.submit(store, jobs.JobSpec(reference=REF, options=jobs.JobOptions(scanners=("vuln",))), broker)
    assert other.id != job.id  # other options: another job
    assert [j.id for j in jobs.list_jobs(store)] == [other.id, job.id]  # newest first
    assert [j.id for j in jobs.list_jobs(store, limit=1, offset=1)] == [job.id]
    assert jobs.list is jobs.list_jobs


def test_broker_down_leaves_row_queued_for_the_relay(store) -> None:  # noqa: ANN001
    from hullscan.service import jobs

    broker = Broker()
    broker.down = True
    first = jobs.submit(store, jobs.JobSpec(reference=REF), broker)
    second = jobs.submit(store, jobs.JobSpec(reference=REF, nonce="2"), broker)
    assert (first.status, second.status) == ("queued", "queued")  # committed, not lost
    assert jobs.relay(store, broker, older_than=0) == 0  # still down: stops at the first failure
    assert jobs.relay(store, Broker(), older_than=3600) == 0  # too fresh: a server may be publishing it now
    broker.down = False
    assert jobs.relay(store, broker, older_than=0) == 2
    assert broker.sent == [(first.id, "scan"), (second.id, "scan")]  # oldest first
    assert {j.status for j in jobs.list_jobs(store)} == {"published"}
    assert jobs.relay(store, broker, older_than=0) == 0  # nothing twice


def test_state_machine_completes_once(store) -> None:  # noqa: ANN001
    from hullscan.service import jobs

    job = jobs.submit(store, jobs.JobSpec(reference=REF), Broker())
    assert jobs.claim(store, job.id).status == "running"
    again = jobs.claim(store, job.id)  # redelivered after its worker died
    assert (again.status, again.attempts) == ("running", 2)
    assert jobs.finish(store, job.id, "sha256:" + "cd" * 32, {"walked": 3}) is True
    assert jobs.finish(store, job.id, "sha256:" + "ef" * 32, {"walked": 0}) is False  # a second completion
    assert jobs.claim(store, job.id) is None  # a late duplicate delivery runs nothing
    assert jobs.fail(store, job.id, "late") is False
    done = jobs.get(store, job.id)
    assert (done.status, done.result, done.stats, done.error) == ("done", "sha256:" + "cd" * 32, {"walked": 3}, None)
    assert jobs.submit(store, jobs.JobSpec(reference=REF), Broker()).id == job.id  # done: still the same job


def test_failed_job_frees_its_key(store) -> None:  # noqa: ANN001
    from hullscan.service import jobs

    job = jobs.submit(store, jobs.JobSpec(reference=REF), Broker())
    jobs.claim(store, job.id)
    assert jobs.retrying(store, job.id, "attempt 1 failed: registry said 500")
    assert jobs.get(store, job.id).status == "published"
    jobs.claim(store, job.id)
    assert jobs.fail(store, job.id, "registry said 500 (after 2 attempts)")
    failed = jobs.get(store, job.id)
    assert (failed.status, failed.error) == ("failed", "registry said 500 (after 2 attempts)")
    new = jobs.submit(store, jobs.JobSpec(reference=REF), Broker())
    assert new.id != job.id and new.status == "published"
    with pytest.raises(jobs.JobNotDone):
        jobs.report(store, failed)
    with pytest.raises(jobs.NoSuchJob):
        jobs.get(store, "no-such-id")


def test_credentials_encrypted_at_rest(store, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from sqlalchemy import text

    from hullscan.errors import UsageError
    from hullscan.service import jobs

    monkeypatch.delenv(jobs.KEY_ENV, raising=False)
    spec = jobs.JobSpec(reference=REF, username="robot$harbor", password="s3cret-Pa55word-xyz")
    with pytest.raises(UsageError, match=jobs.KEY_ENV):
        jobs.submit(store, spec, Broker())  # never stored in clear
    monkeypatch.setenv(jobs.KEY_ENV, jobs.new_key())
    job = jobs.submit(store, spec, Broker())
    assert job.has_credentials
    with store.read() as conn:
        raw = conn.execute(text("SELECT credentials, target, options FROM service_job")).one()
    assert b"s3cret" not in bytes(raw[0]) and "s3cret" not in raw[1] + raw[2]
    assert jobs.credentials(store, job.id) == ("robot$harbor", "s3cret-Pa55word-xyz")
    jobs.claim(store, job.id)
    jobs.finish(store, job.id, None, {})
    assert jobs.credentials(store, job.id) == ("", "")  # erased when the job ended
    monkeypatch.setenv(jobs.KEY_ENV, "not a key")
    with pytest.raises(UsageError, match="not a Fernet key"):
        jobs.submit(store, jobs.JobSpec(reference=REF, nonce="x", username="u", password="p"), Broker())


def test_bad_specs_refused() -> None:
    from hullscan.errors import UsageError
    from hullscan.service import jobs

    with pytest.raises(UsageError, match="needs a target"):
        jobs.JobSpec(kind="scan")
    with pytest.raises(UsageError, match="job kind"):
        jobs.JobSpec(kind="build", reference=REF)
    with pytest.raises(UsageError, match="scanners"):
        jobs.JobOptions(scanners=("vuln", "malware"))
    assert jobs.JobSpec(reference=REF).key == jobs.JobSpec(reference=REF).key != jobs.JobSpec(reference=REF, nonce="1").key


def test_a_rescan_job_runs_hullscan_rescan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rescan job is accepted and published, and the worker's body runs the rescan against $HULLSCAN_DB_URL
    (an empty store: nothing selected) and delivers what it notified."""
    import subprocess
    import sys

    from hullscan.service import jobs, worker
    from hullscan.state.store import open_state

    db = tmp_path / "vuln.db"
    repo = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "hullscan", "db", "import", str(repo / "examples" / "feeds"), "--db", str(db)],
                   check=True, capture_output=True, timeout=300)
    monkeypatch.setenv("HULLSCAN_DB_URL", str(db))
    broker = Broker()
    with open_state(str(tmp_path / "s.sqlite")) as st:
        job = jobs.submit(st, jobs.JobSpec(kind="rescan", nonce="1"), broker)
        assert broker.sent == [(job.id, "rescan")]
        claimed = jobs.claim(st, job.id)
        assert claimed is not None
        result, stats = worker._rescan(st, claimed, None)
    assert result is None
    assert stats["selected"] == 0 and stats["rematched"] == 0 and stats["delivered"] == 0 and stats["generation"] > 0


def test_archive_targets_stay_in_the_blob_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_module("celery")
    from hullscan.errors import HullscanError
    from hullscan.service import jobs, worker

    def job(reference: str, kind: str = "archive") -> jobs.Job:
        return jobs.Job(id="j", kind="scan", key="k", target_kind=kind, reference=reference,
                        options=jobs.JobOptions(), status="running", attempts=1, error=None, result=None, stats=None,
                        created_at=0.0, updated_at=0.0, published_at=None)

    assert worker._target(job("127.0.0.1:5000/a:1", "registry")) == "registry:127.0.0.1:5000/a:1"
    assert worker._target(job("registry:h/a@sha256:" + "0" * 64, "registry")) == "registry:h/a@sha256:" + "0" * 64
    monkeypatch.delenv(worker.BLOB_DIR_ENV, raising=False)
    with pytest.raises(HullscanError, match=worker.BLOB_DIR_ENV):
        worker._target(job("uploads/x.tar"))
    monkeypatch.setenv(worker.BLOB_DIR_ENV, str(tmp_path))
    assert worker._target(job("uploads/x.tar")) == str(tmp_path / "uploads" / "x.tar")
    for escape in ("../x.tar", "/etc/passwd", "uploads/../../x.tar"):
        with pytest.raises(HullscanError, match="outside"):
            worker._target(job(escape))
