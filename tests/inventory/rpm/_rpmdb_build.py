"""Build real rpm databases with Debian's rpm tools, cached under ~/.cache/hullscan-tests/ (file lock).

- `built_db()`: a dozen small packages made with `rpmbuild` (an epoch, an explicit epoch 0, `~` and `^`
  versions, sub-packages of one source rpm under other names, a modularity label, a vendor, a package with
  hundreds of files so its header spans several BerkeleyDB overflow pages, %ghost/%config files, a package
  with no files), installed with `rpm -i --justdb --nodeps` into an SQLite rpmdb, then copied into
  BerkeleyDB hash `Packages` files of both byte orders with `db5.3_load -c db_lorder=…` (RECIPES.md §6).
  Each database comes with `rpm -qa` output read from that very database by rpm itself.
- `bench_dbs(n)`: n package headers (the real headers of the SQLite fixtures in tests/inventory/testdata/rpm,
  repeated with fresh header numbers) as SQLite and BerkeleyDB files, for the benchmark.
- `fixture_bytes(rel)`: one of those fixtures (tests/inventory/testdata/rpm/REL, or REL.gz gunzipped).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

CACHE = Path(os.environ.get("HULLSCAN_TEST_CACHE", Path.home() / ".cache" / "hullscan-tests")) / "rpm"
# Real rpm databases from upstream test data (PROVENANCE.md there). The SQLite and NDB ones are stored
# gzip-compressed (FILE.gz); `fixture_bytes` gives the database itself.
TESTDATA = Path(__file__).resolve().parents[1] / "testdata" / "rpm"
BUILD_VERSION = "v6"  # bump when the specs or variants change
BDB_VARIANTS = {  # name: (big-endian, page size, fill factor, copies of each header)
    "bdb-le": (False, 4096, 0, 1),
    "bdb-be": (True, 4096, 0, 1),
    # tiny pages, 20 copies of each header in two buckets: chained bucket pages, long overflow chains
    "bdb-le-512": (False, 512, 1000, 20),
    "bdb-be-64k": (True, 65536, 1, 1),  # huge pages, a bucket per record
}

QF = ("%{NAME}\\t%|EPOCH?{%{EPOCH}}:{}|\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%|SOURCERPM?{%{SOURCERPM}}:{}|"
      "\\t%|VENDOR?{%{VENDOR}}:{}|\\t%|MODULARITYLABEL?{%{MODULARITYLABEL}}:{}|\\t%{LICENSE}\\n")
QF_FILES = "[%{=NAME}\\t%{FILENAMES}\\n]"

_HEAD = """Name: {name}
Version: {version}
Release: {release}
Summary: hullscan test package {name}
License: {license}
{extra}
%global debug_package %{{nil}}
%description
Test package {name} for hullscan's rpmdb readers.
"""

SPECS: dict[str, str] = {
    "alpha": _HEAD.format(name="alpha", version="1.0", release="1", license="MIT", extra="BuildArch: noarch") + """
%install
mkdir -p %{buildroot}/usr/share/alpha %{buildroot}/usr/bin
echo a > %{buildroot}/usr/share/alpha/a.txt
printf '#!/bin/sh\\necho alpha\\n' > %{buildroot}/usr/bin/alpha
%files
%attr(0755,root,root) /usr/bin/alpha
/usr/share/alpha
""",
    "beta": _HEAD.format(name="beta", version="3.4.5", release="7.el9", license="GPL-2.0-or-later",
                         extra="Epoch: 2\nVendor: Hullscan Test Vendor") + """
%install
mkdir -p %{buildroot}/usr/lib64
echo b > %{buildroot}/usr/lib64/libbeta.so.3
%files
/usr/lib64/libbeta.so.3
""",
    "gamma": _HEAD.format(name="gamma", version="1.0~rc1", release="1", license="BSD-3-Clause",
                          extra="BuildArch: noarch") + """
%install
mkdir -p %{buildroot}/usr/share/gamma
echo g > %{buildroot}/usr/share/gamma/README
%files
/usr/share/gamma/README
""",
    "delta": _HEAD.format(name="delta", version="2.0^git20240101.abc123", release="1", license="Apache-2.0",
                          extra="BuildArch: noarch") + """
%install
mkdir -p %{buildroot}/opt/delta
echo d > %{buildroot}/opt/delta/delta.txt
%files
/opt/delta
""",
    "toolkit": _HEAD.format(name="toolkit", version="4.2", release="3.fc40",
                            license="(MIT or GPLv2+) and BSD", extra="Vendor: Hullscan Test Vendor") + """
