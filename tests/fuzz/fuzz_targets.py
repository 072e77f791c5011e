"""Every parse entry point of hullscan as a fuzz target: `run(data: bytes)` feeds one input to the real
entry point and returns when the contract held; anything that escapes is a crash. Shared by the
hypothesis tests (tests/fuzz/test_*.py) and the long run (bench/fuzz.py).

The contract (docs/fuzzing.md): an entry point lets only the project's own errors
escape (`hullscan.errors.HullscanError` subclasses; the tar reader's `TarError`, which the walker
turns into a layer error) — never another exception. Analyzers follow walk/analyzer.py: a parser may
raise (`parse_guarded` turns that into a warning), but its fact must be plain JSON (the layer cache
stores it), and `assemble` over what the parser returned must not raise: the applier's guard would
keep the scan alive, but drop every package of that analyzer in the whole image for one hostile file.

Seeds are the real samples of the other tests' testdata directories (their PROVENANCE files say
where each comes from); nothing outside the repository is read.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hullscan.errors import HullscanError
from hullscan.image.tarstream import FileTarReader, TarError, TarReader

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
MAX_SEED = 16 * 1024
"""Samples above this are left out: the mutators' work grows with the input, and small files reach
the same code."""
SEEDS_PER_TARGET = 12


class Violation(AssertionError):
    """The entry point returned, but broke its contract (a fact the cache cannot store, an ordering
    that is not one)."""


@dataclass(frozen=True)
class Target:
    name: str
    """`stage:what`, e.g. `analyzer:dpkg:/var/lib/dpkg/status`, `feed:osv`, `version:deb`."""
    stage: str
    """analyzers, tar, image, sbom, config, feeds, versions."""
    kind: str
    """What structured inputs to build: json, yaml, xml, text, tar or bytes."""
    run: Callable[[bytes], None]
    seed_fn: Callable[[], list[bytes]]
    known: str = ""
    """Non-empty for a known crash in another owner's area: `owner: <area>` (the test is xfail, not strict)."""

    @functools.cached_property
    def seeds(self) -> tuple[bytes, ...]:
        return tuple(self.seed_fn()[:SEEDS_PER_TARGET])

    @functools.cached_property
    def keys(self) -> tuple[str, ...]:
        """Mapping keys of the JSON/YAML seeds: structured inputs use the format's real vocabulary."""
        from fuzz_mutate import collect_keys

        found: set[str] = set()
        for seed in self.seeds:
            doc = decode_tree(seed, self.kind)
            if doc is not None:
                collect_keys(doc, found)
        return tuple(sorted(found))


def decode_tree(data: bytes, kind: str) -> Any:
    """A JSON/YAML seed as a tree (None for other kinds or unreadable seeds)."""
    try:
        if kind == "json":
            return json.loads(data)
        if kind == "yaml":  # dates and the like as text: trees must survive json.dumps
            return json.loads(json.dumps(yaml.safe_load(data), default=str))
    except (ValueError, yaml.YAMLError, RecursionError):
        return None
    return None


# ------------------------------------------------------------------ samples


@functools.cache
def _sample_files() -> tuple[Path, ...]:
    roots = [p for name in ("testdata", "fixtures") for p in TESTS.rglob(name)
             if p.is_dir() and "node_modules" not in p.parts and "fuzz" not in p.parts]
    files = set()
    for root in roots:
        for p in root.rglob("*"):
            if p.is_file() and not p.is_symlink() and p.stat().st_size <= 64 * MAX_SEED and not p.name.endswith((".tar.gz", ".tgz")):
                files.add(p)
    return tuple(sorted(files))


def _read(p: Path) -> bytes:
    data = p.read_bytes()
    if p.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            pass
    return data[:MAX_SEED]


def _logical(p: Path) -> str:
    """The file's name without a `.gz` its testdata added."""
    return str(p)[:-3] if p.name.endswith(".gz") else str(p)


def samples(test: Callable[[str, bytes], bool]) -> list[bytes]:
    """Seeds: sample files for which `test(path, data)` holds, smallest first (diverse, cheap)."""
    out = []
    for p in _sample_files():
        data = _read(p)
        if test(_logical(p), data):
            out.append(data)
    out.sort(key=len)
    # a spread over sizes rather than only the smallest ones
    if len(out) > SEEDS_PER_TARGET:
        step = len(out) / SEEDS_PER_TARGET
        out = [out[int(i * step)] for i in range(SEEDS_PER_TARGET)]
    return out


