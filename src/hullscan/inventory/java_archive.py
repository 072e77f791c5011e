"""Java archives (`.jar .war .ear .par .hpi .jpi`), including archives nested inside them, and
exploded `META-INF/**/pom.properties` on disk (Maven writes them under `META-INF/maven/`).

Identity, strongest first: each `META-INF/maven/<group>/<artifact>/pom.properties` is one artifact
(a shaded or fat jar holds several); without one, `META-INF/MANIFEST.MF`
(Implementation-* / Bundle-*); the file name (`name-1.2.3.jar`) only as the last resort, and never
overriding what the archive itself says.

The archive is read with `zipfile` over the bytes the walker already holds; nested archives are
opened only within a depth, per-member size and total inflated-bytes budget. A member whose
compression ratio is absurd (a zip bomb) or whose name escapes the archive (zip-slip) is reported
as a warning; nothing is ever extracted."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from hullscan.inventory.lockfiles.maven_pom import read_xml
from hullscan.inventory.lockfiles.spdx import is_spdx, to_spdx
from hullscan.inventory.purl import purl
from hullscan.model.inventory import Package
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

ARCHIVE_EXTS = (".jar", ".war", ".ear", ".par", ".hpi", ".jpi")
MAX_DEPTH = 3
"""Archives nested deeper than this (outer archive = 0) are not opened."""
MAX_NESTED = 64 * MiB
"""Largest nested archive read into memory."""
MAX_INFLATE = 256 * MiB
"""Total bytes inflated from one outer archive (nested archives + metadata files)."""
MAX_META = MiB
"""Largest MANIFEST.MF / pom.properties read."""
MAVEN_REPO = "/usr/share/maven-repo/"
"""Debian's maven-repo-helper tree: `<group path>/<artifact>/<version>/<artifact>-<version>.pom`,
beside symlinks to the jars in /usr/share/java. Its poms name manifest-only jars exactly."""
BOMB_RATIO = 200
"""Uncompressed/compressed ratio above which a member (bigger than 1 MiB) is treated as a zip bomb."""


@dataclass
class _Budget:
    left: int = MAX_INFLATE


def parse_properties(text: str) -> dict[str, str]:
    """Java `.properties` (the subset pom.properties uses: `k=v` / `k: v`, `#`/`!` comments)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        m = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def parse_manifest(text: str) -> dict[str, str]:
    """Main section of a MANIFEST.MF (continuation lines start with one space)."""
    out: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            break  # end of the main section; per-entry sections follow
        if line.startswith(" ") and last:
            out[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            out[last] = value.strip()
    return out


_FILENAME = re.compile(r"^(?P<name>.+?)-(?P<version>\d+(?:\.\d+)*(?:[.-][A-Za-z0-9.]+)*?)$")


def name_from_filename(filename: str) -> tuple[str, str]:
    """`commons-text-1.10.0.jar` → (`commons-text`, `1.10.0`); the version is the last `-<digit>…` run."""
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    # Prefer the rightmost split whose right side starts with a digit and looks like a version.
    parts = stem.split("-")
    for i in range(len(parts) - 1, 0, -1):
        if parts[i][:1].isdigit() and re.match(r"^\d+(\.\d+)*", parts[i]):
            return "-".join(parts[:i]), "-".join(parts[i:])
    return stem, ""


def _manifest_identity(mf: dict[str, str]) -> tuple[str, str, str]:
    """(group, artifact, version) as a manifest states them ('' where it does not)."""
    version = mf.get("Implementation-Version") or mf.get("Bundle-Version") or mf.get("Specification-Version") or ""
    group = mf.get("Implementation-Vendor-Id") or mf.get("Automatic-Module-Name", "").rpartition(".")[0] or ""
    title = mf.get("Implementation-Title") or ""
    symbolic = (mf.get("Bundle-SymbolicName") or "").split(";")[0].strip()
    artifact = ""
    if symbolic and "." in symbolic and not group:
        group, _, artifact = symbolic.rpartition(".")
    elif symbolic:
        artifact = symbolic.rsplit(".", 1)[-1]
    if not artifact and title and " " not in title:
        artifact = title
    return group, artifact, version


def _manifest_licenses(mf: dict[str, str]) -> list[str]:
    raw = mf.get("Bundle-License", "")
    if not raw:
        return []
    first = raw.split(",")[0].split(";")[0].strip()
    spdx = to_spdx(first)
    if spdx and (is_spdx(spdx) or not first.startswith("http")):
        return [spdx]
    # Bundle-License often holds a URL; map the common ones.
    low = first.lower()
    if "apache.org/licenses/license-2.0" in low:
        return ["Apache-2.0"]
    if "opensource.org/licenses/mit" in low:
        return ["MIT"]
    if "eclipse.org/legal/epl-2.0" in low or "epl-2.0" in low:
        return ["EPL-2.0"]
    return []


def _parse_archive(path: str, data: bytes, warn: WarnFn) -> Any:
    found: list[dict[str, Any]] = []
    _archive(data, path, path, 0, _Budget(), warn, found)
    return found or None


def _parse_repo_pom(path: str, data: bytes, warn: WarnFn) -> Any:
    pom = parse_pom(data, warn)
    return {"pom": pom} if pom else None


def _parse_pom_properties(path: str, data: bytes, warn: WarnFn) -> Any:
    art = _from_props(parse_properties(data.decode("utf-8", errors="replace")), path, "pom.properties")
    return [art] if art else None


def _archive(
    data: bytes, real: str, where: str, depth: int, budget: _Budget, warn: WarnFn, found: list[dict[str, Any]]
) -> None:
    """The artifacts of one archive (`where`: its path, `outer.jar:inner.jar` when nested in `real`)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError) as exc:
        warn(f"unreadable Java archive {where}: {exc}")
        return
    with zf:
        slip = [i.filename for i in infos if i.filename.startswith("/") or ".." in i.filename.replace("\\", "/").split("/")]
        if slip:
            warn(f"zip-slip member name in {where}: {slip[0]!r} (not extracted)")
        mf: dict[str, str] = {}
        poms: list[dict[str, Any]] = []
        nested: list[zipfile.ZipInfo] = []
        for info in infos:
            name = info.filename
            if name == "META-INF/MANIFEST.MF":
                text = _read(zf, info, where, budget, warn, MAX_META)
                if text is not None:
                    mf = parse_manifest(text.decode("utf-8", errors="replace"))
            elif name.startswith("META-INF/") and name.endswith("/pom.properties"):
                text = _read(zf, info, where, budget, warn, MAX_META)
                if text is not None:
                    art = _from_props(parse_properties(text.decode("utf-8", errors="replace")), name, "pom.properties")
                    if art:
                        poms.append(art)
            elif name.lower().endswith(ARCHIVE_EXTS) and not info.is_dir():
                nested.append(info)
        own = _identity(where, mf, poms)
        for art in [*poms, *own]:
            art["paths"] = [where] if where == real else [where, real]
            found.append(art)
        for info in nested:
            inner = f"{where}:{info.filename}"
            if depth + 1 > MAX_DEPTH:
                warn(f"nested archive {inner} deeper than {MAX_DEPTH} levels: not opened")
                continue
            blob = _read(zf, info, where, budget, warn, MAX_NESTED)
            if blob is not None:
                _archive(blob, real, inner, depth + 1, budget, warn, found)


def _identity(where: str, mf: dict[str, str], poms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The archive's own artifact when no pom.properties names it (manifest, then file name)."""
    filename = where.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    fn_name, fn_version = name_from_filename(filename)
    group, artifact, version = _manifest_identity(mf)
    for pom in poms:
        # One pom.properties matching the manifest/file name *is* this archive: nothing to add.
        if pom["artifact"] in (artifact, fn_name) or len(poms) == 1:
            if not pom.get("licenses"):
                pom["licenses"] = _manifest_licenses(mf)
            return []
    if poms and not artifact and not version:
        return []  # a shaded jar whose own identity is unknown: its pom.properties say it all
    source = "manifest"
    if not artifact:
        artifact = fn_name
    if not version:
        version, source = fn_version, "filename"
    if not artifact or not version:
        return []
    return [_artifact(group, artifact, version, source, _manifest_licenses(mf))]


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, budget: _Budget, warn: WarnFn, cap: int) -> bytes | None:
    if info.file_size > cap:
        if cap == MAX_META or info.file_size > MAX_NESTED:
            warn(f"{where}:{info.filename} is {info.file_size} bytes, over the {cap} byte cap: skipped")
        return None
    if info.file_size > MiB and info.compress_size and info.file_size / info.compress_size > BOMB_RATIO:
        warn(f"zip bomb suspected in {where}:{info.filename} (ratio {info.file_size // info.compress_size}:1): skipped")
        return None
    if info.file_size > budget.left:
        warn(f"inflate budget of {MAX_INFLATE} bytes exhausted in {where}: {info.filename} skipped")
        return None
    try:
        with zf.open(info) as fh:
            blob = fh.read(min(cap, budget.left) + 1)  # never trust the header's size
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, RuntimeError, NotImplementedError, EOFError) as exc:
        # one corrupt member (a damaged deflate stream: zlib.error) costs itself, not the archive's other members
        warn(f"unreadable member {where}:{info.filename}: {exc}")
        return None
    if len(blob) > min(cap, budget.left):
        warn(f"{where}:{info.filename} inflates beyond its declared size: skipped")
        return None
    budget.left -= len(blob)
    return blob


