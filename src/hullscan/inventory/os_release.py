"""OS detection from `/etc/os-release` and its older siblings.

The first analyzer: every OS package analyzer needs the distro and release to name its ecosystem and
purl qualifier. Files are tiny, so the fact is simply the parsed key/value pairs (or the one line of a
`*-release` file). `detect_os` then names the distro as advisory feeds key it:

| family | release (feed key) | ecosystem (OSV spelling, or the same shape where OSV has none) |
|---|---|---|
| debian | major (`12`), codename kept apart | `Debian:12` |
| ubuntu | `22.04` | `Ubuntu:22.04`; `Ubuntu:Pro:18.04:LTS` when apt sources or the Pro status file show ESM |
| alpine | branch `v3.19` | `Alpine:v3.19` |
| rhel, centos, rocky, almalinux, oracle, scientific | major (`9`) | `Red Hat:9`, `CentOS:7`, `Rocky Linux:9`, `AlmaLinux:9`, `Oracle Linux:8` |
| fedora | `40` | `Fedora:40` |
| amazon | `2`, `2023`, `1` (for 2018.03) | `Amazon Linux:2023` |
| sles, slemicro, opensuse | `15.3`, `5.3`, `15.2` / `tumbleweed` | `SUSE:Linux Enterprise Server 15 SP3`, `openSUSE:Leap 15.2` (PRETTY_NAME, as OSV) |
| photon | `4.0` | `Photon OS:4.0` |
| openeuler | `24.03-LTS-SP1` (VERSION's qualifier) | `openEuler:24.03-LTS-SP1` |
| mariner, azurelinux | `2.0`, `3.0` | `Azure Linux:2.0` (CBL-Mariner is Azure Linux's former name) |
| wolfi, chainguard, minimos, echo | rolling: `` | `Wolfi`, `Chainguard`, `MinimOS`, `Echo` |

Google distroless: its os-release says Debian (often with PRETTY_NAME "Distroless"), and its dpkg
database is `/var/lib/dpkg/status.d/`. The family stays `debian` (feeds, purls and matching are
Debian's); the `name` says "distroless" so reports show it. The analyzer therefore also reads the
`status.d` entries, keeping only their presence.
"""  # noqa: E501 (a Markdown table: its rows cannot wrap)

from __future__ import annotations

import json
import re
from typing import Any

from hullscan.model.inventory import OSInfo
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn

# Files in order of preference when several are present.
OS_FILES = (
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/alpine-release",
    "/etc/debian_version",
    "/etc/redhat-release",
    "/etc/system-release",
    "/etc/centos-release",
    "/etc/system-release-cpe",
    "/etc/lsb-release",
)
_KEY_VALUE = tuple(p for p in OS_FILES if p.endswith(("os-release", "lsb-release")))
"""KEY=value files; the others hold one line (`CentOS release 5.7 (Final)`)."""
UA_STATUS = "/var/lib/ubuntu-advantage/status.json"
#: apt sources: an image attached to Ubuntu Pro lists esm.ubuntu.com (`ubuntu-esm-infra.list`, `.sources`…).
APT_SOURCES = ("/etc/apt/sources.list", "/etc/apt/sources.list.d/")
STATUS_D = "/var/lib/dpkg/status.d/"

DEBIAN_CODENAMES = {
    "7": "wheezy", "8": "jessie", "9": "stretch", "10": "buster", "11": "bullseye",
    "12": "bookworm", "13": "trixie", "14": "forky", "15": "duke",
}
_DEBIAN_NUMBERS = {v: k for k, v in DEBIAN_CODENAMES.items()}


# os-release ID → family (ids that differ from the family name).
_ID_FAMILY = {
    "amzn": "amazon", "ol": "oracle", "opensuse-leap": "opensuse", "opensuse-tumbleweed": "opensuse",
    "opensuse": "opensuse", "sle-micro": "slemicro", "sle-micro-rancher": "slemicro", "sl-micro": "slemicro",
    "sles_sap": "sles", "rhel": "rhel", "redhat": "rhel",
}
_MAJOR_RELEASE = {"rhel", "centos", "rocky", "almalinux", "oracle", "scientific", "fedora"}
_ECOSYSTEM_NAME = {
    "rhel": "Red Hat", "centos": "CentOS", "rocky": "Rocky Linux", "almalinux": "AlmaLinux",
    "oracle": "Oracle Linux", "scientific": "Scientific Linux", "fedora": "Fedora", "amazon": "Amazon Linux",
    "photon": "Photon OS", "mariner": "Azure Linux", "azurelinux": "Azure Linux",
}
_ROLLING = {"wolfi": "Wolfi", "chainguard": "Chainguard", "minimos": "MinimOS", "echo": "Echo"}
#: The ecosystem (release dropped) of every family `detect_os` names: `db status` lists those the DB holds
#: no advisories for. The literals are the families whose function below spells the ecosystem itself.
DISTRO_ECOSYSTEMS = frozenset({"Debian", "Ubuntu", "Alpine", "SUSE", "openSUSE", "openEuler",
                               *_ECOSYSTEM_NAME.values(), *_ROLLING.values()})
