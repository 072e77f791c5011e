"""The labelled corpus (tests/secrets/corpus/, written by make_corpus.py, reviewed and committed):
a 4-layer image where credentials of every rule family sit in files — some deleted or replaced by
a later layer — and in the image config (Env, history, labels), beside near-miss negatives.

100% of the labels must be found with the right layer and removal layer, and nothing else.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hullscan.inventory.applier import analyze_files
from hullscan.secrets.analyzer import SecretAnalyzer
from hullscan.secrets.config_scan import scan_image_config
from testsupport import read_tree

CORPUS = Path(__file__).resolve().parent / "corpus"


def _layers() -> list[dict[str, bytes | None]]:
    whiteouts = json.loads((CORPUS / "whiteouts.json").read_text())
    layers: list[dict[str, bytes | None]] = []
    for index in range(4):
        d = CORPUS / "layers" / str(index)
        layer: dict[str, bytes | None] = dict(read_tree(d)) if d.is_dir() else {}
        for path in whiteouts.get(str(index), []):
            layer[path] = None
        layers.append(layer)
    return layers


def test_every_labelled_file_secret_found_in_its_layer() -> None:
    labels = json.loads((CORPUS / "labels.json").read_text())["files"]
    inv = analyze_files([SecretAnalyzer()], _layers())
    found = inv.facts.get("secret", [])
    got = Counter((f["path"], f["line"]["start"], f["category"], f["layer"], f["removed_in"]) for f in found)
    want = Counter((d["path"], d["line"], d["category"], d["layer"], d["removed_in"]) for d in labels)
    missed = want - got
    extra = got - want
    assert not missed, f"missed {len(missed)}/{sum(want.values())}: {sorted(missed)}"
    assert not extra, f"unexpected: {sorted(extra)}"
    # deleted and replaced files are reported, with where they went
    assert any(f["removed_in"] == 2 and f["path"] == "/root/.aws/credentials" for f in found)
    assert any(f["removed_in"] == 3 and f["path"] == "/app/payments/keys.py" for f in found)
    families = {d["category"] for d in labels}
    assert len(families) >= 45


def test_findings_are_masked_and_json_clean() -> None:
    layers = _layers()
    inv = analyze_files([SecretAnalyzer()], layers)
    blob = json.dumps(inv.facts["secret"])
    # no 12-char window of any labelled secret line's value survives into the output
    for layer in layers:
        for path, data in layer.items():
            if data is None:
                continue
            for f in inv.facts["secret"]:
                if f["path"] != path:
                    continue
                secret = data[f["offset"] :].split(b"\n", 1)[0][4:16]
                if len(secret) == 12:
                    assert secret.decode() not in blob, (path, f["match"])
    for f in inv.facts["secret"]:
        assert set(f) >= {"rule_id", "category", "severity", "title", "path", "line", "match",
                          "fingerprint", "layer", "removed_in", "source"}
        assert f["severity"] in {"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
        assert f["source"] == "file" and "****" in f["match"]


def test_fingerprints_stable_across_layers() -> None:
    """The same secret file rebuilt into another layer keeps its fingerprint (suppressions survive)."""
    layers = _layers()
    moved = [{}, {}, {}, {}, {p: d for p, d in layers[1].items() if d is not None}]
    a = {f["fingerprint"] for f in analyze_files([SecretAnalyzer()], layers[:2]).facts["secret"] if f["layer"] == 1}
    b = {f["fingerprint"] for f in analyze_files([SecretAnalyzer()], moved).facts["secret"]}
    assert a and a == b


def test_image_config_labels() -> None:
    labels = json.loads((CORPUS / "labels.json").read_text())["config"]
    config = json.loads((CORPUS / "config.json").read_text())
    found = scan_image_config(config)
    got_secrets = Counter(
        (f["path"], f["line"]["start"], f["category"], f["source"], f["layer"]) for f in found if f["class"] == "secret"
    )
    want_secrets = Counter(
        (d["path"], d["line"], d["category"], d["source"], d["layer"]) for d in labels if d["class"] == "secret"
    )
    assert got_secrets == want_secrets
    got_config = Counter((f["path"], f["rule_id"], f["layer"]) for f in found if f["class"] == "config")
    want_config = Counter((d["path"], d["rule_id"], d["layer"]) for d in labels if d["class"] == "config")
    assert got_config == want_config
    blob = json.dumps(found)
    env_token = next(e for e in config["config"]["Env"] if e.startswith("GITHUB_TOKEN="))
    assert env_token.split("=", 1)[1][4:] not in blob
    npm = config["history"][3]["created_by"].split("NPM_TOKEN=")[1].split()[0]
    assert npm[4:] not in blob


def test_config_user_and_checksum() -> None:
    base = {"config": {"User": "app"}, "history": [{"created_by": "ADD --checksum=sha256:abc https://x.io/a.tgz /a"}]}
    assert scan_image_config(base) == []
    assert [f["rule_id"] for f in scan_image_config({"config": {"User": "0:0"}})] == ["config-user-root"]
    assert scan_image_config("not a dict") == []  # type: ignore[arg-type]
