"""OS detection from `/etc/os-release` and its older siblings.

The first analyzer: every OS package analyzer needs the distro and release to name its ecosystem.
Files are tiny, so the fact is simply the parsed key/value pairs (or the one line of a *-release file).
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.inventory.analyzer import Analyzer, AnalyzerView, Assembled, WarnFn
from hullscan.inventory.model import OSInfo

# Files in order of preference when several are present.
OS_FILES = (
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/alpine-release",
    "/etc/debian_version",
    "/etc/redhat-release",
    "/etc/system-release",
    "/etc/centos-release",
    "/etc/lsb-release",
)


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines, values optionally quoted (freedesktop os-release(5))."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value.replace('\\"', '"')
    return out


class OSReleaseAnalyzer(Analyzer):
    name = "os-release"
    version = 1
    max_size = 64 * 1024
    detects_os = True
    scanners = frozenset({"vuln", "secret", "config", "license"})

    def wants(self, path: str, size: int, mode: int) -> bool:
        return path in OS_FILES

    def analyze(self, path: str, data: bytes, warn: WarnFn) -> Any:
        text = data.decode("utf-8", "replace")
        if path.endswith("os-release") or path.endswith("lsb-release"):
            fields = parse_os_release(text)
            if not fields:
                warn("no KEY=value lines")
                return None
            return {"fields": fields}
        line = text.strip().splitlines()[0] if text.strip() else ""
        return {"line": line} if line else None

    def assemble(self, view: AnalyzerView) -> Assembled:
        facts = {p: view.files[p].fact for p in OS_FILES if p in view.files}
        return Assembled(os=detect_os(facts))


def _alpine_branch(version: str) -> str:
    m = re.match(r"(\d+)\.(\d+)", version)
    return f"v{m.group(1)}.{m.group(2)}" if m else version


def detect_os(facts: dict[str, Any]) -> OSInfo | None:
    """Name the OS from the facts of the files in OS_FILES (path → fact)."""
    fields: dict[str, str] = {}
    source = ""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if path in facts:
            fields, source = facts[path]["fields"], path
            break
    os_id = fields.get("ID", "").lower()
    version = fields.get("VERSION_ID", "")
    pretty = fields.get("PRETTY_NAME", fields.get("NAME", ""))
    codename = fields.get("VERSION_CODENAME", "")
    if "/etc/alpine-release" in facts and (not os_id or os_id == "alpine"):
        version = facts["/etc/alpine-release"]["line"]
        os_id, source = "alpine", source or "/etc/alpine-release"
    if os_id == "alpine":
        release = _alpine_branch(version)
        return OSInfo("alpine", pretty or f"Alpine Linux v{version}", version, release,
                      ecosystem=f"Alpine:{release}", source_path=source)
    if os_id == "debian" or (not os_id and "/etc/debian_version" in facts):
        point = facts.get("/etc/debian_version", {}).get("line", "")
        full = point if point and point[0].isdigit() else version
        major = (full or version).split(".")[0]
        return OSInfo("debian", pretty or f"Debian GNU/Linux {major}", full or version, major, codename,
                      ecosystem=f"Debian:{major}" if major else "Debian", source_path=source or "/etc/debian_version")
    if os_id == "ubuntu":
        return OSInfo("ubuntu", pretty, version, version, codename, ecosystem=f"Ubuntu:{version}", source_path=source)
    if os_id:
        return OSInfo(os_id, pretty, version, version.split(".")[0] if version else "", codename,
                      ecosystem="", source_path=source)
    return None