class JavaArchiveAnalyzer(Analyzer):
    """Maven artifacts in Java archives (and exploded pom.properties)."""

    name = "java-archive"
    version = 2  # 2: a bad entry of a file no longer loses the file's other entries (issue 20)
    files = (
        FileRule(extensions=tuple(e[1:] for e in ARCHIVE_EXTS), parse=_parse_archive),
        FileRule(globs=(f"{MAVEN_REPO}**/*.pom",), max_size=MAX_META, parse=_parse_repo_pom),
        FileRule(globs=("**/META-INF/**/pom.properties",), max_size=MAX_META, parse=_parse_pom_properties),
    )
    max_size = 512 * MiB  # application wars/fat jars; only metadata members are inflated

    def assemble(self, view: AnalyzerView) -> Assembled:
        pkgs: list[Package] = []
        # (artifact, version) → groups, from Debian maven-repo poms in the image
        repo: dict[tuple[str, str], set[str]] = {}
        for ff in view.files.values():
            if isinstance(ff.fact, dict) and "pom" in ff.fact:
                pom = ff.fact["pom"]
                repo.setdefault((pom["artifact"], pom["version"]), set()).add(pom["group"])
        for path, ff in sorted(view.files.items()):
            if not isinstance(ff.fact, list):
                continue
            for art in ff.fact:
                if art["source"] != "pom.properties":
                    art = _with_repo_group(art, repo)
                paths = tuple(art.get("paths") or (path,))
                group, artifact, version = art["group"], art["artifact"], art["version"]
                name = f"{group}:{artifact}" if group else artifact
                pkgs.append(
                    Package(
                        type="maven",
                        name=name,
                        version=version,
                        ecosystem="Maven",
                        purl=purl("maven", artifact, version, group),
                        analyzer=self.name,
                        paths=paths,
                        licenses=tuple(art.get("licenses") or ()),
                        kind="installed",
                        extra={"source": art["source"]},
                    )
                )
        return Assembled(packages=pkgs)


