"""Base identification in scans (base/identify.py) and `inherited` on every package and finding, on real
images built here from hand-written layers: two catalogued bases (a "minbase" and "plus" = minbase plus a
layer), an app on each, an app on a rebuilt "newer tag" of minbase (catalogued or not), a squashed image,
a multi-stage result whose final stage starts from plus, and images with a true and a lying base
annotation. The catalog is filled with `hullscan base add`; every expectation comes from how the test
built each layer (which layer wrote which package, file or secret), never from hullscan.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from builders import Layer, OCILayout, docker_archive, f, layer  # noqa: E402
from imagehelp import example_db, validate_report  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]
OS_RELEASE = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
              'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')
# ten packages of "minbase"; the rebuilt newer tag upgrades exactly one of them (9/10 = 0.9 kept)
MINBASE = [(f"libmin{i}", f"1.{i}-1") for i in range(9)] + [("zlib1g", "1:1.2.13.dfsg-1")]
NEWER = [*MINBASE[:9], ("zlib1g", "1:1.2.13.dfsg-1+deb12u1")]
PLUS_EXTRA = [("curl", "7.88.1-10+deb12u5"), ("libcurl4", "7.88.1-10+deb12u5"), ("ca-certificates", "20230311")]
APP_DEB = ("jq", "1.6-2.1")
DJANGO = "Metadata-Version: 2.1\nName: Django\nVersion: 2.2\nLicense: BSD-3-Clause\n"
DJANGO_DIR = "usr/lib/python3/dist-packages/Django-2.2.dist-info/METADATA"
SECRET = "GITHUB_TOKEN=ghp_" + "q7Wm2Zx9Kp4Lr8Tn3Vb6Yc1Hd5Jf0Gs2Ae7U"  # a github-pat rule match: 36 alnum


def status(pkgs: list[tuple[str, str]]) -> str:
    return "".join(f"Package: {n}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
                   f"Version: {v}\n\n" for n, v in pkgs)


def os_layer(pkgs: list[tuple[str, str]], debian_version: str, created_by: str) -> Layer:
    return layer([f("etc/os-release", OS_RELEASE), f("etc/debian_version", debian_version),
                  f("var/lib/dpkg/status", status(pkgs)), f("etc/base.env", SECRET + "\n")], created_by=created_by)


@dataclass
class Built:
    target: str
    manifest_digest: str = ""


@dataclass
class World:
    minbase: Built
    plus: Built  # a docker save (no manifest digest)
    plus_oci: Built  # the same image as an OCI layout, with its manifest digest
    newer: Built
    app_min: Built  # [l0, app layer: jq in dpkg status, Django, a secret]
    app_plus: Built  # [l0, l1, app layer: a plain file]
    app_newer: Built  # [l0', app layer: Django]
    squashed: Built  # one layer: plus's files and app_plus's
    multistage: Built  # [l0, l1, COPY --from=build]; its history's CMD would put the split after l0
    lying: Built  # app_min's layers, annotated as built on plus
    truthful: Built  # app_plus's layers, annotated as built on plus (by plus's manifest digest)
    rootfs: Built  # dir: of app_min's files
    db: Path


def _oci(root: Path, layers: list[Layer], ref: str, annotations: dict[str, str] | None = None, **kw: Any) -> Built:
    lay = OCILayout(root)
    desc = lay.image(layers, annotations=annotations, **kw)
    lay.add(desc, tag=ref)
    lay.save()
    return Built(f"oci:{root}", desc["digest"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("identify")
    l0 = os_layer(MINBASE, "12.5\n", "ADD minbase.tar /")
    l1 = layer([f("var/lib/dpkg/status", status(MINBASE + PLUS_EXTRA)), f("usr/bin/curl", b"\x7fELF"),
                f(DJANGO_DIR, DJANGO)], created_by="RUN apt-get install curl && pip install django==2.2")
    l0_new = os_layer(NEWER, "12.6\n", "ADD minbase-12.6.tar /")
    app_min_layer = layer([f("var/lib/dpkg/status", status([*MINBASE, APP_DEB])), f("usr/bin/jq", b"\x7fELF"),
                           f(DJANGO_DIR, DJANGO), f("app/.env", SECRET + "\n")], created_by="RUN apt-get install jq")
    app_plus_layer = layer([f("app/main.py", "print('hi')\n")], created_by="COPY main.py /app/")
    app_newer_layer = layer([f(DJANGO_DIR, DJANGO)], created_by="RUN pip install django==2.2")
    squashed = layer([f("etc/os-release", OS_RELEASE), f("etc/debian_version", "12.5\n"),
                      f("var/lib/dpkg/status", status(MINBASE + PLUS_EXTRA)), f("usr/bin/curl", b"\x7fELF"),
                      f(DJANGO_DIR, DJANGO), f("etc/base.env", SECRET + "\n"), f("app/main.py", "print('hi')\n")],
                     created_by="squashed")
    built_bin = layer([f("usr/local/bin/tool", b"\x7fELF built")], created_by="COPY --from=build /out/tool /usr/local/bin/")
    # the final stage's history as a builder records it, with a CMD after the first layer: the history
    # heuristic would call one layer the base; the catalog knows plus has two
    ms_history = [{"created_by": "ADD minbase.tar /"}, {"created_by": "CMD [\"bash\"]", "empty_layer": True},
                  {"created_by": l1.created_by}, {"created_by": built_bin.created_by}]
    plus_tar = docker_archive(root / "plus.tar", [l0, l1], tags=("example/plus:12",))
    minbase = _oci(root / "minbase", [l0], "example/minbase:12")
    plus_oci = _oci(root / "plus-oci", [l0, l1], "example/plus:12")  # the same image as plus.tar, with a digest
    rootfs = root / "rootfs"
    for name, data in (("etc/os-release", OS_RELEASE), ("var/lib/dpkg/status", status([*MINBASE, APP_DEB])),
                       (DJANGO_DIR, DJANGO)):
        (rootfs / name).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / name).write_text(data)
    base_ann = {"org.opencontainers.image.base.name": "example/plus:12",
                "org.opencontainers.image.base.digest": plus_oci.manifest_digest}
    return World(
        minbase=minbase,
        plus=Built(f"docker-archive:{plus_tar}"),
        plus_oci=plus_oci,
        newer=_oci(root / "newer", [l0_new], "example/minbase:12.6"),
        app_min=_oci(root / "app-min", [l0, app_min_layer], "app/min:1"),
        app_plus=_oci(root / "app-plus", [l0, l1, app_plus_layer], "app/plus:1"),
        app_newer=_oci(root / "app-newer", [l0_new, app_newer_layer], "app/newer:1"),
        squashed=_oci(root / "squashed", [squashed], "app/squashed:1"),
        multistage=_oci(root / "multistage", [l0, l1, built_bin], "app/ms:1", history=ms_history),
        lying=_oci(root / "lying", [l0, app_min_layer], "app/lying:1", annotations=base_ann),
        truthful=_oci(root / "truthful", [l0, l1, app_plus_layer], "app/truthful:1", annotations=base_ann),
        rootfs=Built(f"dir:{rootfs}"),
        db=example_db(root / "vuln.db"),
    )


@pytest.fixture
def hs(tmp_path: Path):
    """`hullscan ARGS` with its own state store (XDG_DATA_HOME) and layer cache."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("HULLSCAN_STATE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, env=env, timeout=300)
        assert "Traceback" not in p.stderr, p.stderr
        return p

    return run


