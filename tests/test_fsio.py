"""The one atomic write (hullscan.fsio) on real files, a FIFO with a reader, a character device and a
failing write: renames only over regular files or new paths, modes as a shell redirect gives them (or
0600 for private files), and a failure leaves the old file and no temporary file behind."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullscan.fsio import AtomicFile, install, write_atomic


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith("."))


def test_a_new_report_gets_the_umask_and_a_private_file_0600(tmp_path: Path, umask: None) -> None:
    for mask, want in ((0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o000, 0o666)):
        os.umask(mask)
        report = tmp_path / f"report-{mask:o}.json"
        write_atomic(report, b"{}\n", private=False)
        assert (report.read_bytes(), _mode(report)) == (b"{}\n", want)
        cache = tmp_path / f"cache-{mask:o}.sqlite"
        write_atomic(cache, b"data", private=True)
        assert _mode(cache) == 0o600
    assert _leftovers(tmp_path) == []


def test_an_existing_report_keeps_its_mode_a_private_file_becomes_0600(tmp_path: Path, umask: None) -> None:
    os.umask(0o077)
    report, cache = tmp_path / "report.txt", tmp_path / "feed.json"
    for p in (report, cache):
        p.write_bytes(b"old")
        p.chmod(0o664)
    write_atomic(report, b"new", private=False)
    write_atomic(cache, b"new", private=True)
    assert (report.read_bytes(), _mode(report)) == (b"new", 0o664)
    assert (cache.read_bytes(), _mode(cache)) == (b"new", 0o600)


def test_a_rename_replaces_the_file(tmp_path: Path) -> None:
    """A reader holding the old file keeps reading the old bytes: the new file is a new inode."""
    p = tmp_path / "out.json"
    p.write_bytes(b"old")
    with p.open("rb") as held:
        write_atomic(p, b"new", private=False)
        assert held.read() == b"old"
    assert p.read_bytes() == b"new"


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_atomic(link, b"new", private=False)
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_atomic(fifo, b"through the pipe\n" * 10000, private=False)  # more than a pipe buffer holds
    reader.join(timeout=30)
    assert got == [b"through the pipe\n" * 10000]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and _leftovers(tmp_path) == []


def _null_copy(tmp_path: Path) -> Path:
    """A character device with /dev/null's numbers, in tmp_path: the real one is never at risk."""
    if os.geteuid() != 0:
        pytest.skip("creating a character device needs root")
    dev = os.stat("/dev/null").st_rdev
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, dev)
    return null


def test_a_character_device_is_written_in_place(tmp_path: Path) -> None:
    """`-o /dev/null` as root: the device stays a device (a rename would make it a regular file)."""
    null = _null_copy(tmp_path)
    before = null.lstat()
    write_atomic(null, b"discarded", private=False)
    write_atomic(null, b"discarded", private=True)
    after = null.lstat()
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev, after.st_mode) == (before.st_ino, before.st_rdev, before.st_mode)
    assert _leftovers(tmp_path) == []


def test_report_output_to_a_device_keeps_the_device(tmp_path: Path) -> None:
    from hullscan.report.formats import write_output

    null = _null_copy(tmp_path)
    write_output(b'{"report": true}\n', str(null))
    assert stat.S_ISCHR(null.lstat().st_mode) and _leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    p = tmp_path / "report.json"
    p.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomic(p, "not bytes", private=False)  # type: ignore[arg-type]  # the failure under test
    with pytest.raises(RuntimeError), AtomicFile(p, private=True) as out:
        out.write(b"half of the new")
        raise RuntimeError("the producer failed")
    assert p.read_bytes() == b"old" and _leftovers(tmp_path) == []


FULL_DISK = """
import resource, signal, sys
from hullscan.fsio import write_atomic
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    write_atomic(sys.argv[1], b"x" * 1_000_000, private=False)
except OSError as err:
    print(err.errno)
"""


def test_a_write_the_file_system_refuses_leaves_the_old_file(tmp_path: Path) -> None:
    """A real failure in the middle of the data (the file size limit, as a full disk would): the
    destination keeps its old bytes and the partial temporary file is removed."""
    import errno

    p = tmp_path / "report.json"
    p.write_bytes(b"old")
    r = subprocess.run([sys.executable, "-c", FULL_DISK, str(p)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == str(errno.EFBIG), r.stdout + r.stderr
    assert p.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_a_directory_is_refused_untouched(tmp_path: Path) -> None:
    d = tmp_path / "out"
    d.mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(d, b"x", private=False)
    assert d.is_dir() and list(d.iterdir()) == [] and _leftovers(tmp_path) == []


def test_install_renames_over_a_regular_file_and_copies_into_a_device(tmp_path: Path) -> None:
    """`install` (a DB built beside its destination): the same rules as write_atomic."""
    db, staged = tmp_path / "vuln.db", tmp_path / ".vuln.db.update-1"
    db.write_bytes(b"old")
    db.chmod(0o644)
    staged.write_bytes(b"new")
    install(staged, db, private=True)
    assert (db.read_bytes(), _mode(db), staged.exists()) == (b"new", 0o600, False)
    null = _null_copy(tmp_path)
    before = null.lstat()
    staged.write_bytes(b"new")
    install(staged, null, private=True)
    after = null.lstat()
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not staged.exists()


# -- end to end: `hullscan image … -o TARGET` --------------------------------------------------------


def _scan_to(target: Path, tmp_path: Path, *, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    """`hullscan image -o target` of a one-file root filesystem (no DB: the secret scanner only)."""
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc" / "hostname").write_text("box\n")
    p = subprocess.run([sys.executable, "-m", "hullscan", "image", f"dir:{rootfs}", "--scanners", "secret",
                        "--format", "json", "--no-cache", "--quiet", "-o", str(target)],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path, umask=umask)
    assert p.returncode == 0 and p.stdout == "" and "Traceback" not in p.stderr, p.stderr
    return p


@pytest.mark.parametrize(("mask", "want"), [(0o022, 0o644), (0o077, 0o600)])
def test_cli_creates_a_report_with_the_umask(tmp_path: Path, mask: int, want: int) -> None:
    """A new report file: 0666 less the scanner's umask, as `hullscan … > FILE` would make it."""
    report = tmp_path / "report.json"
    _scan_to(report, tmp_path, umask=mask)
    assert _mode(report) == want and stat.S_ISREG(report.lstat().st_mode)
    assert "packages" in json.loads(report.read_text())
    assert _leftovers(tmp_path) == []


def test_cli_output_to_a_character_device_keeps_the_device(tmp_path: Path) -> None:
    """`-o` naming a character device (1,3: a null device made in tmp_path; the real /dev/null is never
    the target): written in place, still the same device node afterwards."""
    if os.geteuid() != 0:
        pytest.skip("creating a character device needs root")
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    before = null.lstat()
    _scan_to(null, tmp_path)
    after = null.lstat()
    assert stat.S_ISCHR(after.st_mode) and os.major(after.st_rdev) == 1 and os.minor(after.st_rdev) == 3
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert _leftovers(tmp_path) == []


def test_cli_output_to_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    """`-o` naming a FIFO: the report goes through the pipe to its reader; the FIFO stays a FIFO."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        _scan_to(fifo, tmp_path)
    finally:
        reader.join(timeout=30)
        if reader.is_alive():  # the scan never opened the pipe: release the reader blocked in open()
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=30)
    assert len(got) == 1 and "packages" in json.loads(got[0])
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and _leftovers(tmp_path) == []
