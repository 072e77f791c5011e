"""Which local blobs need no re-hashing: a blob verified in a host file that has not changed since.

Issue 2 asks that a local blob's size and digest are checked before cached facts are trusted.
Re-hashing a 300 MB image on every warm scan costs more than everything else the warm scan does, so,
like git's index, the cache remembers for each verified blob the identity its file had then: device,
inode, size, mtime and ctime (ns), plus the blob's offset in the file. Any write to the file moves its
mtime and ctime (ctime cannot be set from user space) and a replaced file has another inode: either
way the identity no longer matches and the blob is hashed again.

A file changed less than RACY_NS before it was verified is not remembered: a write in the same clock
tick would leave its timestamps as they were (git's "racily clean" entries), and a file that old is
not being written any more.
"""

from __future__ import annotations

import os
import stat
import time

from hullscan.image.model import Image, Layer
from hullscan.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

RACY_NS = 2_000_000_000


@record(frozen=True)
class FileIdentity:
    location: str
    """Where the blob is (file and offset): the cache keeps one identity per location."""
    key: str
    """Everything that changes when the blob's bytes may have: compared as a whole."""
    changed_ns: int
    """The file's last change (max of mtime and ctime)."""

    def settled(self, now_ns: int | None = None) -> bool:
        """Whether the file was last changed long enough ago to be remembered."""
        return (now_ns if now_ns is not None else time.time_ns()) - self.changed_ns >= RACY_NS


def file_identity(layer: Layer) -> FileIdentity | None:
    """The identity of a local layer's blob, or None when it has none (registry blobs, pipes, gone files)."""
    if not layer.local or layer.location is None:
        return None
    path, offset = layer.location
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    location = f"{os.path.abspath(path)}@{offset}"
    key = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{location}"
    return FileIdentity(location, key, max(st.st_mtime_ns, st.st_ctime_ns))


def verified_by_identity(image: Image, cache: Any) -> bool:
    """Whether every layer can be trusted without reading a byte: registry blobs (content-addressed,
    never fetched for this) and local blobs whose unchanged file the cache saw verified."""
    for layer in image.layers:
        if not layer.local:
            continue
        identity = file_identity(layer)
        if identity is None or not cache.verified_file(identity, layer.diff_id, layer.digest):
            return False
    return True