def _catalog(hs, *targets: str) -> None:
    p = hs("base", "add", *targets)
    assert p.returncode == 0, p.stderr


def _scan(hs, world: World, target: str, *extra: str) -> dict[str, Any]:
    p = hs("image", target, "--format", "json", "--quiet", "--scanners", "vuln,secret", "--db", str(world.db), *extra)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    validate_report(doc)
    return doc


def _inherited(doc: dict[str, Any]) -> dict[tuple[str, str], bool | None]:
    return {(p["name"], p["version"]): p["inherited"] for p in doc["packages"]}


def _expect(pkgs: list[tuple[str, str]], value: bool | None) -> dict[tuple[str, str], bool | None]:
    return dict.fromkeys(pkgs, value)


def _findings(doc: dict[str, Any]) -> dict[tuple[str, str], set[bool | None]]:
    """(kind, where) -> the `inherited` values of its findings: Django's vulnerabilities, secrets by path."""
    out: dict[tuple[str, str], set[bool | None]] = {}
    for v in doc["vulnerabilities"]:
        out.setdefault(("vuln", v["package"]["name"]), set()).add(v["inherited"])
    for s in doc["secrets"]:
        out.setdefault(("secret", s["path"]), set()).add(s["inherited"])
    return out


def test_catalogued_prefix_splits_each_app(hs, world: World) -> None:
    _catalog(hs, world.minbase.target, world.plus.target)
    doc = _scan(hs, world, world.app_min.target)
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"], base["provisional"]) == ("catalog", "example/minbase:12", 1, False)
    assert base["created"] == "2024-01-02T03:04:05Z" and isinstance(base["catalog_id"], int)
    assert base["digest"] == world.minbase.manifest_digest and base["mismatch"] == "" and base["similarity"] is None
    # l0 wrote MINBASE; the app layer rewrote the dpkg status adding jq, and installed Django
    assert _inherited(doc) == {**_expect(MINBASE, True), APP_DEB: False, ("django", "2.2"): False}
    assert _findings(doc) == {("vuln", "django"): {False}, ("secret", "/etc/base.env"): {True},
                              ("secret", "/app/.env"): {False}}
    assert [ly["base"] for ly in doc["layers"]] == [True, False]

    doc = _scan(hs, world, world.app_plus.target)
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"]) == ("catalog", "example/plus:12", 2)
    assert _inherited(doc) == {**_expect(MINBASE + PLUS_EXTRA, True), ("django", "2.2"): True}
    assert _findings(doc) == {("vuln", "django"): {True}, ("secret", "/etc/base.env"): {True}}
    # inherited findings wait for a new base: no "app layer" bonus in their risk
    risk = [v["risk"]["reason"] for v in doc["vulnerabilities"]]
    assert risk and all("base layer" in r and "app layer" not in r for r in risk)