def _named(*suffixes: str, contains: str = "") -> Callable[[str, bytes], bool]:
    return lambda path, data: path.endswith(suffixes) and contains in path


# ------------------------------------------------------------------ analyzers


@functools.cache
def _analyzers() -> dict[str, Any]:
    from hullscan.inventory.registry import all_analyzers

    return {an.name: an for an in all_analyzers()}


def example_path(rule: Any) -> tuple[str, int]:
    """A path (and mode) the rule covers, as the walker would hand it over."""
    cands: list[tuple[str, int]] = []
    cands += [(p, 0o644) for p in rule.paths]
    cands += [(f"/srv/app/{n}", 0o644) for n in rule.names]
    for g in rule.globs:
        p = g.replace("**/", "srv/").replace("/**", "/lib").replace("@*", "@scope").replace("?*", "pkg").replace("*", "pkg")
        p = p.replace("?", "x")
        cands.append(("/" + p.lstrip("/"), 0o644))
    cands += [(f"/srv/app/lib.{e}", 0o644) for e in rule.extensions]
    cands += [(f"{p}tool", 0o755) for p in rule.prefixes]
    if rule.executable:
        cands.append(("/usr/local/bin/tool", 0o755))
    for path, mode in cands:
        if rule.covers(path, max(rule.min_size, 1), mode):
            return path, mode
    raise AssertionError(f"no example path for rule {rule}")


def _analyzer_run(an_name: str, rule_index: int) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        from hullscan.model.inventory import LayerRef
        from hullscan.walk.analyzer import AnalyzerView, FileFact, parse_guarded

        an = _analyzers()[an_name]
        rule = an.files[rule_index]
        path, mode = example_path(rule)
        if not rule.admits(path, path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else "", len(data)):
            return  # the walker would not hand this size to the rule
        if len(data) > an.max_size:
            return
        fact, _warnings = parse_guarded(an, rule, path, data)
        try:
            json.dumps(fact)
        except (TypeError, ValueError) as err:
            raise Violation(f"{an_name}: the fact of {path} is not plain JSON: {err}") from None
        files = {} if fact is None else {path: FileFact(path=path, layer=0, fact=fact)}
        layers = [LayerRef(index=0, diff_id="sha256:" + "0" * 64)]
        view = AnalyzerView(files=files, layers=layers, history=list(files.values()) if an.wants_history else [])
        an.assemble(view)  # anything raised here is the crash

    return run


def _analyzer_seeds(an_name: str, rule_index: int) -> Callable[[], list[bytes]]:
    def seeds() -> list[bytes]:
        an = _analyzers()[an_name]
        rule = an.files[rule_index]

        def covered(path: str, data: bytes) -> bool:
            if an_name == "secret":
                return "/secrets/testdata/" in path
            parts = path.split("/")
            for i in range(len(parts) - 1, 0, -1):  # every suffix of the sample's path, as an image path
                cand = "/" + "/".join(parts[i:])
                if an.rule_for(cand, max(len(data), 1), 0o755) is rule:
                    return True
            return False

        found = samples(covered) or _own_analyzer_seeds(example_path(rule)[0])
        if not found:  # no sample under this rule's path: the same file name elsewhere (a pom for a repo pom)
            base = example_path(rule)[0].rsplit("/", 1)[-1]
            ext = base.rsplit(".", 1)[-1]
            found = samples(lambda p, d: p.endswith("/" + base)) or samples(lambda p, d: "." in base and p.endswith("." + ext))
        return found

    return seeds


def _own_analyzer_seeds(path: str) -> list[bytes]:
    """Files no testdata holds, written here after what dpkg and setuptools produce."""
    if path.endswith(".list"):  # dpkg's file list of a package
        return [b"/.\n/usr\n/usr/bin\n/usr/bin/tar\n/usr/share/doc/tar/copyright\n"]
    if path.endswith(".egg"):  # a zipped egg: EGG-INFO/PKG-INFO inside
        import zipfile

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("EGG-INFO/PKG-INFO", "Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n")
            zf.writestr("six.py", "# six\n")
        return [buf.getvalue()]
    return []