# `*-release` one-liners: "CentOS release 5.7 (Final)", "Red Hat Enterprise Linux release 8.10 (Ootpa)".
_RELEASE_LINE = re.compile(r"^(.*?)\s+release\s+(\d[\w.]*)", re.I)
_LINE_FAMILY = (
    ("red hat", "rhel"), ("centos", "centos"), ("rocky", "rocky"), ("almalinux", "almalinux"),
    ("scientific", "scientific"), ("oracle", "oracle"), ("fedora", "fedora"), ("amazon", "amazon"),
)
_NAME_FAMILY = (
    ("alpine", "alpine"), ("debian", "debian"), ("ubuntu", "ubuntu"), ("red hat", "rhel"), ("centos", "centos"),
    ("rocky", "rocky"), ("almalinux", "almalinux"), ("amazon", "amazon"), ("oracle", "oracle"),
    ("fedora", "fedora"), ("photon", "photon"), ("wolfi", "wolfi"), ("chainguard", "chainguard"),
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


def _parse_fields(path: str, data: bytes, warn: WarnFn) -> Any:
    fields = parse_os_release(data.decode("utf-8", "replace"))
    if not fields:
        warn("no KEY=value lines")
        return None
    return {"fields": fields}


def _parse_line(path: str, data: bytes, warn: WarnFn) -> Any:
    text = data.decode("utf-8", "replace")
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return {"line": line} if line else None


def _parse_ua_status(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"esm": _esm_enabled(data.decode("utf-8", "replace"))}


def _parse_apt_source(path: str, data: bytes, warn: WarnFn) -> Any:
    # only an active line counts: a commented-out ESM entry is what `pro detach` leaves behind
    lines = (ln.strip() for ln in data.decode("utf-8", "replace").splitlines())
    return {"esm": any("esm.ubuntu.com" in ln for ln in lines if ln and not ln.startswith("#"))}


def _distroless(path: str, data: bytes, warn: WarnFn) -> Any:
    return {"distroless": True}


class OSReleaseAnalyzer(Analyzer):
    name = "os-release"
    version = 3
    files = (
        FileRule(paths=_KEY_VALUE, parse=_parse_fields),
        FileRule(paths=tuple(p for p in OS_FILES if p not in _KEY_VALUE), parse=_parse_line),
        FileRule(paths=(UA_STATUS,), parse=_parse_ua_status),
        FileRule(paths=(APT_SOURCES[0],), globs=(f"{APT_SOURCES[1]}*",), parse=_parse_apt_source),
        FileRule(globs=(f"{STATUS_D}*",), exclude=(f"{STATUS_D}*.md5sums",), parse=_distroless),
    )
    max_size = 64 * 1024
    detects_os = True
    scanners = frozenset({"vuln", "secret", "config", "license"})

    def assemble(self, view: AnalyzerView) -> Assembled:
        facts = {p: view.files[p].fact for p in (*OS_FILES, UA_STATUS) if p in view.files}
        sources = [view.files[APT_SOURCES[0]]] if APT_SOURCES[0] in view.files else []
        if any((ff.fact or {}).get("esm") for ff in [*sources, *view.under(APT_SOURCES[1])]):
            facts[APT_SOURCES[1]] = {"esm": True}
        if any(True for _ in view.under(STATUS_D)):
            facts[STATUS_D] = {"distroless": True}
        return Assembled(os=detect_os(facts))


def _esm_enabled(text: str) -> bool:
    """Ubuntu Pro status file: is an ESM service (esm-infra / esm-apps) enabled?"""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: arrays nested too deeply for the reader
        return False
    services = doc.get("services") if isinstance(doc, dict) else None
    return any(
        isinstance(s, dict) and str(s.get("name", "")).startswith("esm") and s.get("status") == "enabled"
        for s in services or []
    )


def _alpine_branch(version: str) -> str:
    m = re.match(r"v?(\d+)\.(\d+)", version)
    return f"v{m.group(1)}.{m.group(2)}" if m else ""


def _major(version: str) -> str:
    m = re.match(r"(\d+)", version)
    return m.group(1) if m else ""


def _family_of(os_id: str, name: str) -> str:
    """The family from ID, else guessed from NAME (an os-release without ID: trivy's `no-id` fixture)."""
    if os_id:
        return _ID_FAMILY.get(os_id, os_id)
    low = name.lower()
    for needle, family in _NAME_FAMILY:
        if needle in low:
            return family
    return ""


def detect_os(facts: dict[str, Any]) -> OSInfo | None:
    """Name the OS from the facts of the files in OS_FILES (path → fact)."""
    fields: dict[str, str] = {}
    source = ""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if path in facts:
            fields, source = facts[path]["fields"], path
            break
    family = _family_of(fields.get("ID", "").lower(), fields.get("NAME", ""))
    version = fields.get("VERSION_ID", "")
    pretty = fields.get("PRETTY_NAME", "") or fields.get("NAME", "")
    codename = fields.get("VERSION_CODENAME", "")

    if not family:
        family, version, pretty, source = _from_release_files(facts)
        if not family:
            return None
    if family == "alpine" or (not fields and "/etc/alpine-release" in facts):
        if "/etc/alpine-release" in facts:
            version = facts["/etc/alpine-release"]["line"]
            source = source or "/etc/alpine-release"
        release = _alpine_branch(version) or _alpine_branch(_after_v(pretty))
        return OSInfo("alpine", pretty or f"Alpine Linux v{version}", version, release,
                      ecosystem=f"Alpine:{release}" if release else "",
                      source_path=source)
    if family == "debian":
        return _debian(facts, fields, version, pretty, codename, source)
    if family == "ubuntu":
        return _ubuntu(facts, fields, version, pretty, codename, source)
    pretty = pretty or " ".join(x for x in (fields.get("NAME") or family, version) if x)
    if family in _ROLLING:
        return OSInfo(family, pretty or _ROLLING[family], version, "", codename,
                      ecosystem=_ROLLING[family], source_path=source)
    if family in ("opensuse", "sles", "slemicro"):
        return _suse(fields, family, version, pretty, source)
    if family == "openeuler":
        return _openeuler(fields, version, pretty, source)
    if family in _MAJOR_RELEASE:
        release = _major(version)
    elif family == "amazon":
        release = "1" if version.startswith("2018.") else version  # Amazon Linux 1 is "2018.03"
    else:
        release = version
    eco_name = _ECOSYSTEM_NAME.get(family, "")
    ecosystem = f"{eco_name}:{release}" if eco_name and release else ""
    return OSInfo(family, pretty, version, release, codename, ecosystem=ecosystem, source_path=source,
                  cpe=fields.get("CPE_NAME", ""))


def _after_v(text: str) -> str:
    m = re.search(r"v(\d+\.\d+)", text)
    return m.group(1) if m else ""


def _from_release_files(facts: dict[str, Any]) -> tuple[str, str, str, str]:
    """(family, version, pretty name, path) from the one-line files when os-release says nothing."""
    for path in ("/etc/redhat-release", "/etc/system-release", "/etc/centos-release"):
        line = facts.get(path, {}).get("line", "")
        m = _RELEASE_LINE.match(line)
        if m:
            low = m.group(1).lower()
            for needle, family in _LINE_FAMILY:
                if needle in low:
                    return family, m.group(2), line, path
    cpe = facts.get("/etc/system-release-cpe", {}).get("line", "")
    parts = cpe.split(":")
    if len(parts) >= 5 and parts[0] == "cpe" and parts[2]:
        vendor = parts[2].lower()
        family = {"redhat": "rhel", "centos": "centos", "rocky": "rocky", "almalinux": "almalinux",
                  "oracle": "oracle", "amazon": "amazon", "fedoraproject": "fedora"}.get(vendor, vendor)
        return family, parts[4], f"{parts[2]} {parts[3]} {parts[4]}", "/etc/system-release-cpe"
    if "/etc/alpine-release" in facts:
        return "alpine", facts["/etc/alpine-release"]["line"], "", "/etc/alpine-release"
    if "/etc/debian_version" in facts:
        return "debian", "", "", "/etc/debian_version"
    lsb = facts.get("/etc/lsb-release", {}).get("fields", {})
    if lsb.get("DISTRIB_ID"):
        return lsb["DISTRIB_ID"].lower(), lsb.get("DISTRIB_RELEASE", ""), lsb.get("DISTRIB_DESCRIPTION", ""), \
            "/etc/lsb-release"
    return "", "", "", ""


def _debian(facts: dict[str, Any], fields: dict[str, str], version: str, pretty: str, codename: str,
            source: str) -> OSInfo:
    point = facts.get("/etc/debian_version", {}).get("line", "")
    full = version
    if point[:1].isdigit():
        full = point  # "12.4": the point release; VERSION_ID only has the major
    elif point and not version:
        codename = codename or point.split("/")[0]  # "trixie/sid": testing
    if not codename:
        m = re.search(r"\((\w+)\)", fields.get("VERSION", ""))
        codename = m.group(1) if m else DEBIAN_CODENAMES.get(_major(full), "")
    release = _major(full) or _DEBIAN_NUMBERS.get(codename, "") or ("sid" if "sid" in point else "")
    distroless = STATUS_D in facts or pretty.lower() == "distroless"
    name = pretty if pretty and pretty.lower() != "distroless" else (
        f"Debian GNU/Linux {release}" + (f" ({codename})" if codename else ""))
    if distroless:
        name = f"{name} distroless"
    return OSInfo("debian", name, full or release, release, codename,
                  ecosystem=f"Debian:{release}" if release else "",
                  source_path=source or "/etc/debian_version")


def _ubuntu(facts: dict[str, Any], fields: dict[str, str], version: str, pretty: str, codename: str,
            source: str) -> OSInfo:
    lsb = facts.get("/etc/lsb-release", {}).get("fields", {})
    if lsb:
        version = version or lsb.get("DISTRIB_RELEASE", "")
        codename = codename or lsb.get("DISTRIB_CODENAME", "")
        pretty = pretty or lsb.get("DISTRIB_DESCRIPTION", "") or f"Ubuntu {version}"
        source = source or "/etc/lsb-release"
    release = version
    name = pretty or f"Ubuntu {version}"
    ecosystem = f"Ubuntu:{release}" if release else ""
    if release and (facts.get(UA_STATUS, {}).get("esm") or facts.get(APT_SOURCES[1], {}).get("esm")):
        # Ubuntu Pro: ESM fixes are filed under their own OSV stream (ESM exists for LTS releases only);
        # vulndb/ecosystems.lookup_variants also reads the standard `Ubuntu:22.04:LTS` stream for it
        name = f"{name} (ESM enabled)"
        ecosystem = f"Ubuntu:Pro:{release}:LTS"
    return OSInfo("ubuntu", name, version, release, codename,
                  ecosystem=ecosystem, source_path=source)


def _openeuler(fields: dict[str, str], version: str, pretty: str, source: str) -> OSInfo:
    """OSV spells openEuler releases with their support qualifier: `VERSION="24.03 (LTS-SP1)"` is
    `openEuler:24.03-LTS-SP1`, a plain `22.03` stays `openEuler:22.03`."""
    m = re.search(r"\(([^)]*)\)", fields.get("VERSION", "") or pretty)
    qualifier = "-".join(m.group(1).split()) if m else ""
    release = f"{version}-{qualifier}" if version and qualifier else version
    return OSInfo("openeuler", pretty, version, release, ecosystem=f"openEuler:{release}" if release else "", source_path=source)


def _suse(fields: dict[str, str], family: str, version: str, pretty: str, source: str) -> OSInfo:
    os_id = fields.get("ID", "")
    if family == "opensuse" and ("tumbleweed" in os_id or "tumbleweed" in pretty.lower()):
        release = "tumbleweed"
    elif family == "opensuse":
        m = re.match(r"\d+\.\d+", version)  # Leap feeds key "15.2"; betas say "15.2.1"
        release = m.group() if m else version
    else:
        release = version
    # OSV keys SUSE/openSUSE by PRETTY_NAME without the vendor word: "SUSE:Linux Enterprise Server 15 SP3".
    if family == "opensuse":
        label = re.sub(r"^openSUSE\s+", "", pretty) or f"Leap {version}"
        if release != "tumbleweed" and label.startswith("Leap ") and not label.startswith("Leap Micro"):
            label = f"Leap {release}"  # "openSUSE Leap 15.2.1 Beta" (a pre-release) is filed as Leap 15.2
        ecosystem = f"openSUSE:{label}"
    else:
        label = re.sub(r"^SUSE\s+", "", pretty) or version
        ecosystem = f"SUSE:{label}"
    return OSInfo(family, pretty, version, release, ecosystem=ecosystem, source_path=source)