def test_newer_tag_similar_until_catalogued(hs, world: World) -> None:
    _catalog(hs, world.minbase.target, world.plus.target)
    doc = _scan(hs, world, world.app_newer.target)
    base = doc["base_image"]
    # no catalogued prefix (a rebuilt rootfs layer); 9 of minbase's 10 packages at their versions, 9 of plus's 13
    assert (base["method"], base["name"], base["layer_count"]) == ("similar", "example/minbase:12", None)
    assert base["similarity"] == pytest.approx(0.9)
    assert set(_inherited(doc).values()) == {None}, "a similar base marks nothing inherited"
    assert _findings(doc) == {("vuln", "django"): {None}, ("secret", "/etc/base.env"): {None}}
    assert all(ly["base"] is None for ly in doc["layers"])

    _catalog(hs, world.newer.target)  # the generation changes: a cached result must not be served
    doc = _scan(hs, world, world.app_newer.target)
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"]) == ("catalog", "example/minbase:12.6", 1)
    assert _inherited(doc) == {**_expect(NEWER, True), ("django", "2.2"): False}


def test_squashed_image_is_similar_to_the_larger_base(hs, world: World) -> None:
    _catalog(hs, world.minbase.target, world.plus.target)
    doc = _scan(hs, world, world.squashed.target)
    base = doc["base_image"]
    # it holds all of minbase's and all of plus's packages: the larger base is the better answer
    assert (base["method"], base["name"], base["similarity"], base["layer_count"]) == ("similar", "example/plus:12", 1.0, None)
    assert set(_inherited(doc).values()) == {None}
    risk = [v["risk"]["reason"] for v in doc["vulnerabilities"]]
    assert risk and all("app layer" not in r and "base layer" not in r for r in risk)


