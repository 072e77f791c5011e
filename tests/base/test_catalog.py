"""The base image catalog: `hullscan base add/list/rm/export/import` on real images built in the test,
the read interface scans use (`open_catalog`), chain IDs checked against values computed here by hand,
bundles refused whole, concurrent writers, PostgreSQL, and the Alembic migrations against the models."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from basehelp import HULLSCAN, MINBASE_PKGS, PLUS_PKGS, Images

from hullscan.state.catalog import chain_ids, open_catalog
from hullscan.state.location import HEAD


def _chain_by_hand(diff_ids: list[str]) -> list[str]:
    """The OCI image spec's definition, written out: ChainID(L0) = DiffID(L0);
    ChainID(L0|...|Ln) = Digest(ChainID(L0|...|Ln-1) + " " + DiffID(Ln))."""
    out = [diff_ids[0]]
    for d in diff_ids[1:]:
        out.append("sha256:" + hashlib.sha256((out[-1] + " " + d).encode("ascii")).hexdigest())
    return out


def test_chain_ids_by_hand() -> None:
    a, b, c = ("sha256:" + hashlib.sha256(x).hexdigest() for x in (b"a", b"b", b"c"))
    second = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    third = "sha256:" + hashlib.sha256(f"{second} {c}".encode()).hexdigest()
    assert chain_ids([a, b, c]) == (a, second, third)
    assert chain_ids([]) == ()
    # the pinned value for two fixed diff_ids (computed once with `printf '%s %s' A B | sha256sum`)
    assert chain_ids([a, b])[1] == "sha256:" + hashlib.sha256(
        b"sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb "
        b"sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d").hexdigest()


def _listing(hullscan) -> dict:
    r = hullscan("base", "list", "--format", "json")
    assert r.code == 0, r.stderr
    return r.json


def _without(listing: dict, *keys: str) -> dict:
    return {**listing, "bases": [{k: v for k, v in b.items() if k not in keys} for b in listing["bases"]]}


def _by_ref(listing: dict) -> dict[str, dict]:
    return {f"{b['name']}:{','.join(b['tags'])}": b for b in listing["bases"]}


def test_add_list_rm(hullscan, images: Images) -> None:
    r = hullscan("base", "add", images.minbase.target, images.plus.target)
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("added     debian:12 ")
    listing = _listing(hullscan)
    assert listing["generation"] == 2
    got = _by_ref(listing)
    assert set(got) == {"debian:12", "example/debian-plus:12,bookworm"}
    mb, plus = got["debian:12"], got["example/debian-plus:12,bookworm"]
    assert (mb["manifest_digest"], mb["config_digest"]) == (images.minbase.manifest_digest, images.minbase.config_digest)
    assert (plus["manifest_digest"], plus["config_digest"]) == ("", images.plus.config_digest)  # docker save: no manifest digest
    assert mb["diff_ids"] == images.minbase.diff_ids and plus["diff_ids"] == images.plus.diff_ids
    assert mb["chain_ids"] == _chain_by_hand(images.minbase.diff_ids)
    assert plus["chain_ids"] == _chain_by_hand(images.plus.diff_ids)
    assert (mb["packages"], plus["packages"]) == (len(MINBASE_PKGS), len(PLUS_PKGS))
    assert mb["platform"] == "linux/amd64" and mb["os"] == {"id": "debian", "version": "12.5"}
    assert mb["created"] == "2024-01-02T03:04:05Z"

    table = hullscan("base", "list")
    assert table.code == 0 and "debian" in table.stdout and "example/debian-plus" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80

    # NAME:TAG untags; the image keeps its other tag; the last tag takes the image with it
    r = hullscan("base", "rm", "docker.io/example/debian-plus:12")
    assert (r.code, r.stdout.strip()) == (0, "untagged example/debian-plus:12 (linux/amd64)")
    r = hullscan("base", "rm", "example/debian-plus:bookworm")
    assert (r.code, r.stdout.strip()) == (0, "removed example/debian-plus:bookworm (linux/amd64)")
    r = hullscan("base", "rm", images.minbase.config_digest)
    assert r.code == 0 and r.stdout.strip() == f"removed debian@{images.minbase.config_digest}"
    listing = _listing(hullscan)
    assert listing["bases"] == [] and listing["generation"] == 5
    r = hullscan("base", "rm", "debian:12")
    assert r.code == 2 and "no catalogued base matches 'debian:12'" in r.stderr


def test_add_is_idempotent_and_tags_move(hullscan, images: Images) -> None:
    assert hullscan("base", "add", images.plus.target).code == 0
    first = _listing(hullscan)
    r = hullscan("base", "add", images.plus.target)
    assert r.code == 0 and r.stdout.startswith("unchanged example/debian-plus:12 ")
    assert _without(_listing(hullscan), "updated_at") == _without(first, "updated_at")  # same entry and generation
    # the same image under another tag: one entry with both tags
    r = hullscan("base", "add", images.plus.target, "--name", "example/debian-plus:stable")
    assert r.code == 0 and r.stdout.startswith("updated   example/debian-plus:stable ")
    (entry,) = _listing(hullscan)["bases"]
    assert entry["tags"] == ["12", "bookworm", "stable"] and _listing(hullscan)["generation"] == first["generation"] + 1
    # another image given the tag `12` of that repository: the tag moves to it
    r = hullscan("base", "add", images.other.target)
    assert r.code == 0, r.stderr
    got = {b["config_digest"]: b["tags"] for b in _listing(hullscan)["bases"]}
    assert got == {images.plus.config_digest: ["bookworm", "stable"], images.other.config_digest: ["12"]}


def test_names_refused(hullscan, images: Images, tmp_path: Path) -> None:
    r = hullscan("base", "add", images.app.target)  # ref.name `latest`: no repository
    assert r.code == 2 and "names no repository" in r.stderr and "--name NAME:TAG" in r.stderr
    r = hullscan("base", "add", images.app.target, images.plus.target, "--name", "x:1")
    assert r.code == 2 and "--name names one image" in r.stderr
    r = hullscan("base", "add", images.plus.target, "--name", "Bad Name:1")
    assert r.code == 2 and "--name" in r.stderr
    (tmp_path / "root" / "etc").mkdir(parents=True)
    r = hullscan("base", "add", f"dir:{tmp_path / 'root'}", "--name", "x:1")
    assert r.code == 2 and "no layers" in r.stderr
    assert not hullscan.state.exists() or _listing(hullscan)["bases"] == []


def test_read_interface(hullscan, images: Images) -> None:
    """What base identification asks (state/catalog.py), against what the test built."""
    assert hullscan("base", "add", images.minbase.target, images.plus.target, images.other.target).code == 0
    with open_catalog(str(hullscan.state)) as cat:
        assert cat.generation() == 3
        app_chain = _chain_by_hand(images.app.diff_ids)
        best = cat.longest_prefix(app_chain)
        assert best is not None and best.config_digest == images.plus.config_digest  # 2 layers beat 1
        assert best.chain_ids == tuple(app_chain[:2]) and best.diff_ids == tuple(images.app.diff_ids[:2])
        # `other` (added last, ref.name example/debian-plus:12) took the tag 12 of that repository
        assert best.tags == ("bookworm",) and best.platform == "linux/amd64" and best.os_id == "debian"
        only_first = cat.longest_prefix(app_chain[:1])
        assert only_first is not None and only_first.name == "debian"
        # a diff_id of a catalogued base at another depth is no prefix
        assert cat.longest_prefix([images.layers["l1"].diff_id]) is None
        assert cat.longest_prefix(["sha256:" + "0" * 64]) is None
        assert cat.by_digest(images.minbase.manifest_digest) == cat.by_digest(images.minbase.config_digest) == only_first
        assert [e.name for e in cat.by_name("docker.io/library/debian:12")] == ["debian"]
        assert [e.tags for e in cat.by_name("example/debian-plus")] == [("bookworm",), ("12",)]
        assert [e.config_digest for e in cat.by_name("example/debian-plus:12")] == [images.other.config_digest]
        assert cat.by_name("debian:11") == [] and cat.by_name("not a name") == []
        assert sorted(cat.packages(best.id)) == sorted(("Debian:12", n, v) for n, v, _ in PLUS_PKGS)
        assert {e.name for e in cat.candidates("debian", "12")} == {"debian", "example/debian-plus"}
        assert {e.name for e in cat.candidates("debian", None)} == {"debian", "example/debian-plus"}
        assert [e.os_version for e in cat.candidates("debian", "13")] == ["13"]
        assert cat.candidates("alpine", None) == []
    assert open_catalog(str(hullscan.state.parent / "absent.sqlite")).generation() == 0
    assert not (hullscan.state.parent / "absent.sqlite").exists()  # reading creates nothing


def test_export_import_round_trip(hullscan, images: Images, tmp_path: Path) -> None:
    assert hullscan("base", "add", images.minbase.target, images.plus.target).code == 0
    bundle = tmp_path / "catalog.tar"
    r = hullscan("base", "export", str(bundle))
    assert r.code == 0 and f"wrote {bundle}: 2 bases" in r.stdout
    before = _listing(hullscan)["bases"]
    other = str(tmp_path / "elsewhere.sqlite")
    r = hullscan("base", "import", str(bundle), "--state", other)
    assert r.code == 0 and "2 bases (2 new, 0 updated, 0 unchanged)" in r.stdout
    after = hullscan("base", "list", "--format", "json", "--state", other).json["bases"]
    strip = ("id", "added_at", "updated_at")
    assert [{k: v for k, v in b.items() if k not in strip} for b in after] == \
           [{k: v for k, v in b.items() if k not in strip} for b in before]
    with open_catalog(other) as cat:
        (plus,) = cat.by_name("example/debian-plus:12")
        assert sorted(cat.packages(plus.id)) == sorted(("Debian:12", n, v) for n, v, _ in PLUS_PKGS)
    r = hullscan("base", "import", str(bundle), "--state", other)  # again: nothing new
    assert r.code == 0 and "(0 new, 0 updated, 2 unchanged)" in r.stdout


def _rewrite(src: Path, dest: Path, data: bytes, *, fix_checksum: bool) -> None:
    with tarfile.open(src) as tf:
        manifest = json.loads(tf.extractfile("hullscan-bundle.json").read())  # type: ignore[union-attr]
    if fix_checksum:
        manifest["sha256"]["data.jsonl.gz"] = hashlib.sha256(data).hexdigest()
    with tarfile.open(dest, "w") as tf:
        for name, blob in (("hullscan-bundle.json", json.dumps(manifest).encode()), ("data.jsonl.gz", data)):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))


def test_bad_bundles_change_nothing(hullscan, images: Images, tmp_path: Path) -> None:
    assert hullscan("base", "add", images.minbase.target, images.plus.target).code == 0
    good = tmp_path / "good.tar"
    assert hullscan("base", "export", str(good)).code == 0
    assert hullscan("base", "rm", "debian").code == 0  # the catalog now differs from the bundle
    before = _listing(hullscan)
    with tarfile.open(good) as tf:
        data = tf.extractfile("data.jsonl.gz").read()  # type: ignore[union-attr]
    lines = gzip.decompress(data).splitlines()
    hostile = json.loads(lines[0])
    hostile["diff_ids"][0] = "sha256:../../etc/passwd"
    with tarfile.open(good) as tf:
        cut = tf.getmember("data.jsonl.gz").offset_data + len(data) // 2  # the file ends inside the data member
    cases = {
        "truncated": (good.read_bytes()[:cut], "unreadable"),
        "empty": (b"", "unreadable"),
    }
    for name, (blob, _message) in cases.items():
        (tmp_path / f"{name}.tar").write_bytes(blob)
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x40
    _rewrite(good, tmp_path / "tampered.tar", bytes(flipped), fix_checksum=False)
    cases["tampered"] = (b"", "checksum mismatch")
    _rewrite(good, tmp_path / "hostile.tar", gzip.compress(json.dumps(hostile).encode() + b"\n" + lines[1] + b"\n"),
             fix_checksum=True)
    cases["hostile"] = (b"", "is not sha256:<64 hex>")
    _rewrite(good, tmp_path / "extra-key.tar", gzip.compress(lines[0][:-1] + b',"x":1}\n' + lines[1] + b"\n"),
             fix_checksum=True)
    cases["extra-key"] = (b"", "Additional properties are not allowed")
    _rewrite(good, tmp_path / "dropped-line.tar", gzip.compress(lines[0] + b"\n"), fix_checksum=True)
    cases["dropped-line"] = (b"", "manifest says 2 bases")
    (tmp_path / "dbbundle.tar").write_bytes(_db_like_bundle())
    cases["dbbundle"] = (b"", "not a hullscan base catalog bundle")
    for name, (_blob, message) in cases.items():
        for replace in ([], ["--replace"]):
            r = hullscan("base", "import", str(tmp_path / f"{name}.tar"), *replace)
            assert r.code == 2, (name, r.stderr)
            assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, (name, r.stderr)
            assert _listing(hullscan) == before, name


def _db_like_bundle() -> bytes:
    """A `hullscan db export` bundle's shape (the same member names, another format)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, blob in (("hullscan-bundle.json", b'{"format": "hullscan-vulndb-bundle"}'), ("data.jsonl.gz", b"")):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def test_concurrent_adds(hullscan, images: Images, tmp_path: Path) -> None:
    """Two `base add` at once on one SQLite store: both land, each in its own transaction."""
    env_run = [*HULLSCAN, "base", "add", "--state", str(hullscan.state)]
    import os

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    procs = [subprocess.Popen([*env_run, t], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for t in (images.minbase.target, images.plus.target, images.minbase.target)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    listing = _listing(hullscan)
    assert sorted(b["name"] for b in listing["bases"]) == ["debian", "example/debian-plus"]
    assert listing["generation"] == 2  # the third add found the first's entry unchanged


def test_fresh_store_is_at_head_and_models_match_migrations(tmp_path: Path) -> None:
    from hullscan.state.store import open_state

    with open_state(str(tmp_path / "s.sqlite")) as store:
        _check_migrations(store)


def _check_migrations(store) -> None:  # noqa: ANN001
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from hullscan.state.models import Base
    from hullscan.state.store import MIGRATIONS, current_revision

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD]
    with store.read() as conn:
        assert current_revision(conn) == HEAD
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []  # `alembic check`: the models and the migrations describe the same tables


def test_unknown_revision_and_foreign_file_refused(hullscan, tmp_path: Path) -> None:
    import sqlite3

    newer = tmp_path / "newer.sqlite"
    from hullscan.state.store import open_state

    open_state(str(newer)).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    r = hullscan("base", "list", "--state", str(newer))
    assert r.code == 2 and "9999" in r.stderr and "newer hullscan" in r.stderr
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    for args in (["list"], ["rm", "x"]):
        r = hullscan("base", *args, "--state", str(junk))
        assert r.code == 2 and "not a" in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.postgres
def test_postgres_store(pg_schema: tuple[str, str], images: Images, tmp_path: Path) -> None:
    """The same catalog in a PostgreSQL schema: created and migrated on open, written, read, bundled."""
    from hullscan.state import bundle
    from hullscan.state.edit import NewBase, PackageRow, add, remove
    from hullscan.state.store import open_state

    url, schema = pg_schema
    base = NewBase(name="debian", tags=("12",), manifest_digest=images.minbase.manifest_digest,
                   config_digest=images.minbase.config_digest, os="linux", architecture="amd64", variant="",
                   created=None, os_id="debian", os_version="12.5", os_release="12",
                   diff_ids=tuple(images.minbase.diff_ids),
                   packages=(PackageRow("deb", "Debian:12", "zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib"),))
    plus = NewBase(**{**base.__dict__, "name": "example/debian-plus", "manifest_digest": "",
                      "config_digest": images.plus.config_digest, "diff_ids": tuple(images.plus.diff_ids)})
    with open_state(url, schema=schema) as store:
        _check_migrations(store)
        assert [a.new for a in add(store, [base, plus])] == [True, True]
        assert [a.changed for a in add(store, [base])] == [False]
        bundle.export(store, tmp_path / "pg.tar")
    with open_catalog(url, schema=schema) as cat:
        assert cat.generation() == 1
        best = cat.longest_prefix(_chain_by_hand(images.app.diff_ids))
        assert best is not None and best.name == "example/debian-plus" and best.tags == ("12",)
        assert cat.packages(best.id) == [("Debian:12", "zlib1g", "1:1.2.13.dfsg-1")]
    with open_state(url, schema=schema) as store:
        assert remove(store, "debian") == ["removed debian (entry 1)"]
    with open_catalog(url, schema=schema) as cat:
        assert [e.name for e in cat.candidates("debian", "12")] == ["example/debian-plus"]
    # a bundle exported from PostgreSQL loads into SQLite
    with open_state(str(tmp_path / "lite.sqlite")) as store:
        _manifest, added = bundle.load(store, tmp_path / "pg.tar")
    assert [a.reference for a in added] == ["debian:12", "example/debian-plus:12"]


def test_add_all_tags_of_a_registry_repository(hullscan, images: Images, tmp_path: Path) -> None:
    """`--all-tags`: every tag the registry lists for the repository, each catalogued under it."""
    import sys

    from testsupport import require_tool

    for tool in ("docker-registry", "skopeo"):
        require_tool(tool)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
    from builders import OCILayout
    from regserver import Registry, skopeo_push

    lay = OCILayout(tmp_path / "layout")
    one = lay.image([images.layers["l0"]])
    two = lay.image([images.layers["l0"], images.layers["l1"]])
    lay.add(one, tag="12")
    lay.add(two, tag="12-plus")
    lay.save()
    reg = Registry(tmp_path / "registry").start()
    try:
        skopeo_push(f"oci:{lay.root}:12", f"{reg.host}/test/debian:12")
        skopeo_push(f"oci:{lay.root}:12-plus", f"{reg.host}/test/debian:12-plus")
        r = hullscan("base", "add", "--all-tags", f"registry:{reg.host}/test/debian")
        assert r.code == 0, r.stderr
        r2 = hullscan("base", "add", "--all-tags", f"{reg.host}/test/debian:12")
        assert r2.code == 2 and "without tag or digest" in r2.stderr
    finally:
        reg.stop()
    got = {tuple(b["tags"]): (b["name"], b["manifest_digest"], len(b["diff_ids"])) for b in _listing(hullscan)["bases"]}
    assert got == {("12",): (f"{reg.host}/test/debian", one["digest"], 1),
                   ("12-plus",): (f"{reg.host}/test/debian", two["digest"], 2)}
