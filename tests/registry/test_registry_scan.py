"""`hullscan registry scan`: catalog and tags of a real registry, one JSON report per image (same
content as `hullscan image` on that image), a shared layer fetched and analyzed once, filters,
per-image failures reported without stopping the others."""

from __future__ import annotations

import json

SCANNERS = ("--scanners", "license")


def test_registry_scan_selected_repos(open_registry, images, hullscan, tmp_path):
    out = tmp_path / "reports"
    base = images.app.layer_digests[0]
    assert images.app2.layer_digests[0] == base  # app and app2 share their base layer

    def base_gets() -> int:
        return sum(1 for m, p, s in open_registry.access_log() if m == "GET" and p.endswith(f"/blobs/{base}"))

    before = base_gets()
    run = hullscan("registry", "scan", open_registry.host, "--repo", "test/app*", "--output-dir", str(out),
                   "--parallel", "2", *SCANNERS)
    assert run.code == 0, run.stderr
    assert base_gets() - before == 1  # three images hold it; fetched and analyzed once
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.json"))
    assert files == ["summary.json", "test/app-v2s2/1.0.json", "test/app/1.0.json", "test/app2/1.0.json"]
    for name in ("test/app/1.0.json", "test/app-v2s2/1.0.json"):
        rep = json.loads((out / name).read_text())
        assert sorted((p["name"], p["version"]) for p in rep["packages"] if p["type"] == "deb") == images.dpkg_expected
        assert [ln["diff_id"] for ln in rep["layers"]] == images.app.diff_ids
    app = json.loads((out / "test/app/1.0.json").read_text())
    assert app["target"]["manifest_digest"] == images.app.manifest_digest
    app2 = json.loads((out / "test/app2/1.0.json").read_text())
    assert app2["target"]["manifest_digest"] == images.app2.manifest_digest
    assert [ln["diff_id"] for ln in app2["layers"]] == images.app2.diff_ids
    # the same image scanned alone gives the same packages
    single = hullscan("image", f"{open_registry.host}/test/app2:1.0", *SCANNERS, "--format", "json", "-q", "--no-cache")
    assert sorted(p["purl"] for p in single.report["packages"]) == sorted(p["purl"] for p in app2["packages"])
    summary = json.loads((out / "summary.json").read_text())
    assert [i["reference"] for i in summary["images"]] == [f"{open_registry.host}/{n}"
                                                           for n in ("test/app:1.0", "test/app-v2s2:1.0", "test/app2:1.0")]
    assert sum(i["walked"] for i in summary["images"]) == 3  # base once + two distinct top layers
    for ref in ("test/app:1.0", "test/app2:1.0", "test/app-v2s2:1.0"):
        assert ref in run.stdout


def test_registry_scan_tags_and_failures(open_registry, hullscan, tmp_path):
    out = tmp_path / "r"
    tagged = hullscan("registry", "scan", open_registry.host, "--tag", "3.*", "--output-dir", str(out), *SCANNERS, "-q")
    assert tagged.code == 0, tagged.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.json")) == ["summary.json", "test/alpine/3.10.json"]

    everything = hullscan("registry", "scan", open_registry.host, "--output-dir", str(tmp_path / "all"), *SCANNERS, "-q")
    assert everything.code == 2  # test/old:1 is schema 1; the others are still scanned
    summary = json.loads((tmp_path / "all/summary.json").read_text())
    by_ref = {i["reference"].split("/", 1)[1]: i for i in summary["images"]}
    assert set(by_ref) == {"test/alpine:3.10", "test/app:1.0", "test/app-v2s2:1.0", "test/app2:1.0", "test/multi:1", "test/old:1"}
    assert "schema 1" in by_ref["test/old:1"]["error"] and by_ref["test/old:1"]["exit_code"] == 2
    assert all(not i["error"] for r, i in by_ref.items() if r != "test/old:1")
    assert not (tmp_path / "all/test/old/1.json").exists()


def test_registry_scan_behind_token_auth(token_registry, images, hullscan, tmp_path):
    """The catalog needs the `registry:catalog:*` scope, which the token server grants to users only."""
    from registry_support import PASSWORD, USER

    anon = hullscan("registry", "scan", token_registry.host, "--output-dir", str(tmp_path / "a"), *SCANNERS, "-q")
    assert anon.code == 3
    assert token_registry.host in anon.stderr and "anonymous" in anon.stderr
    run = hullscan("registry", "scan", token_registry.host, "--output-dir", str(tmp_path / "u"), *SCANNERS, "-q",
                   "--username", USER, "--password-stdin", stdin=PASSWORD)
    assert run.code == 0, run.stderr
    rep = json.loads((tmp_path / "u/test/app/1.0.json").read_text())
    assert rep["target"]["manifest_digest"] == images.app.manifest_digest
    assert any(r["scope"] == ["registry:catalog:*"] and r["auth"] == "Basic" for r in token_registry.token.requests)
    for tok in token_registry.token.issued:
        assert tok not in run.stdout + run.stderr + anon.stderr


def test_catalog_and_tags_follow_link_pagination(open_registry, monkeypatch):
    """Pages of 2 (`?n=2`): the registry's `Link: <…>; rel="next"` headers are followed to the end."""
    from hullscan.image import registry as registry_mod

    monkeypatch.setattr(registry_mod, "LIST_PAGE", 2)
    client = registry_mod.connect(open_registry.host)
    try:
        before = len(open_registry.access_log())
        repos = registry_mod.list_repositories(client)
        tags = registry_mod.list_tags(client, "test/app")
    finally:
        client.close()
    assert repos == ["test/alpine", "test/app", "test/app-v2s2", "test/app2", "test/multi", "test/old"]
    assert tags == ["1.0"]
    catalog_gets = [p for m, p, s in open_registry.access_log()[before:] if p.startswith("/v2/_catalog")]
    assert len(catalog_gets) >= 3 and any("last=" in p for p in catalog_gets)