def test_multistage_final_stage_by_catalog_not_history(hs, world: World) -> None:
    doc = _scan(hs, world, world.multistage.target)  # empty catalog: the history heuristic (CMD after l0)
    assert (doc["base_image"]["method"], doc["base_image"]["layer_count"]) == ("history", 1)
    assert doc["base_image"]["provisional"] is True
    _catalog(hs, world.minbase.target, world.plus.target)
    doc = _scan(hs, world, world.multistage.target)
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"], base["provisional"]) == ("catalog", "example/plus:12", 2, False)
    assert _inherited(doc) == {**_expect(MINBASE + PLUS_EXTRA, True), ("django", "2.2"): True}


def test_base_annotation_verified_or_refused(hs, world: World) -> None:
    _catalog(hs, world.minbase.target, world.plus_oci.target)
    doc = _scan(hs, world, world.truthful.target)
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"], base["provisional"]) == ("annotation", "example/plus:12", 2, False)
    assert base["digest"] == world.plus_oci.manifest_digest and base["mismatch"] == ""

    doc = _scan(hs, world, world.lying.target)
    base = doc["base_image"]
    # it claims plus, whose two layers are not its bottom two: refused, and the catalog's prefix decides
    assert (base["method"], base["name"], base["layer_count"]) == ("catalog", "example/minbase:12", 1)
    assert "example/plus:12" in base["mismatch"]
    assert any("not trusted" in w["message"] for w in doc["warnings"])
    assert _inherited(doc) == {**_expect(MINBASE, True), APP_DEB: False, ("django", "2.2"): False}


def test_no_catalog_and_no_layers(hs, world: World) -> None:
    doc = _scan(hs, world, world.app_min.target)
    base = doc["base_image"]
    assert (base["method"], base["layer_count"], base["name"]) == ("none", None, "")
    assert set(_inherited(doc).values()) == {None}
    p = hs("fs", world.rootfs.target.removeprefix("dir:"), "--format", "json", "--quiet", "--scanners", "license")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    validate_report(doc)
    assert doc["base_image"]["method"] == "not_applicable" and doc["base_image"]["layer_count"] is None
    assert doc["packages"] and set(_inherited(doc).values()) == {None}


def test_result_cache_follows_the_catalog(hs, world: World) -> None:
    """A warm scan is served from the result cache only while the catalog is unchanged."""
    first = _scan(hs, world, world.app_min.target)
    assert first["base_image"]["method"] == "none"
    again = _scan(hs, world, world.app_min.target)
    assert again["stats"].get("result_cached") is True, "the second scan is a warm one"
    _catalog(hs, world.minbase.target)
    after = _scan(hs, world, world.app_min.target)
    assert not after["stats"].get("result_cached")
    assert (after["base_image"]["method"], after["base_image"]["layer_count"]) == ("catalog", 1)


def test_json_round_trip_and_older_reports(hs, world: World) -> None:
    from hullscan.report.json_report import to_dict
    from hullscan.report.load import load_report

    _catalog(hs, world.minbase.target)
    doc = _scan(hs, world, world.app_min.target)
    assert to_dict(load_report(doc)) == doc
    # a schema-1.2 report has no `inherited`: its layer's `base` meant the same there
    for item in (*doc["packages"], *doc["vulnerabilities"], *doc["secrets"]):
        del item["inherited"]
    report = load_report(doc)
    assert {(p.name, p.inherited) for p in report.packages} == {(n, True) for n, _ in MINBASE} | {("jq", False),
                                                                                                  ("django", False)}
    assert {(s.path, s.inherited) for s in report.secrets} == {("/etc/base.env", True), ("/app/.env", False)}
    assert {f.inherited for f in report.vulnerabilities} == {False}


