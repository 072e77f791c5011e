"""End to end: the labelled corpus as a real 4-layer docker-archive (tar layers with whiteouts, the
corpus config as the image config), scanned by the `hullscan image` CLI. Every labelled secret is
reported with its layer and the layer that deleted it; config findings land in misconfigurations;
no output format (json, sarif, html, table, junit) carries a labelled secret in clear."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest


def _image_builders():
    """tests/image/builders.py by path, under its own module name (no sys.path change that could
    make another directory's `conftest` or helper shadow the right one)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "image" / "builders.py"
    spec = importlib.util.spec_from_file_location("hullscan_test_image_builders", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve their module by name
    spec.loader.exec_module(mod)
    return mod


_B = _image_builders()
config_doc, docker_archive, f, layer, wh = _B.config_doc, _B.docker_archive, _B.f, _B.layer, _B.wh

CORPUS = Path(__file__).resolve().parent / "corpus"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    whiteouts = json.loads((CORPUS / "whiteouts.json").read_text())
    layers = []
    for i in range(4):
        root = CORPUS / "layers" / str(i)
        entries = [wh(p.lstrip("/")) for p in whiteouts.get(str(i), [])]
        entries += [f(p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]
        layers.append(layer(entries, compression="gzip"))
    cfg = json.loads((CORPUS / "config.json").read_text())
    doc = config_doc(layers, config=cfg["config"], history=cfg["history"])
    return docker_archive(tmp_path_factory.mktemp("img") / "corpus.tar", layers, config=doc)


def _hullscan(*args: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([sys.executable, "-m", "hullscan", *args], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def _labelled_secrets() -> list[str]:
    """A 10-char slice from the middle of each planted value (the most varied 12+ char token of
    each labelled line), for leak checks."""
    out = []
    labels = json.loads((CORPUS / "labels.json").read_text())["files"]
    for lab in labels:
        for layer_dir in sorted((CORPUS / "layers").iterdir()):
            p = layer_dir / lab["path"].lstrip("/")
            if p.is_file():
                line = p.read_text().splitlines()[lab["line"] - 1]
                tokens = re.findall(r"[A-Za-z0-9+/_~-]{12,}", line)
                if tokens:
                    t = max(tokens, key=lambda x: (any(c.isdigit() for c in x), len(set(x))))
                    out.append(t[len(t) // 2 - 5 : len(t) // 2 + 5])
                break
    return out


def test_image_scan_reports_every_layer_and_deleted_file(archive: Path) -> None:
    p = _hullscan("image", f"docker-archive:{archive}", "--scanners", "secret,config", "--format", "json",
                  "--no-cache", "--quiet")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    labels = json.loads((CORPUS / "labels.json").read_text())
    got = {
        (s["path"], s["line"]["start"], s["category"], (s["layer"] or {}).get("index"), (s["removed_in"] or {}).get("index"))
        for s in report["secrets"]
    }
    want = {(d["path"], d["line"], d["category"], d["layer"], d["removed_in"]) for d in labels["files"]}
    want |= {(d["path"], d["line"], d["category"], d["layer"], None) for d in labels["config"] if d["class"] == "secret"}
    assert got == want
    ids = {(m["rule_id"], m["path"]) for m in report["misconfigurations"]}
    assert ids >= {(d["rule_id"], d["path"]) for d in labels["config"] if d["class"] == "config"}


@pytest.mark.parametrize("fmt", ["json", "sarif", "html", "table", "junit"])
def test_no_format_leaks_a_secret(archive: Path, fmt: str) -> None:
    p = _hullscan("image", f"docker-archive:{archive}", "--scanners", "secret", "--format", fmt, "--no-cache", "--quiet")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) > 200
    planted = _labelled_secrets()
    assert len(planted) >= 130
    leaked = [s for s in planted if s in p.stdout or s in p.stderr]
    assert leaked == []


def test_trivy_secret_config_on_image(archive: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "trivy-secret.yaml"
    cfg.write_text("disable-rules:\n  - github-pat\n  - private-key\n")
    p = _hullscan("image", f"docker-archive:{archive}", "--scanners", "secret", "--format", "json", "--no-cache",
                  "--quiet", "--secret-config", str(cfg))
    assert p.returncode == 0, p.stderr
    rules = {s["rule_id"] for s in json.loads(p.stdout)["secrets"]}
    assert "github-pat" not in rules and "private-key" not in rules and "aws-access-key-id" in rules
