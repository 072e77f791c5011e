"""Red Hat's CSAF VEX archive: from `archive_latest.txt` to the archive it names.

Red Hat publishes every VEX document (one per CVE, `2023/cve-2023-0049.json`) under
https://security.access.redhat.com/data/csaf/v2/vex/, and all of them at once as one archive,
`csaf_vex_<YYYY-MM-DD>.tar.zst`, whose current name is the one line of `archive_latest.txt` there;
`changes.csv` and `deletions.csv` beside it list (`"2023/cve-2023-0044.json","2023-12-12T00:00:00+00:00"`)
the documents changed or deleted since. `db update --feed redhat-csaf` reads the archive only (the feed
is replaced whole; a newer archive is a new name, hence a full download, and the same name is a 304):
the download is two steps, which the Downloader routes here (download.py). The archive is streamed
through zstandard and tarfile by the importer (feeds/_input.py), never unpacked to disk or held whole.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hullscan.errors import InputError

LATEST = "archive_latest.txt"
#: the archive names Red Hat gives (`csaf_vex_2023-10-31.tar.zst`); anything else is not followed
_NAME = re.compile(r"^csaf_vex_\d{4}-\d{2}-\d{2}\.tar\.zst$")


def is_latest_url(url: str) -> bool:
    """True for a URL naming the archive pointer rather than a feed file."""
    return urlsplit(url).path.endswith("/" + LATEST)


def archive_name(pointer: bytes) -> str:
    """The archive `archive_latest.txt` names (InputError when it names none)."""
    name = pointer.decode("utf-8", "replace").strip()
    if not _NAME.match(name):
        raise InputError(f"{LATEST} does not name a csaf_vex_<date>.tar.zst archive: {name[:80]!r}")
    return name


def fetch_archive(get: Callable[..., Any], url: str, dest: Path, **kw: Any) -> Any:
    """Fetch the archive `url` (an `archive_latest.txt`) names to `dest` with `get` (Downloader's plain
    fetch; `kw`, its conditional-request arguments, apply to the archive). The result names `url`, the
    source the feed configured, so the archive's ETag is offered again next time."""
    pointer = get(url, dest.with_name(dest.name + ".latest.txt"), warn=kw.get("warn"))
    name = archive_name(pointer.path.read_bytes())
    got = get(url[: url.rindex("/") + 1] + name, dest, **kw)
    return dataclasses.replace(got, url=url)