def test_unreadable_catalog_is_a_warning(hs, world: World, tmp_path: Path) -> None:
    store = tmp_path / "data" / "hullscan" / "state.sqlite"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"not a database" * 100)
    doc = _scan(hs, world, world.multistage.target)
    assert any("base image catalog not read" in w["message"] and str(store) in w["message"] for w in doc["warnings"])
    assert (doc["base_image"]["method"], doc["base_image"]["layer_count"]) == ("history", 1)
    again = _scan(hs, world, world.multistage.target)
    assert not again["stats"].get("result_cached"), "a result identified without the catalog is not cached"


def _similar_ranking(url: str, schema: str | None = None) -> None:
    """`Catalog.similar`'s one query against bases written here, the expected order worked out by hand."""
    from hullscan.state.catalog import open_catalog
    from hullscan.state.edit import NewBase, PackageRow, add
    from hullscan.state.store import open_state

    def row(name: str, arch: str = "amd64") -> PackageRow:
        return PackageRow("deb", "Debian:12", name, "1.0", arch, name, "1.0", f"pkg:deb/debian/{name}@1.0?arch={arch}")

    four = tuple(row(f"a{i}") for i in range(1, 5))
    spec = [  # name, os_id, os_version, packages
        ("a", "debian", "12.5", (*four, row("a5"))),  # 4 of 5 held: 0.8
        ("b", "debian", "12.5", four),                # 4 of 4: 1.0, 4 rows
        ("c", "debian", "12.6", (*four, row("a1", "i386"))),  # 4 of 4 distinct, 5 rows (multi-arch): the larger
        ("d", "debian", "12", four),                  # as b, added later
        ("e", "debian", "13", four),                  # another release
        ("f", "debian", "12.5", ()),                  # no packages: never ranked
        ("g", "debian", "121", four),                 # not a point release of 12
        ("h", "alpine", "3.19.1", four),
    ]
    bases = [NewBase(name=f"example/{n}", tags=("1",), manifest_digest="sha256:" + f"{i:064x}",
                     config_digest="sha256:" + f"{i + 100:064x}", os="linux", architecture="amd64", variant="",
                     created=None, os_id=os_id, os_version=ver, os_release=ver.split(".")[0],
                     diff_ids=("sha256:" + f"{i + 200:064x}",), packages=pkgs)
             for i, (n, os_id, ver, pkgs) in enumerate(spec)]
    kw = {"schema": schema} if schema else {}
    with open_state(url, **kw) as store:
        add(store, bases)
    held = {("Debian:12", f"a{i}", "1.0") for i in range(1, 5)} | {("Debian:12", "x", "1.0"), ("PyPI", "a5", "1.0")}
    with open_catalog(url, **kw) as cat:
        got = [(o.entry.name, o.shared, o.total) for o in cat.similar("debian", "12", held, limit=10)]
        assert got == [("example/c", 4, 4), ("example/b", 4, 4), ("example/d", 4, 4), ("example/a", 4, 5)]
        assert [o.entry.name for o in cat.similar("debian", "12", held)] == ["example/c"]
        assert [o.entry.name for o in cat.similar("debian", "", held, limit=10)] == [
            "example/c", "example/b", "example/d", "example/e", "example/g", "example/a"]
        assert cat.similar("debian", "11", held) == [] and cat.similar("rhel", "9", held) == []
        nothing = cat.similar("debian", "12.5", set(), limit=10)
        assert [(o.entry.name, o.shared, o.share) for o in nothing] == [
            ("example/a", 0, 0.0), ("example/b", 0, 0.0), ("example/d", 0, 0.0)]  # 12.5 and 12, not 12.6; a: 5 rows
        assert cat.similar("debian", "12", {("Debian:12", "a1\x1f", "1.0")}, limit=1)[0].shared == 0


def test_similar_ranking_sqlite(tmp_path: Path) -> None:
    _similar_ranking(str(tmp_path / "state.sqlite"))


@pytest.mark.postgres
def test_similar_ranking_postgres(pg_schema: tuple[str, str]) -> None:
    _similar_ranking(*pg_schema)
