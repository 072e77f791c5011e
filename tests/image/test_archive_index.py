"""The index of an image archive on disk (image/archive.py reads headers with tarstream and seeks
over data): every member, data offset and size agree with Python's `tarfile` (the oracle) on a real
`docker save` archive and on a crafted one with PAX long names, GNU long names, symlinks and hard
links; blobs read through the index are the bytes `tarfile` extracts."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from hullscan.errors import InputError
from hullscan.image.archive import ImageArchive

REAL = Path(__file__).resolve().parent / "testdata" / "alpine-3.10.docker-save.tar.gz"


def _oracle(path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {ImageArchive._norm(m.name): m for m in tar.getmembers()}


def _check(path) -> None:
    archive = ImageArchive(str(path))
    oracle = _oracle(path)
    assert set(archive.members) == set(oracle)
    with tarfile.open(path) as tar:
        for name, m in oracle.items():
            entry = archive.members[name]
            assert entry.linkname == m.linkname, name
            if m.isfile():
                assert (entry.offset_data, entry.size) == (m.offset_data, m.size), name
                with archive.open(name) as f:
                    assert f.read() == tar.extractfile(m).read(), name


def test_real_docker_save_archive(tmp_path):
    plain = tmp_path / "alpine.tar"
    plain.write_bytes(gzip.decompress(REAL.read_bytes()))
    _check(plain)
    archive = ImageArchive(str(plain))
    assert archive.exists("manifest.json") and archive.read("manifest.json").startswith(b"[")


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_long_names_links_and_symlinks(tmp_path, fmt):
    path = tmp_path / "a.tar"
    long_dir = "d" * 120
    with tarfile.open(path, "w", format=fmt) as tar:
        for name, data in ((f"{long_dir}/layer.tar", b"x" * 1500), ("manifest.json", b"[]"), ("empty", b"")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, kind, target in (("sym.tar", tarfile.SYMTYPE, f"{long_dir}/layer.tar"),
                                   ("hard.json", tarfile.LNKTYPE, "manifest.json")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info)
    _check(path)
    archive = ImageArchive(str(path))
    assert archive.size("sym.tar") == 1500 and archive.read("hard.json") == b"[]"


def test_truncated_archive_is_refused(tmp_path):
    path = tmp_path / "t.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("layer.tar")
        info.size = 100_000
        tar.addfile(info, io.BytesIO(b"y" * 100_000))
    path.write_bytes(path.read_bytes()[:50_000])
    with pytest.raises(InputError, match="not a readable tar archive"):
        ImageArchive(str(path))


@pytest.mark.parametrize("field", [
    b"0000644\x00", b"000644 \x00", b"   644\x00\x00", b"644\x00\x00\x00\x00\x00", b"\x00" * 8, b" " * 8,
    b"00000001750\x00", b"644\x00junk", b"\x80\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00",
])
def test_numeric_header_fields_read_as_tarfile_reads_them(field):
    from hullscan.image.tarstream import _octal

    assert _octal(field) == tarfile.nti(field)
