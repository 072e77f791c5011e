"""A yum repository's advisories: from its `mirror.list` or `repodata/repomd.xml` to the updateinfo file.

A repository names its updateinfo in `repodata/repomd.xml` (`<data type="updateinfo"><location
href="repodata/<hash>-updateinfo.xml.gz"/>`); the file name changes with its content, so the
download is two steps, three when the source is the `mirror.list` Amazon Linux publishes (its lines
are the current mirrors, each a repository base; the first that answers is used). The Downloader
routes such URLs here (download.py), so `db update` and `--feed-url` need nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from hullscan.errors import FetchError, InputError

MIRROR_LIST = "/mirror.list"
REPOMD = "/repodata/repomd.xml"
#: Compressions of an updateinfo file we read (feeds.decode / _input): suffix kept on the local copy.
_SUFFIXES = (".xml.gz", ".xml.bz2", ".xml")


def is_repo_url(url: str) -> bool:
    """True for a URL naming a yum repository's mirror list or repomd.xml rather than a feed file."""
    return urlsplit(url).path.endswith((MIRROR_LIST, REPOMD))


def updateinfo_href(repomd: bytes) -> str:
    """The location of the updateinfo a repomd.xml names (InputError when it names none)."""
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(repomd)
    except (DefusedXmlException, SyntaxError) as err:
        raise InputError(f"repomd.xml is not readable XML: {err}") from None
    for data in root:
        if data.tag.rsplit("}", 1)[-1] == "data" and data.get("type") == "updateinfo":
            for loc in data:
                if loc.tag.rsplit("}", 1)[-1] == "location" and loc.get("href"):
                    return str(loc.get("href"))
    raise InputError("repomd.xml names no updateinfo")


def fetch_updateinfo(get: Callable[..., Any], url: str, dest: Path, **kw: Any) -> Any:
    """Fetch the updateinfo of the repository at `url` to `dest` (its suffix follows the file's
    compression) with `get` (Downloader's plain fetch; `kw` are its conditional-request arguments,
    applied to the updateinfo itself). The result names `url`, the source the feed configured, so
    its ETag is offered again next time. A failing mirror passes to the next; the last error is raised."""
    warn = kw.get("warn")
    if urlsplit(url).path.endswith(MIRROR_LIST):
        listing = get(url, dest.with_name(dest.name + ".mirror.list"), warn=warn)
        lines = listing.path.read_text("utf-8", "replace").splitlines()
        bases = [ln.strip() for ln in lines if ln.strip().startswith(("http://", "https://"))]
        if not bases:
            raise InputError(f"{url}: the mirror list names no mirror")
    else:
        bases = [url[: url.rindex(REPOMD)]]
    last: Exception | None = None
    for base in bases:
        base = base.rstrip("/") + "/"
        try:
            md = get(urljoin(base, REPOMD.lstrip("/")), dest.with_name(dest.name + ".repomd.xml"), warn=warn)
            href = updateinfo_href(md.path.read_bytes())
            suffix = next((s for s in _SUFFIXES if href.endswith(s)), None)
            if suffix is None:
                raise InputError(f"{base}: updateinfo {href} is in a compression hullscan does not read")
            local = dest.name
            for s in _SUFFIXES:
                if local.endswith(s):
                    local = local[: -len(s)]
                    break
            got = get(urljoin(base, href), dest.with_name(local + suffix), **kw)
        except (FetchError, InputError) as err:
            last = err
            if warn and len(bases) > 1:
                warn(f"{base}: {err}; trying the next mirror")
            continue
        return dataclasses.replace(got, url=url)
    assert last is not None
    raise last