def analyzer_targets() -> list[Target]:
    out = []
    for name, an in _analyzers().items():
        for i, rule in enumerate(an.files):
            path, _ = example_path(rule)
            kind = _kind_of(path)
            out.append(Target(f"analyzer:{name}:{path}", "analyzers", kind, _analyzer_run(name, i), _analyzer_seeds(name, i)))
    return out


def _kind_of(path: str) -> str:
    if path.endswith((".json", ".lock")) and not path.endswith(("yarn.lock", "Cargo.lock", "Gemfile.lock", "poetry.lock",
                                                                 "uv.lock", "pdm.lock", "bun.lock")):
        return "json"
    if path.endswith((".yaml", ".yml")):
        return "yaml"
    if path.endswith((".xml", ".pom", ".props", "packages.config")):
        return "xml"
    if path.endswith((".jar", ".war", ".ear", ".par", ".hpi", ".jpi", ".egg", "rpmdb.sqlite", "Packages.db", "Packages")) \
            or path.startswith("/usr/local/bin") or "/bin/" in path:
        return "bytes"
    return "text"


# ------------------------------------------------------------------ tar reader


def _tar(fmt: int, members: list[tuple[str, bytes | str | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if content is None:
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            elif isinstance(content, str):
                info.type = tarfile.SYMTYPE if not content.startswith("=") else tarfile.LNKTYPE
                info.linkname = content.lstrip("=")
                tf.addfile(info)
            else:
                info.size = len(content)
                tf.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def tar_seeds() -> list[bytes]:
    """Small real tars in each dialect the reader handles: ustar, GNU long names, PAX records."""
    long = "usr/share/" + "d" * 120 + "/file.txt"
    members: list[tuple[str, bytes | str | None]] = [
        ("etc/", None), ("etc/os-release", b"ID=debian\nVERSION_ID=12\n"), ("bin/sh", "busybox"),
        ("bin/ash", "=bin/sh"), ("etc/.wh.passwd", b""), (long, b"x" * 700),
    ]
    return [
        _tar(tarfile.USTAR_FORMAT, members[:5]),
        _tar(tarfile.GNU_FORMAT, members),
        _tar(tarfile.PAX_FORMAT, [*members, ("srv/caf\u00e9/\u00fc.txt", b"pax\n")]),
    ]


def _tar_run(data: bytes) -> None:
    for reader in (TarReader(iter([data[:700], data[700:1500], data[1500:]])), FileTarReader(io.BytesIO(data), len(data))):
        try:
            for i, m in enumerate(reader.members()):
                if not isinstance(m.name, str) or m.size < 0 or not 0 <= m.mode <= 0o7777:
                    raise Violation(f"bad member {m!r}")
                if i % 2 == 0 and not isinstance(reader, FileTarReader):
                    reader.read(1024)
        except TarError:
            pass


def _walker_run(data: bytes) -> None:
    """A layer tar through the real walker with every analyzer: a broken tar is a layer error
    (TarError → the walker's message), a hostile member a warning."""
    from hullscan.image.model import Layer
    from hullscan.walk.walker import walk_tar_layer

    layer = Layer(index=0, digest="", size=len(data), media_type="application/vnd.oci.image.layer.v1.tar",
                  diff_id="sha256:" + hashlib.sha256(data).hexdigest(), opener=lambda: io.BytesIO(data))
    try:
        walk_tar_layer(layer, list(_analyzers().values()))
    except (TarError, HullscanError):
        pass


def tar_targets() -> list[Target]:
    return [
        Target("tar:reader", "tar", "tar", _tar_run, tar_seeds),
        Target("tar:walker", "tar", "tar", _walker_run, tar_seeds),
    ]


# ------------------------------------------------------------------ image documents

OCI_SAMPLE = TESTS / "image" / "testdata" / "oci-layout-sample"


@functools.cache
def _oci_blobs() -> dict[str, bytes]:
    return {f"sha256:{p.name}": p.read_bytes() for p in (OCI_SAMPLE / "blobs" / "sha256").iterdir()}


def _json_blobs(kind: str) -> list[bytes]:
    out = []
    for data in _oci_blobs().values():
        try:
            doc = json.loads(data)
        except ValueError:
            continue
        if (kind == "manifest") == ("layers" in doc):
            out.append(data)
    return out


def _layout_run(index: bytes, extra: dict[str, bytes]) -> None:
    from hullscan.image.model import Platform
    from hullscan.image.oci_layout import _Store, open_layout

    blobs = {**_oci_blobs(), **extra}

    def read(rel: str) -> bytes:
        from hullscan.errors import InputError

        key = "sha256:" + rel.rsplit("/", 1)[-1]
        if key not in blobs:
            raise InputError(f"missing {rel}")
        return blobs[key]

    store = _Store("fuzz", read, lambda rel: io.BytesIO(read(rel)), lambda rel: len(read(rel)), lambda rel: None)
    for kwargs in ({}, {"tag": "0.0.1"}, {"platform": Platform("linux", "amd64")}):
        try:
            image = open_layout(store, index, input_ref="fuzz", source_type="oci", **kwargs)  # type: ignore[arg-type]
            for layer in image.layers:
                assert isinstance(layer.digest, str) and isinstance(layer.diff_id, str)
        except HullscanError:
            pass


def _index_for(digest: str, size: int) -> bytes:
    return json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size,
        "annotations": {"org.opencontainers.image.ref.name": "0.0.1"},
    }]}).encode()