%package libs
Summary: toolkit libraries
%description libs
libs
%package devel
Summary: toolkit headers
%description devel
devel
%package -n python3-toolkit
Summary: python bindings
License: PSF-2.0
%description -n python3-toolkit
python
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/lib64 %{buildroot}/usr/include/toolkit
mkdir -p %{buildroot}/usr/lib/python3/site-packages/toolkit
echo t > %{buildroot}/usr/bin/toolkit
echo l > %{buildroot}/usr/lib64/libtoolkit.so.4
echo h > %{buildroot}/usr/include/toolkit/toolkit.h
echo p > %{buildroot}/usr/lib/python3/site-packages/toolkit/__init__.py
mkdir -p %{buildroot}/usr/lib/python3/site-packages/toolkit-4.2.dist-info
printf 'Metadata-Version: 2.1\nName: toolkit\nVersion: 4.2\n' \
  > %{buildroot}/usr/lib/python3/site-packages/toolkit-4.2.dist-info/METADATA
%files
/usr/bin/toolkit
%files libs
/usr/lib64/libtoolkit.so.4
%files devel
/usr/include/toolkit
%files -n python3-toolkit
/usr/lib/python3/site-packages/toolkit
/usr/lib/python3/site-packages/toolkit-4.2.dist-info
""",
    "modular": _HEAD.format(name="modular", version="1.1", release="1.module+el8.9.0+1234+abcd",
                            license="MIT", extra="BuildArch: noarch") + """
%install
mkdir -p %{buildroot}/usr/share/modular
echo m > %{buildroot}/usr/share/modular/m.txt
%files
/usr/share/modular/m.txt
""",
    "bigfiles": _HEAD.format(name="bigfiles", version="1.0", release="1", license="MIT",
                             extra="BuildArch: noarch") + """
%install
for d in $(seq 1 20); do
  mkdir -p %{buildroot}/usr/share/bigfiles/directory-with-a-rather-long-name-$d
  for f in $(seq 1 20); do
    echo $d$f > %{buildroot}/usr/share/bigfiles/directory-with-a-rather-long-name-$d/file-number-$f.txt
  done
done
%files
/usr/share/bigfiles
""",
    "zeta": _HEAD.format(name="zeta", version="0.1", release="0", license="MIT",
                         extra="Epoch: 0\nBuildArch: noarch") + """
%install
mkdir -p %{buildroot}/usr/share/zeta
echo z > %{buildroot}/usr/share/zeta/z
%files
/usr/share/zeta/z
""",
    "meta": _HEAD.format(name="meta", version="5", release="1", license="Public Domain",
                         extra="BuildArch: noarch") + """
%files
""",
    "eta": _HEAD.format(name="eta", version="1.0", release="1", license="MIT", extra="BuildArch: noarch") + """
