"""A proxy in front of the real registry injects 429s (with Retry-After), 5xx and cut blob
transfers: transient faults are retried (bounded, Retry-After honoured and clamped) or resumed with a
Range request, and the result is the same as a clean pull; persistent ones end in exit 3 with one line
naming the registry and the repository. The registry client and the feed downloader wait alike."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import pytest
from regserver import Fault

from hullscan import http
from hullscan.image.registry_client import RegistryClient
from hullscan.vulndb.download import Downloader

SCAN = ("--scanners", "license", "--format", "json", "-q", "--no-cache")


def _packages(report: dict) -> list:
    return sorted((p["name"], p["version"]) for p in report["packages"])


def test_retry_after_and_5xx_are_retried(proxy, images, hullscan):
    big = images.app.layer_digests[0]
    proxy.faults += [
        Fault("/manifests/1.0", status=429, retry_after="1", times=2),
        Fault(f"/blobs/{big}", status=500, times=1),
        Fault(f"/blobs/{big}", status=503, times=1),
    ]
    started = time.monotonic()
    run = hullscan("image", f"{proxy.host}/test/app:1.0", *SCAN)
    elapsed = time.monotonic() - started
    assert run.code == 0, run.stderr
    assert run.report["target"]["manifest_digest"] == images.app.manifest_digest
    assert [ln["diff_id"] for ln in run.report["layers"]] == images.app.diff_ids
    assert elapsed >= 2.0  # two Retry-After: 1 waits
    manifest_statuses = [s for m, p, s in proxy.requests if p.endswith("/manifests/1.0")]
    assert manifest_statuses == [429, 429, 200]
    blob_statuses = [s for m, p, s in proxy.requests if p.endswith(big)]
    assert blob_statuses == [500, 503, 200]


def test_cut_blob_is_resumed(proxy, images, hullscan, open_registry):
    clean = hullscan("image", f"{open_registry.host}/test/app:1.0", *SCAN)
    big = images.app.layer_digests[0]
    proxy.faults.append(Fault(f"/blobs/{big}", truncate_at=200, times=2))
    run = hullscan("image", f"{proxy.host}/test/app:1.0", *SCAN)
    assert run.code == 0, run.stderr
    assert _packages(run.report) == _packages(clean.report)
    assert [ln["diff_id"] for ln in run.report["layers"]] == images.app.diff_ids
    statuses = [s for m, p, s in proxy.requests if m == "GET" and p.endswith(big)]
    assert statuses == [200, 206, 206]  # cut, resumed with Range and cut again, resumed to the end


def test_persistent_failures_exit_3(proxy, images, hullscan, monkeypatch: pytest.MonkeyPatch):
    big = images.app.layer_digests[0]
    proxy.faults.append(Fault(f"/blobs/{big}", status=503, times=100))
    run = hullscan("image", f"{proxy.host}/test/app:1.0", *SCAN)
    assert run.code == 3
    line = run.stderr.strip()
    assert len(line.splitlines()) == 1
    assert proxy.host in line and "test/app" in line and "503" in line
    assert len([p for p in proxy.blob_gets() if p.endswith(big)]) == 5  # bounded

    proxy.faults[:] = [Fault(f"/blobs/{big}", truncate_at=100, times=100)]
    cut = hullscan("image", f"{proxy.host}/test/app:1.0", *SCAN)
    assert cut.code == 3
    assert "cut" in cut.stderr and "test/app" in cut.stderr and proxy.host in cut.stderr

    # an hour asked for: each wait clamped to MAX_RETRY_AFTER, the attempts bounded, the hour named
    waits: list[float] = []
    monkeypatch.setattr(http, "pause", waits.append)
    proxy.faults[:] = [Fault("/manifests/1.0", status=429, retry_after="3600", times=100)]
    slow = hullscan("image", f"{proxy.host}/test/app:1.0", *SCAN)
    assert slow.code == 3 and "429" in slow.stderr and "3600" in slow.stderr and len(slow.stderr.strip().splitlines()) == 1
    assert waits == [http.MAX_RETRY_AFTER] * 4
    assert [s for m, p, s in proxy.requests if p.endswith("/manifests/1.0")][-5:] == [429] * 5


def test_unreachable_registry(hullscan):
    from regserver import free_port

    port = free_port()
    run = hullscan("image", f"127.0.0.1:{port}/test/app:1.0", *SCAN)
    assert run.code == 3
    assert f"127.0.0.1:{port}" in run.stderr and "test/app" in run.stderr and "cannot reach" in run.stderr


def test_tampered_documents_and_blobs(proxy, images, hullscan):
    """A manifest that does not hash to the announced digest is fetched again by that digest; a
    layer blob whose bytes were altered is refused (exit 2, digest or stream error), never scanned."""
    proxy.faults.append(Fault("/manifests/1.0", corrupt_at=40, times=1))
    run = hullscan("image", f"{proxy.host}/test/app:1.0", *SCAN)
    assert run.code == 0, run.stderr
    assert run.report["target"]["manifest_digest"] == images.app.manifest_digest
    assert any(p.endswith(f"/manifests/{images.app.manifest_digest}") for m, p, s in proxy.requests)

    top = images.app.layer_digests[1]
    proxy.faults[:] = [Fault(f"/blobs/{top}", corrupt_at=60, times=100)]
    bad = hullscan("image", f"{proxy.host}/test/app:1.0", *SCAN)
    assert bad.code == 2
    assert "layer 1" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_feeds_and_registries_wait_alike(proxy, tmp_path: Path):
    """One retry policy: the same Retry-After header (seconds, more than the maximum, an HTTP date)
    makes the feed downloader and the registry client wait the same time, from the same server."""
    for kind in ("seconds", "too long", "date"):
        header = {"seconds": "7", "too long": "3600"}.get(kind) or email.utils.formatdate(time.time() + 30, usegmt=True)
        waits: dict[str, list[float]] = {"feed": [], "registry": []}
        proxy.faults[:] = [Fault("/v2/", status=429, retry_after=header, times=1)]
        with Downloader(sleep=waits["feed"].append) as dl:
            assert dl.fetch(f"http://{proxy.host}/v2/", tmp_path / "v2.json").changed
        proxy.faults[:] = [Fault("/v2/", status=429, retry_after=header, times=1)]
        reg = RegistryClient(proxy.host, sleep=waits["registry"].append)
        try:
            reg.ping()  # GET /v2/
        finally:
            reg.close()
        (feed,), (registry,) = waits["feed"], waits["registry"]
        if kind == "date":  # 30 s away when sent, whole seconds: the two requests are moments apart
            assert 20 < registry <= feed <= 30 and feed - registry < 3, (feed, registry)
        else:
            assert feed == registry == {"seconds": 7.0, "too long": http.MAX_RETRY_AFTER}[kind], kind
