"""The one atomic write: a file is replaced whole or not at all, and left as a shell redirect would leave it.

`write_atomic(path, data, private=...)` (and `AtomicFile` for a stream) writes a temporary file beside
the destination and renames it over the destination (`install` does the same with a file built by
other means, such as a SQLite DB) — but only when the destination is missing or a regular file.
Anything else (`/dev/null`, a FIFO, a terminal, a socket) is opened and written in place: a rename
would replace the device with a regular file, which as root breaks `/dev/null` for the whole machine.
A symlink is followed: the link stays, its target is replaced.

Modes: a report (`private=False`) gets what `> FILE` gives — 0666 less the umask for a new file, the
existing file's mode otherwise. Caches, DBs, downloaded feeds and bundles (`private=True`) are 0600.
The temporary file is created with its final mode, so the data is never readable by more users than
the finished file.

No `tempfile` here (O_EXCL and a random name do its job): report writing is on the warm path, and
`tempfile` imports shutil and random, ~5 ms of a warm scan.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from io import BufferedWriter
    from types import TracebackType

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o666
"""A new report's mode before the umask: what a shell redirect creates."""


def write_atomic(path: str | os.PathLike[str], data: bytes, *, private: bool) -> None:
    """Replace `path` with `data` (see the module docstring). Raises OSError; `path` is then unchanged."""
    with AtomicFile(path, private=private) as out:
        out.write(data)


class AtomicFile:
    """`with AtomicFile(path, private=...) as out: out.write(...)`: the destination changes when the
    block ends without an exception, and not at all otherwise (a special file is written as it goes)."""

    def __init__(self, path: str | os.PathLike[str], *, private: bool) -> None:
        self.path = os.fspath(path)
        self.private = private
        self._target = ""
        self._tmp: str | None = None
        self._file: BufferedWriter | None = None

    def __enter__(self) -> BufferedWriter:
        target = self._target = os.path.realpath(self.path)
        try:
            st: os.stat_result | None = os.stat(target)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            # a device, FIFO or socket: written in place (a directory fails here, as it should)
            self._file = open(target, "wb")  # closed in __exit__
            return self._file
        if self.private:
            mode = PRIVATE_MODE
        elif st is not None:
            mode = stat.S_IMODE(st.st_mode)
        else:
            mode = PUBLIC_MODE  # the kernel takes the umask off, as for `> FILE`
        fd, self._tmp = _create_beside(target, mode)
        try:
            if self.private or st is not None:
                os.fchmod(fd, mode)  # exactly this mode, whatever the umask
            self._file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            _discard(self._tmp)
            raise
        return self._file

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        out, tmp = self._file, self._tmp
        assert out is not None, "AtomicFile used outside its with block"
        self._file = self._tmp = None
        if tmp is None:
            out.close()
            return
        done = False
        try:
            out.close()  # the last flush may fail (disk full, file size limit)
            if exc_type is None:
                os.replace(tmp, self._target)
                done = True
        finally:
            if not done:
                _discard(tmp)


def _create_beside(target: str, mode: int) -> tuple[int, str]:
    """A new file in `target`'s directory, opened for writing: (fd, path)."""
    directory, name = os.path.split(target)
    for _ in range(100):
        # hidden, and short enough for NAME_MAX whatever the destination's name
        tmp = os.path.join(directory, f".{name[:200]}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode), tmp
        except FileExistsError:
            continue  # 48 random bits taken: draw again
    raise FileExistsError(f"no free temporary name beside {target}")


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        return  # already gone: nothing is left behind either way


def install(staged: str | os.PathLike[str], path: str | os.PathLike[str], *, private: bool) -> None:
    """Put a file built beside `path` by other means (a SQLite DB written through its driver) in
    `path`'s place by write_atomic's rules: renamed over a missing or regular file (0600 when private;
    a report keeps the existing file's mode, a new one the staged file's), copied into anything else
    and then removed. Raises OSError; `path` is then unchanged and `staged` left to the caller."""
    staged, target = os.fspath(staged), os.path.realpath(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(staged, "rb") as src, open(target, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.unlink(staged)
        return
    if private:
        os.chmod(staged, PRIVATE_MODE)
    elif st is not None:
        os.chmod(staged, stat.S_IMODE(st.st_mode))
    os.replace(staged, target)