def _oci_manifest_run(data: bytes) -> None:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _layout_run(_index_for(digest, len(data)), {digest: data})


def _oci_config_run(data: bytes) -> None:
    cfg_digest = "sha256:" + hashlib.sha256(data).hexdigest()
    manifest = json.loads(_json_blobs("manifest")[0])
    manifest["config"]["digest"] = cfg_digest
    mdata = json.dumps(manifest).encode()
    mdigest = "sha256:" + hashlib.sha256(mdata).hexdigest()
    _layout_run(_index_for(mdigest, len(mdata)), {cfg_digest: data, mdigest: mdata})


def _config_run(data: bytes) -> None:
    from hullscan.image.manifest import layer_created_by, parse_config

    try:
        cfg = parse_config(data, "config")
        layer_created_by(cfg)
    except HullscanError:
        pass


def _docker_archive_run(data: bytes) -> None:
    """A docker-archive whose manifest.json is the input (config and layer are the sample's)."""
    config = _json_blobs("config")[0]
    _archive_run(_tar(tarfile.USTAR_FORMAT, [
        ("manifest.json", data), ("config.json", config), ("layer.tar", tar_seeds()[0]),
    ]))


def _archive_run(data: bytes) -> None:
    """A whole image archive (docker-archive or OCI archive), sniffed as a bare path target is."""
    from hullscan.image.docker_archive import open_docker_archive
    from hullscan.image.oci_layout import open_oci_archive
    from hullscan.image.target import _sniff_archive

    with tempfile.TemporaryDirectory(prefix="hullscan-fuzz-") as tmp:
        path = os.path.join(tmp, "image.tar")
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            kind = _sniff_archive(path)
            opener = open_oci_archive if kind == "oci-archive" else open_docker_archive
            image = opener(path, input_ref=path)
            for close in image.closers:
                close()
        except HullscanError:
            pass


def archive_seeds() -> list[bytes]:
    blobs = _oci_blobs()
    layout: list[tuple[str, bytes | str | None]] = [
        ("oci-layout", (OCI_SAMPLE / "oci-layout").read_bytes()), ("index.json", (OCI_SAMPLE / "index.json").read_bytes()),
        *((f"blobs/sha256/{d.split(':')[1]}", b) for d, b in sorted(blobs.items())),
    ]
    docker = [("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": ["layer.tar"]}]).encode()),
              ("config.json", _json_blobs("config")[0]), ("layer.tar", tar_seeds()[0])]
    return [_tar(tarfile.USTAR_FORMAT, docker), _tar(tarfile.USTAR_FORMAT, layout)]