%install
mkdir -p %{buildroot}/etc %{buildroot}/var/log
echo conf > %{buildroot}/etc/eta.conf
touch %{buildroot}/var/log/eta.log
ln -s /etc/eta.conf %{buildroot}/etc/eta-link.conf
%files
%config(noreplace) /etc/eta.conf
/etc/eta-link.conf
%ghost /var/log/eta.log
""",
}
DEFINES = {"modular": ["--define", "modularitylabel perl:5.30:8090020231120112233:abcdef12"]}


@contextlib.contextmanager
def locked(name: str) -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(*args: str) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def rpm_qa(dbpath: Path, qf: str, bdb: bool = False) -> str:
    """`rpm -qa` read by rpm itself (bdb_ro for a BerkeleyDB Packages)."""
    args = ["rpm", "--dbpath", str(dbpath)]
    if bdb:
        args += ["--define", "_db_backend bdb_ro"]
    return _run(*args, "-qa", "--queryformat", qf)


def sqlite_blobs(path: Path) -> list[tuple[int, bytes]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(int(h), bytes(b)) for h, b in con.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")]
    finally:
        con.close()


def write_bdb(blobs: list[tuple[int, bytes]], out: Path, big_endian: bool, pagesize: int = 4096,
              ffactor: int = 0) -> None:
    """A BerkeleyDB hash `Packages` holding these headers (keys = header numbers in the file's byte
    order, as rpm writes them; key 0 = rpm's next-instance counter), made by `db5.3_load`."""
    fmt = ">I" if big_endian else "<I"
    lines = ["VERSION=3", "format=bytevalue", "type=hash", f"db_pagesize={pagesize}"]
    lines += [f"h_ffactor={ffactor}"] if ffactor else []  # items per bucket before a split
    lines.append("HEADER=END")
    for hnum, blob in [(0, struct.pack(fmt, max(h for h, _ in blobs) + 1))] + blobs:
        lines.append(" " + struct.pack(fmt, hnum).hex())
        lines.append(" " + blob.hex())
    lines.append("DATA=END")
    dump = out.with_suffix(".dump")
    dump.write_text("\n".join(lines) + "\n")
    out.unlink(missing_ok=True)
    _run("db5.3_load", "-c", f"db_lorder={4321 if big_endian else 1234}", "-f", str(dump), str(out))
    dump.unlink()


def built_db() -> Path:
    """Directory with `sqlite/rpmdb.sqlite` and `<variant>/Packages` (BDB_VARIANTS), each with `qa.txt`
    and `files.txt` (rpm's own listing of that database)."""
    final = CACHE / f"built-{BUILD_VERSION}"
    with locked("built"):
        if (final / "done").exists():
            return final
        shutil.rmtree(final, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix="built-", dir=CACHE))
        top = work / "top"
        (top / "SPECS").mkdir(parents=True)
        for name, spec in SPECS.items():
            path = top / "SPECS" / f"{name}.spec"
            path.write_text(spec)
            _run("rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", *DEFINES.get(name, []), str(path))
        rpms = sorted(str(p) for p in (top / "RPMS").rglob("*.rpm"))
        sq = work / "sqlite"
        sq.mkdir()
        _run("rpm", "--dbpath", str(sq), "--initdb")
        _run("rpm", "--dbpath", str(sq), "-i", "--justdb", "--nodeps", "--noscripts", *rpms)
        (sq / "qa.txt").write_text(rpm_qa(sq, QF))
        (sq / "files.txt").write_text(rpm_qa(sq, QF_FILES))
        blobs = sqlite_blobs(sq / "rpmdb.sqlite")
        for sub, (big, pagesize, ffactor, copies) in BDB_VARIANTS.items():
            d = work / sub
            d.mkdir()
            many = [(c * 1000 + h, b) for c in range(copies) for h, b in blobs]
            write_bdb(many, d / "Packages", big, pagesize, ffactor)
            (d / "qa.txt").write_text(rpm_qa(d, QF, bdb=True))
            (d / "files.txt").write_text(rpm_qa(d, QF_FILES, bdb=True))
        # A later image layer: gamma upgraded to its final release, meta erased (rpm -U / -e --justdb).
        upd = work / "updated"
        shutil.copytree(sq, upd)
        spec = top / "SPECS" / "gamma-final.spec"
        spec.write_text(SPECS["gamma"].replace("Version: 1.0~rc1", "Version: 1.0"))
        _run("rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", str(spec))
        _run("rpm", "--dbpath", str(upd), "-U", "--justdb", "--nodeps", "--noscripts",
             str(top / "RPMS" / "noarch" / "gamma-1.0-1.noarch.rpm"))
        _run("rpm", "--dbpath", str(upd), "-e", "--justdb", "--nodeps", "--noscripts", "meta")
        write_bdb(sqlite_blobs(upd / "rpmdb.sqlite"), upd / "Packages", big_endian=False)
        (upd / "qa.txt").write_text(rpm_qa(upd, QF, bdb=True))
        shutil.rmtree(top)
        (work / "done").write_text("ok\n")
        os.replace(work, final)
        return final


def fixture_bytes(rel: str) -> bytes:
    """TESTDATA/rel, or TESTDATA/rel.gz decompressed (the large databases are stored compressed)."""
    path = TESTDATA / rel
    if path.is_file():
        return path.read_bytes()
    return gzip.decompress((TESTDATA / f"{rel}.gz").read_bytes())


def bench_dbs(n: int = 1000) -> Path:
    """Directory with `rpmdb.sqlite` and `Packages` (BerkeleyDB) of n real headers each."""
    final = CACHE / f"bench-{n}-b3"
    with locked("bench"):
        if (final / "done").exists():
            return final
        shutil.rmtree(final, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix="bench-", dir=CACHE))
        pool = []
        for f in ("amazonlinux-2023__rpmdb.sqlite", "cbl-mariner-2.0__rpmdb.sqlite"):
            (work / f).write_bytes(fixture_bytes(f"sqlite/{f}"))
            pool += [b for _, b in sqlite_blobs(work / f) if b"gpg-pubkey\0" not in b]  # keys are not packages
            for leftover in (f, f"{f}-wal", f"{f}-shm"):
                (work / leftover).unlink(missing_ok=True)
        blobs = [(i + 1, pool[i % len(pool)]) for i in range(n)]
        con = sqlite3.connect(work / "rpmdb.sqlite")
        con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
        con.executemany("INSERT INTO Packages VALUES (?, ?)", blobs)
        con.commit()
        con.close()
        write_bdb(blobs, work / "Packages", big_endian=False)
        (work / "done").write_text("ok\n")
        os.replace(work, final)
        return final