def _with_repo_group(art: dict[str, Any], repo: dict[tuple[str, str], set[str]]) -> dict[str, Any]:
    """A manifest/file-name identity whose artifact and version one maven-repo pom also names takes
    that pom's groupId (the manifest's group is a guess from Bundle-SymbolicName)."""
    groups = repo.get((art["artifact"], art["version"]))
    if groups and len(groups) == 1:
        return {**art, "group": next(iter(groups)), "source": art["source"] + "+maven-repo"}
    return art


def parse_pom(data: bytes, warn: WarnFn) -> dict[str, str] | None:
    """groupId/artifactId/version of a pom.xml (the parent's groupId/version when not its own)."""
    read = read_xml(data, warn)
    if read is None:
        return None
    root, ns = read

    def text(*path: str) -> str:
        node = root.find("/".join(ns + p for p in path))
        return (node.text or "").strip() if node is not None else ""

    group = text("groupId") or text("parent", "groupId")
    artifact = text("artifactId")
    version = text("version") or text("parent", "version")
    if not group or not artifact or not version or "${" in group + artifact + version:
        return None
    return {"group": group, "artifact": artifact, "version": version}


def _from_props(props: dict[str, str], path: str, source: str) -> dict[str, Any] | None:
    group, artifact, version = props.get("groupId", ""), props.get("artifactId", ""), props.get("version", "")
    if not artifact or not version:
        # Fall back to the directory names META-INF/maven/<group>/<artifact>/ for group and artifact.
        if not version:
            return None
    if not group or not artifact:
        parts = path.split("/")
        if len(parts) >= 3:
            group = group or parts[-3]
            artifact = artifact or parts[-2]
    return _artifact(group, artifact, version, source, [])


def _artifact(group: str, artifact: str, version: str, source: str, licenses: list[str]) -> dict[str, Any]:
    return {"group": group.strip(), "artifact": artifact.strip(), "version": version.strip(), "source": source, "licenses": licenses}