def docker_manifest_seeds() -> list[bytes]:
    return [
        json.dumps([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": ["layer.tar"]}]).encode(),
        json.dumps([{"Config": "config.json", "RepoTags": None, "Layers": ["layer.tar"]}]).encode(),
    ]


def image_targets() -> list[Target]:
    return [
        Target("image:oci-index", "image", "json", lambda d: _layout_run(d, {}),
               lambda: [(OCI_SAMPLE / "index.json").read_bytes()]),
        Target("image:oci-manifest", "image", "json", _oci_manifest_run, lambda: _json_blobs("manifest")),
        Target("image:oci-config", "image", "json", _oci_config_run, lambda: _json_blobs("config")),
        Target("image:config", "image", "json", _config_run, lambda: _json_blobs("config")),
        Target("image:docker-manifest", "image", "json", _docker_archive_run, docker_manifest_seeds),
        Target("image:archive", "image", "tar", _archive_run, archive_seeds),
    ]


# ------------------------------------------------------------------ SBOM in


def _sbom_run(data: bytes) -> None:
    from hullscan.sbom_in import load_sbom

    with tempfile.TemporaryDirectory(prefix="hullscan-fuzz-") as tmp:
        path = os.path.join(tmp, "sbom")
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            load_sbom(path)
        except HullscanError:
            pass


def _sbom_seeds(fmt: str) -> Callable[[], list[bytes]]:
    def test(path: str, data: bytes) -> bool:
        head = data[:4096]
        if fmt == "cyclonedx-json":
            return path.endswith(".json") and b'"bomFormat"' in head and b"CycloneDX" in head
        if fmt == "cyclonedx-xml":
            return path.endswith(".xml") and b"cyclonedx.org/schema/bom" in head
        if fmt == "spdx-json":
            return path.endswith(".json") and b'"spdxVersion"' in head
        return b"SPDXVersion:" in head

    return lambda: samples(test) or _own_sbom_seeds(fmt)


def _own_sbom_seeds(fmt: str) -> list[bytes]:
    """Minimal documents for a format no testdata file holds (written from the specs' examples)."""
    if fmt == "spdx-tv":
        return [b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\n"
                b"Creator: Tool: syft-1.18.1\n\nPackageName: musl\nSPDXID: SPDXRef-Package-musl\nPackageVersion: 1.2.4-r2\n"
                b"ExternalRef: PACKAGE-MANAGER purl pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19\n"
                b"PackageLicenseDeclared: MIT\nRelationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package-musl\n"]
    return []


def sbom_targets() -> list[Target]:
    return [
        Target(f"sbom:{fmt}", "sbom", kind, _sbom_run, _sbom_seeds(fmt))
        for fmt, kind in (("cyclonedx-json", "json"), ("cyclonedx-xml", "xml"), ("spdx-json", "json"), ("spdx-tv", "text"))
    ]


# ------------------------------------------------------------------ user-written configs


def _file_run(filename: str, load: Callable[[str], object]) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        with tempfile.TemporaryDirectory(prefix="hullscan-fuzz-") as tmp:
            path = os.path.join(tmp, filename)
            with open(path, "wb") as fh:
                fh.write(data)
            try:
                load(path)
            except HullscanError:
                pass

    return run


def _policy(path: str) -> None:
    from hullscan.policy.load import load_policy

    load_policy(path)


def _trivyignore(path: str) -> None:
    from hullscan.policy.load import load_trivyignore

    load_trivyignore(path)


def _vex(path: str) -> None:
    from hullscan.policy.vex import load_vex

    load_vex(path)


def _secret_config(path: str) -> None:
    from hullscan.secrets.rules import build_ruleset, load_config

    build_ruleset(load_config(path))


POLICY_SEED = b"""version: 1
fail_on:
  severity: high
  ids: [CVE-2024-3651]
  kev: true
exceptions:
  - id: CVE-2023-1234
    package: idna
    justification: not reachable from our code
    expires: 2030-01-31
licenses:
  deny: [GPL-2.0-only, "AGPL-3.0-or-later"]
settings:
  warn_expiring_within_days: 14
"""
TRIVYIGNORE_SEED = b"# accepted until the upstream fix\nCVE-2023-1234 exp:2030-01-31\nCVE-2022-0001\nGHSA-xxxx-yyyy-zzzz\n"
TRIVYIGNORE_YAML_SEED = b"""vulnerabilities:
  - id: CVE-2022-40897
    paths:
      - "usr/local/lib/python3.9/site-packages/setuptools-58.1.0.dist-info/METADATA"
    statement: Accept the risk
  - id: CVE-2023-2650
  - id: CVE-2023-3446
    purls:
      - "pkg:deb/debian/libssl1.1"
    expired_at: 2030-01-01
misconfigurations:
  - id: AVD-DS-0001
  - id: AVD-DS-0002
    paths:
      - "docs/Dockerfile"
    statement: The image is used for testing only
secrets:
  - id: aws-access-key-id
  - id: aws-secret-access-key
    paths:
      - "foo/bar/aws.secret"
licenses:
  - id: GPL-3.0
    paths:
      - "usr/share/gcc/python/libstdcxx/v6/printers.py"
"""
OPENVEX_SEED = b"""{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "me",
 "timestamp": "2024-01-01T00:00:00Z", "version": 1, "statements": [{"vulnerability": {"name": "CVE-2023-1234"},
 "products": [{"@id": "pkg:pypi/idna@3.6", "subcomponents": [{"@id": "pkg:pypi/idna@3.6"}]}],
 "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}"""
CDX_VEX_SEED = b"""{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
 "components": [{"bom-ref": "pkg:npm/lodash@4.17.20", "type": "library", "name": "lodash", "version": "4.17.20",
 "purl": "pkg:npm/lodash@4.17.20", "components": [{"bom-ref": "c2", "name": "x", "purl": "pkg:npm/x@1"}]}],
 "vulnerabilities": [{"id": "CVE-2021-23337", "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
 "affects": [{"ref": "pkg:npm/lodash@4.17.20"}, {"ref": "c2"}]}]}"""
CSAF_SEED = b"""{"document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "x", "tracking": {"id": "1"}},
 "product_tree": {"branches": [{"category": "vendor", "name": "v", "branches": [{"category": "product_version",
 "name": "idna 3.6", "product": {"product_id": "P1", "name": "idna", "product_identification_helper":
 {"purl": "pkg:pypi/idna@3.6"}}}]}], "full_product_names": [{"product_id": "P2", "name": "n",
 "product_identification_helper": {"purl": "pkg:pypi/x@1"}}]},
 "vulnerabilities": [{"cve": "CVE-2023-1234", "product_status": {"known_not_affected": ["P1", "P2"], "fixed": ["P1"]},
 "flags": [{"label": "vulnerable_code_not_in_execute_path", "product_ids": ["P1"]}]}]}"""


def config_targets() -> list[Target]:
    secret_cfgs = lambda: samples(lambda p, d: "/secrets/testdata/" in p and p.endswith(".yaml"))  # noqa: E731
    return [
        Target("config:policy", "config", "yaml", _file_run("policy.yaml", _policy), lambda: [POLICY_SEED]),
        Target("config:trivyignore", "config", "text", _file_run(".trivyignore", _trivyignore), lambda: [TRIVYIGNORE_SEED]),
        Target("config:trivyignore-yaml", "config", "yaml", _file_run(".trivyignore.yaml", _trivyignore),
               lambda: [TRIVYIGNORE_YAML_SEED]),
        Target("config:vex", "config", "json", _file_run("vex.json", _vex), lambda: [OPENVEX_SEED, CDX_VEX_SEED, CSAF_SEED]),
        Target("config:secret-config", "config", "yaml", _file_run("secret.yaml", _secret_config), secret_cfgs),
    ]


# ------------------------------------------------------------------ feed importers

# --format name -> (a member name the importer reads, the decoded kind, which sample files are seeds)
_FEEDS: dict[str, tuple[str, str, Callable[[str, bytes], bool]]] = {
    "osv": ("osv/GHSA-fuzz.json", "json", lambda p, d: "/osv-" in p and p.endswith(".json")),
    "nvd": ("nvd/nvdcve-2.0-fuzz.json", "json", lambda p, d: "/nvd" in p.lower() and p.endswith(".json")),
    "kev": ("kev/known_exploited_vulnerabilities.json", "json", lambda p, d: "/kev/" in p and p.endswith(".json")),
    "epss": ("epss/epss_scores-current.csv", "text", lambda p, d: "epss" in p and p.endswith(".csv")),
    "debian-json": ("debian/json", "json", lambda p, d: "debian" in p and p.endswith(".json")),
    "debian-list": ("data/DSA/list", "text", lambda p, d: "debian-tracker" in p and p.endswith("/list")),
    "alpine": ("v3.19/main.yaml", "yaml", lambda p, d: "alpine-secdb" in p and p.endswith(".yaml")),
    "wolfi": ("wolfi/security.json", "json", lambda p, d: "wolfi" in p and p.endswith(".json")),
    "rustsec": ("crates/fuzz/RUSTSEC-2021-0001.md", "text", lambda p, d: "rustsec" in p and p.endswith(".md")),
    "rubysec": ("gems/fuzz/CVE-2021-0001.yml", "yaml", lambda p, d: "ruby-advisory" in p or "rubysec" in p),
    "redhat-csaf": ("redhat/csaf/cve-2023-0001.json", "json", lambda p, d: "/redhat/csaf/" in p),
    "redhat-repo-cpe": ("redhat/repository-to-cpe.json", "json", lambda p, d: p.endswith("/repository-to-cpe.json")),
    "endoflife": ("eol/debian.json", "json", lambda p, d: "/eol/" in p and p.endswith(".json")),
    "amazon": ("amazon/updateinfo.xml", "xml", lambda p, d: "/amazon/updateinfo" in p),
    "oracle-oval": ("oracle/com.oracle.elsa-all.xml", "xml", lambda p, d: "/oracle/vunnel-" in p and p.endswith(".xml")),
}


# The NVD 2.0 API's record shape (https://nvd.nist.gov/developers/vulnerabilities, its example response), cut down.
NVD_SEED = b"""{"resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "format": "NVD_CVE", "version": "2.0",
 "timestamp": "2024-01-01T00:00:00.000", "vulnerabilities": [{"cve": {"id": "CVE-2021-44228",
 "sourceIdentifier": "security@apache.org", "published": "2021-12-10T10:15:09.143", "lastModified": "2023-11-07T03:39:36.747",
 "vulnStatus": "Analyzed", "descriptions": [{"lang": "en", "value": "Apache Log4j2 JNDI features ..."}],
 "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "3.1",
 "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "baseScore": 10.0, "baseSeverity": "CRITICAL"}}],
 "cvssMetricV2": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "2.0",
 "vectorString": "AV:N/AC:M/Au:N/C:C/I:C/A:C", "baseScore": 9.3}}]},
 "weaknesses": [{"source": "nvd@nist.gov", "type": "Primary", "description": [{"lang": "en", "value": "CWE-917"}]}],
 "configurations": [{"nodes": [{"operator": "OR", "negate": false, "cpeMatch": [{"vulnerable": true,
 "criteria": "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*", "versionStartIncluding": "2.0.1", "versionEndExcluding": "2.3.1",
 "matchCriteriaId": "03FA5E81-F9C0-403E-8A4B-E4284E4E7B72"}]}]}],
 "references": [{"url": "https://logging.apache.org/log4j/2.x/security.html", "source": "security@apache.org"}]}}]}"""


def _kev_seeds() -> list[bytes]:
    """The CISA catalog of tests/vulndb/testdata/kev, cut to its first records (the whole is too big a seed)."""
    doc = json.loads((TESTS / "vulndb" / "testdata" / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    doc["vulnerabilities"] = doc["vulnerabilities"][:4]
    return [json.dumps(doc).encode()]


def _feed_run(fmt: str | None, name: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        from hullscan.vulndb.feeds import ImportContext
        from hullscan.vulndb.importer import ImportSummary, _one

        ctx = ImportContext()
        _one(name, data, ctx, fmt, ImportSummary())  # catches what a bad document may raise; the rest is a crash
        for batch in ctx.batches.values():
            for adv in batch.advisories.values():
                if not isinstance(adv.id, str) or not adv.id:
                    raise Violation(f"{fmt}: advisory without an id: {adv!r}"[:300])

    return run


def feed_targets() -> list[Target]:
    out = []
    for fmt, (name, kind, test) in _FEEDS.items():
        seeds = {"nvd": lambda: [NVD_SEED], "kev": _kev_seeds}.get(fmt, functools.partial(samples, test))
        out.append(Target(f"feed:{fmt}", "feeds", kind, _feed_run(fmt, name), seeds))
        out.append(Target(f"feed:{fmt}:detect", "feeds", kind, _feed_run(None, name), seeds))
    return out


# ------------------------------------------------------------------ versions

SCHEMES = ("deb", "rpm", "apk", "pep440", "semver", "npm", "golang", "maven", "gem", "nuget", "composer", "cran",
           "pacman", "portage", "jvm", "bitnami", "kb", "fuzzy", "pub", "hackage", "cargo")
_VERSION_LISTS = {
    "deb": "debian", "rpm": "redhat", "apk": "alpine", "pep440": "pypi", "semver": "semver", "npm": "semver",
    "golang": "semver", "maven": "maven", "gem": "rubygems", "nuget": "nuget", "composer": "packagist",
    "cran": "cran", "pub": "pub", "hackage": "hackage", "cargo": "semver", "bitnami": "semver",
}


def check_versions(scheme_name: str, versions: list[str], constraint: str) -> None:
    """The scheme's contract on a few versions: key/compare/valid never raise, compare is
    antisymmetric and reflexive, sorting by it is consistent (transitivity on the sample),
    `satisfies` raises at most ValueError (an unreadable constraint), OSV ranges never raise."""
    from hullscan.versions import get_scheme
    from hullscan.versions.osv import affected

    scheme = get_scheme(scheme_name)
    for v in versions:
        scheme.key(v)
        if not isinstance(scheme.valid(v), bool):
            raise Violation(f"{scheme_name}.valid({v!r}) is not a bool")
    ordered = [v for v in versions if scheme.valid(v)]
    for a in ordered:
        if scheme.compare(a, a) != 0:
            raise Violation(f"{scheme_name}: compare({a!r}, itself) != 0")
        for b in ordered:
            ab, ba = scheme.compare(a, b), scheme.compare(b, a)
            if ab not in (-1, 0, 1) or ab != -ba:
                raise Violation(f"{scheme_name}: compare({a!r}, {b!r}) = {ab} but compare(b, a) = {ba}")
    ranked = sorted(ordered, key=functools.cmp_to_key(scheme.compare))
    for i, a in enumerate(ranked):
        for b in ranked[i + 1 :]:
            if scheme.compare(a, b) > 0:
                raise Violation(f"{scheme_name}: not transitive on {ranked!r}: {a!r} sorts before {b!r} yet compares greater")
    if versions:
        v = versions[0]
        for dialect in ("cmp", "native"):
            try:
                scheme.satisfies(v, constraint, dialect)
            except ValueError:
                pass
        rest = [*versions[1:], "0", "1"]
        ranges = [{"type": "ECOSYSTEM", "events": [{"introduced": rest[0]}, {"fixed": rest[1]}, {"limit": constraint}]},
                  {"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": rest[0]}]}]
        affected(v, ranges, [rest[1]], scheme)


def _version_run(scheme_name: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        parts = data.decode("utf-8", "surrogateescape").split("\n")
        versions, constraint = parts[:4], (parts[4] if len(parts) > 4 else ">= " + parts[-1])
        check_versions(scheme_name, versions, constraint)

    return run


@functools.cache
def version_samples(scheme_name: str) -> tuple[str, ...]:
    """Real version strings of the ecosystem (tests/versions/testdata/osv-scalibr/*-versions.txt)."""
    stem = _VERSION_LISTS.get(scheme_name)
    if stem is None:
        return ("1.0", "1.0.0", "2:1.2-3", "1.2.3-r4", "v1.2.3-pre+b", "1.0~rc1", "KB5034441")
    path = TESTS / "versions" / "testdata" / "osv-scalibr" / f"{stem}-versions.txt"
    lines = [ln.strip() for ln in path.read_text("utf-8", "replace").splitlines()]
    return tuple(ln for ln in lines if ln and not ln.startswith("#"))[:400]


def _version_seeds(scheme_name: str) -> Callable[[], list[bytes]]:
    def seeds() -> list[bytes]:
        vs = version_samples(scheme_name)
        step = max(1, len(vs) // (SEEDS_PER_TARGET * 4))
        picked = vs[::step]
        return ["\n".join(picked[i : i + 4] + (">= " + picked[i],)).encode() for i in range(0, len(picked) - 4, 4)]

    return seeds


def version_targets() -> list[Target]:
    return [Target(f"version:{s}", "versions", "text", _version_run(s), _version_seeds(s)) for s in SCHEMES]


# ------------------------------------------------------------------ the table


@functools.cache
def all_targets() -> tuple[Target, ...]:
    targets = [*analyzer_targets(), *tar_targets(), *image_targets(), *sbom_targets(), *config_targets(),
               *feed_targets(), *version_targets()]
    known = known_crashes()
    return tuple(Target(t.name, t.stage, t.kind, t.run, t.seed_fn, known.get(t.name, "")) for t in targets)


def known_crashes() -> dict[str, str]:
    """Targets whose fuzz test still finds a crash in an area another helper owns (issue 20 is being
    fixed there now): the exact reproducers are in test_regressions.py. Remove a line once fixed."""
    return {}


def by_stage(stage: str) -> list[Target]:
    return [t for t in all_targets() if t.stage == stage]
