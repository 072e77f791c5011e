"""The per-layer cache through the CLI: warm scans walk nothing, shared base layers are walked once,
tampered blobs are refused, --no-cache / --cache-dir / `cache clean`, concurrent scans."""

from __future__ import annotations

import subprocess

from builders import docker_archive, f, layer, oci_image
from imagehelp import HULLSCAN, run_cli, scan_json


def _base():
    return layer([f("etc/os-release", "ID=debian\nVERSION_ID=12\n"), f("usr/share/base.txt", "base")])


def _app(n: int):
    return layer([f(f"opt/app{n}/main.py", f"print({n})\n")])


def test_warm_scan_walks_nothing(tmp_path):
    target = oci_image(tmp_path / "oci", [_base(), _app(1)])
    cache = tmp_path / "cache"
    cold = scan_json(target, cache=cache)
    assert cold.code == 0, cold.stderr
    assert cold.report["stats"]["walked"] == 2 and cold.report["stats"]["cached"] == 0
    assert (cache / "layers.db").exists()
    warm = scan_json(target, cache=cache)
    assert warm.code == 0, warm.stderr
    assert warm.report["stats"]["walked"] == 0 and warm.report["stats"]["cached"] == 2
    for key in ("os", "packages", "layers", "warnings", "history"):
        assert warm.report[key] == cold.report[key]


def test_shared_base_layer_is_walked_once(tmp_path):
    cache = tmp_path / "cache"
    one = oci_image(tmp_path / "one", [_base(), _app(1)])
    two = docker_archive(tmp_path / "two.tar", [_base(), _app(2)])  # other format, same base diff_id
    assert scan_json(one, cache=cache).report["stats"]["walked"] == 2
    run = scan_json(two, cache=cache)
    assert run.code == 0, run.stderr
    assert run.report["stats"] == {**run.report["stats"], "walked": 1, "cached": 1}
    assert run.report["os"]["version"] == "12"


def test_tampered_blob_after_caching_is_refused(tmp_path):
    cache = tmp_path / "cache"
    target = oci_image(tmp_path / "oci", [layer([f("etc/os-release", "ID=debian\nVERSION_ID=12\n")], compression="")])
    assert scan_json(target, cache=cache).code == 0
    blob = max((target / "blobs/sha256").iterdir(), key=lambda p: p.stat().st_size)  # the layer
    data = bytearray(blob.read_bytes())
    i = data.index(b"VERSION_ID=12")
    data[i + 11 : i + 13] = b"99"  # same size
    blob.write_bytes(bytes(data))
    run = scan_json(target, cache=cache)
    assert run.code == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "digest" in run.stderr and "Traceback" not in run.stderr


def test_tampered_docker_archive_layer_after_caching_is_refused(tmp_path):
    """docker save records no blob digest: the cache must still notice the blob changed."""
    cache = tmp_path / "cache"
    good = layer([f("etc/os-release", "ID=debian\nVERSION_ID=12\n")], compression="")
    evil = layer([f("etc/os-release", "ID=debian\nVERSION_ID=99\n")], compression="")
    assert len(good.tar) == len(evil.tar)
    target = docker_archive(tmp_path / "d.tar", [good])
    assert scan_json(target, cache=cache).code == 0
    raw = target.read_bytes()
    target.write_bytes(raw.replace(good.tar, evil.tar))
    run = scan_json(target, cache=cache)
    assert run.code == 2, (run.stderr, run.stdout[:300])
    assert "diff_id" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_no_cache_and_default_location(tmp_path):
    target = oci_image(tmp_path / "oci", [_base()])
    xdg = tmp_path / "xdg"
    env = {"XDG_CACHE_HOME": str(xdg)}
    args = ["image", str(target), "--format", "json", "--quiet", "--scanners", "license"]
    run = run_cli(*args, "--no-cache", env=env)
    assert run.code == 0 and run.report["stats"]["walked"] == 1
    assert not (xdg / "hullscan").exists()
    run = run_cli(*args, "--no-cache", env=env)
    assert run.report["stats"]["walked"] == 1
    run = run_cli(*args, env=env)
    assert run.code == 0 and (xdg / "hullscan" / "layers.db").exists()
    assert run_cli(*args, env=env).report["stats"]["walked"] == 0


def test_cache_clean(tmp_path):
    cache = tmp_path / "cache"
    target = oci_image(tmp_path / "oci", [_base()])
    scan_json(target, cache=cache)
    run = run_cli("cache", "clean", "--cache-dir", str(cache))
    assert run.code == 0, run.stderr
    assert not (cache / "layers.db").exists()
    assert scan_json(target, cache=cache).report["stats"]["walked"] == 1


def test_unusable_cache_is_a_warning(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "layers.db").write_bytes(b"this is not a sqlite file" * 100)
    run = scan_json(oci_image(tmp_path / "oci", [_base()]), cache=cache)
    assert run.code == 0, run.stderr
    assert any("cache" in w["message"] for w in run.report["warnings"])
    assert run.report["os"]["version"] == "12"


def test_concurrent_scans_share_a_cache(tmp_path):
    cache = tmp_path / "cache"
    targets = [oci_image(tmp_path / f"oci{i}", [_base(), _app(i)]) for i in range(4)]
    procs = [
        subprocess.Popen([*HULLSCAN, "image", str(t), "--format", "json", "--quiet", "--scanners", "license",
                          "--cache-dir", str(cache)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for t in targets
    ]
    import json

    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert json.loads(out)["os"]["version"] == "12"
    for t in targets:  # every layer of every image is cached now
        assert scan_json(t, cache=cache).report["stats"]["walked"] == 0


def test_lying_diff_id_is_not_served_from_cache(tmp_path):
    """Image B's config claims the diff_id of a layer cached from image A, but B's blob differs:
    the cache must not vouch for it (its blob was never verified), and the walk refuses it."""
    cache = tmp_path / "cache"
    honest = layer([f("etc/os-release", "ID=debian\nVERSION_ID=12\n")])
    assert scan_json(oci_image(tmp_path / "a", [honest]), cache=cache).code == 0
    evil = layer([f("etc/os-release", "ID=evil\nVERSION_ID=66\n")])
    import builders

    cfg = builders.config_doc([honest])  # diff_ids of the honest layer
    run = scan_json(oci_image(tmp_path / "b", [evil], config=cfg), cache=cache)
    assert run.code == 2, run.stdout[:400]
    assert "diff_id" in run.stderr


def test_cache_dir_that_cannot_be_created_is_a_warning(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    run = scan_json(oci_image(tmp_path / "oci", [_base()]), cache=blocker / "sub")
    assert run.code == 0, run.stderr
    assert any("cache" in w["message"] for w in run.report["warnings"])
