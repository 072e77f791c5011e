"""Test tooling: trivy's integration-test DB (`vulndata/trivy-db-fixtures/*.yaml`, bbolt bucket dumps)
converted into our store, so trivy's goldens (computed against exactly this data) can check our matcher.

The dumps are `- bucket: NAME / pairs: [- bucket: PKG / pairs: [- key: ID / value: {...}]]`:

- OS buckets (`debian 10`, `alpine 3.10`, `ubuntu 18.04`, `amazon linux 2`, `Photon OS 3.0`,
  `openSUSE Leap 15.1`, `SUSE Linux Enterprise 15-SP3`, `rocky 8`, `alma 8`, `Oracle Linux 8`,
  `CBL-Mariner 1.0`) hold `FixedVersion`, an int `Status`, an int `Severity`, or Debian's old `State`
  string. They become one row per (advisory, package) in the ecosystem our OS analyzers name
  (`Debian:10`, `Alpine:v3.10`, `Amazon Linux:2`, `openSUSE:Leap 15.1` …); the package is the bucket
  name exactly as trivy keys it (the source package for Debian/Ubuntu/Alpine/Photon, the binary
  package for Red Hat/Amazon/SUSE — the matcher asks for both names of an rpm).
- `Red Hat` holds `Entries` whose `Affected` are CPE indices of the `Red Hat CPE` bucket; an entry
  becomes a `Red Hat:<major>` row for each RHEL major its known CPEs name (entries only for CPEs the
  dump does not list are left out, as trivy never selects them). An RHSA key keeps its CVEs as aliases.
- Language buckets (`npm::…`, `pip::…`, `go::…`, `maven::…`, `rubygems::…`, `cargo::…`, `nuget::…`,
  `composer::…`, `pub::…`, `erlang::…`, `conan::…`) hold `VulnerableVersions` (OR of comma-joined
  comparators, or Maven `[a,b)` intervals) → OSV events; `PatchedVersions` alone → the requirement
  range of docs/vulndb.md (`to_range` turns it into events where exact).
- `vulnerability.yaml` fills titles/descriptions/references, and gives each CVE an `nvd` feed record
  (NVD's CVSS, `VendorSeverity.nvd`); a row's severity word is the row's own `Severity`, else
  `VendorSeverity[<data source id>]`, as trivy chooses it.

Hand-written: there is no library for trivy's bucket dumps, and the whole point is an independent
reading of trivy's data model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from hullscan.vulndb.feeds._input import iso
from hullscan.vulndb.feeds._requirements import to_range
from hullscan.vulndb.memory import MemoryReader
from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch

SEVERITY = {0: None, 1: "LOW", 2: "MEDIUM", 3: "HIGH", 4: "CRITICAL"}
# trivy-db types.Status
STATUS = {1: "not_affected", 2: "affected", 3: "fixed", 4: "under_investigation", 5: "will_not_fix",
          6: "fix_deferred", 7: "end_of_life"}
DEBIAN_STATE = {"postponed": "fix_deferred", "ignored": "will_not_fix", "no-dsa": "affected",
                "end-of-life": "end_of_life", "not-affected": "not_affected"}
# trivy language bucket prefix -> (OSV ecosystem, range type, requirement dialect)
LANG = {
    "npm": ("npm", "SEMVER", "semver"), "pip": ("PyPI", "ECOSYSTEM", "semver"), "go": ("Go", "SEMVER", "semver"),
    "maven": ("Maven", "ECOSYSTEM", "semver"), "rubygems": ("RubyGems", "ECOSYSTEM", "gem"),
    "cargo": ("crates.io", "SEMVER", "semver"), "nuget": ("NuGet", "ECOSYSTEM", "semver"),
    "composer": ("Packagist", "ECOSYSTEM", "semver"), "pub": ("Pub", "ECOSYSTEM", "semver"),
    "erlang": ("Hex", "ECOSYSTEM", "semver"), "conan": ("ConanCenter", "ECOSYSTEM", "semver"),
}
# data-source ids of the OS buckets (trivy's vulnerability.SourceID), used to pick VendorSeverity
OS_SOURCE = {"Debian": "debian", "Ubuntu": "ubuntu", "Alpine": "alpine", "Amazon Linux": "amazon",
             "Photon OS": "photon", "openSUSE": "suse-cvrf", "SUSE": "suse-cvrf", "Red Hat": "redhat",
             "Rocky Linux": "rocky", "AlmaLinux": "alma", "Oracle Linux": "oracle-oval", "Azure Linux": "cbl-mariner"}
# our feed name per source id (the matcher knows distro feeds by these names)
FEED = {"suse-cvrf": "suse", "oracle-oval": "oracle", "cbl-mariner": "mariner"}


def os_ecosystem(bucket: str) -> str | None:
    """A trivy OS bucket name -> our ecosystem, None for buckets that are not an OS release."""
    b = bucket.strip()
    patterns = (
        (r"debian (\d+)", "Debian:{}"), (r"ubuntu (\d+\.\d+)", "Ubuntu:{}"), (r"alpine (\d+\.\d+)", "Alpine:v{}"),
        (r"alpine edge", "Alpine:edge"), (r"amazon linux (\d+)", "Amazon Linux:{}"),
        (r"Photon OS (\d+\.\d+)", "Photon OS:{}"), (r"openSUSE Leap (\d+\.\d+)", "openSUSE:Leap {}"),
        (r"openSUSE Tumbleweed", "openSUSE:Tumbleweed"),
        (r"SUSE Linux Enterprise (\d+)-SP(\d+)", "SUSE:Linux Enterprise Server {} SP{}"),
        (r"SUSE Linux Enterprise Micro (\d+\.\d+)", "SUSE:Linux Enterprise Micro {}"),
        (r"rocky (\d+)", "Rocky Linux:{}"), (r"alma (\d+)", "AlmaLinux:{}"),
        (r"Oracle Linux (\d+)", "Oracle Linux:{}"), (r"CBL-Mariner (\d+\.\d+)", "Azure Linux:{}"),
    )
    for pat, fmt in patterns:
        m = re.fullmatch(pat, b)
        if m:
            return fmt.format(*m.groups())
    return None


def _load(directory: Path) -> dict[str, Any]:
    """Every top-level bucket of every dump file, by name (pairs lists concatenated)."""
    out: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        for top in yaml.safe_load(path.read_text()) or []:
            out.setdefault(str(top["bucket"]).strip(), []).extend(top.get("pairs") or [])
    return out


def _details(buckets: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(p["key"]).strip(): p.get("value") or {} for p in buckets.get("vulnerability", [])}


def _word(sev: Any) -> str | None:
    if sev is None:
        return None
    return SEVERITY.get(int(float(sev)))


def _describe(adv: AdvisoryIn, detail: dict[str, Any]) -> None:
    adv.summary = detail.get("Title")
    adv.details = detail.get("Description")
    adv.published = iso(detail.get("PublishedDate"))  # YAML gives datetimes; the DB model holds ISO text
    adv.modified = iso(detail.get("LastModifiedDate"))
    adv.references = [("WEB", u) for u in detail.get("References") or []]
    adv.cwes = list(detail.get("CweIDs") or [])
    # trivy's last resort (no vendor, no NVD severity) is the record's own `Severity`
    if str(detail.get("Severity") or "UNKNOWN").upper() != "UNKNOWN":
        adv.severity = str(detail["Severity"]).upper()


def _row_severity(value: dict[str, Any], detail: dict[str, Any], source: str, cve_severities: list[Any]) -> str | None:
    own = _word(value.get("Severity"))
    if own:
        return own
    words = {_word(s) for s in cve_severities if s is not None}
    if len(words) == 1:  # an RHSA whose CVEs all have one severity
        return words.pop()
    return _word((detail.get("VendorSeverity") or {}).get(source))


def _os_rows(ecosystem: str, pkg: str, key: str, value: dict[str, Any], detail: dict[str, Any]) -> AffectedIn:
    source = OS_SOURCE[ecosystem.partition(":")[0]]
    fixed = str(value.get("FixedVersion") or "").strip()
    if fixed:
        ranges = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        status = "fixed"
    else:
        ranges = []
        status = STATUS.get(int(value.get("Status") or 0)) or DEBIAN_STATE.get(str(value.get("State") or ""), "affected")
    return AffectedIn(ecosystem, pkg, ranges, [], status, _row_severity(value, detail, source, []))


def _comparators(spec: str) -> list[tuple[str, str]] | None:
    """`>= 1.0, < 2.0` or Maven `[1.0,2.0)` -> [(op, version)], None when not understood."""
    spec = spec.strip()
    m = re.fullmatch(r"([\[(])\s*([^,]*?)\s*,\s*([^,]*?)\s*([\])])", spec)
    if m:
        out = []
        if m.group(2):
            out.append((">=" if m.group(1) == "[" else ">", m.group(2)))
        if m.group(3):
            out.append(("<=" if m.group(4) == "]" else "<", m.group(3)))
        return out
    out = []
    for part in spec.split(","):
        pm = re.fullmatch(r"\s*(>=|<=|>|<|=|==)?\s*v?(\S+)\s*", part)
        if not pm:
            return None
        out.append((pm.group(1) or "=", pm.group(2)))
    return out


def _vulnerable_range(specs: list[str], rtype: str, patched: list[str], ecosystem: str
                      ) -> tuple[list[dict[str, Any]], list[str]] | None:
    """OR of comparator sets -> (OSV ranges, exact versions); None when one is not expressible.

    trivy reads `<= X` with patched `P` as "vulnerable up to X, fixed in P": when a bare patched version
    P > X exists, the smallest such P is the range's `fixed` event (no release lies between X and the
    patch in practice), else `last_affected: X`."""
    from hullscan.versions import scheme_for_ecosystem

    scheme = scheme_for_ecosystem(ecosystem)
    bare = [v.lstrip("v") for v in patched if re.fullmatch(r"v?[0-9][^\s,<>=]*", v.strip())]
    ranges: list[dict[str, Any]] = []
    versions: list[str] = []
    for spec in specs:
        comps = _comparators(spec)
        if comps is None:
            return None
        lo = [v for op, v in comps if op == ">="]
        hi = [(op, v) for op, v in comps if op in ("<", "<=")]
        eq = [v for op, v in comps if op in ("=", "==")]
        if any(op == ">" for op, _ in comps) or len(lo) > 1 or len(hi) > 1 or (eq and len(comps) > 1):
            return None
        if eq:
            versions.append(eq[0])
            continue
        events: list[dict[str, str]] = [{"introduced": lo[0] if lo else "0"}]
        if hi and hi[0][0] == "<":
            events.append({"fixed": hi[0][1]})
        elif hi:
            above = [p for p in bare if scheme is not None and scheme.compare(p, hi[0][1]) > 0]
            events.append({"fixed": min(above, key=scheme.key)} if above else {"last_affected": hi[0][1]})
        ranges.append({"type": rtype, "events": events})
    return ranges, versions


def _lang_row(ecosystem: str, rtype: str, dialect: str, pkg: str, value: dict[str, Any], severity: str | None,
              batch: FeedBatch, where: str) -> AffectedIn | None:
    vulnerable = [str(v) for v in value.get("VulnerableVersions") or []]
    patched = [str(v) for v in value.get("PatchedVersions") or []]
    unaffected = [str(v) for v in value.get("UnaffectedVersions") or []]
    if vulnerable:
        got = _vulnerable_range(vulnerable, rtype, patched, ecosystem)
        if got is None:
            batch.skip(where, f"vulnerable versions not expressible: {vulnerable}")
            return None
        ranges, versions = got
        return AffectedIn(ecosystem, pkg, ranges, versions, "fixed" if patched or any(
            "fixed" in e for r in ranges for e in r["events"]) else "affected", severity)
    if patched or unaffected:
        return AffectedIn(ecosystem, pkg, [to_range(patched, unaffected, dialect, rtype)], [], "fixed", severity)
    return AffectedIn(ecosystem, pkg, [{"type": rtype, "events": [{"introduced": "0"}]}], [], "affected", severity)


def convert(directory: Path) -> list[FeedBatch]:
    """Every bucket we know → one FeedBatch per data source, plus an `nvd` batch from vulnerability.yaml."""
    buckets = _load(directory)
    details = _details(buckets)
    sources = {str(p["key"]).strip(): (p.get("value") or {}).get("ID") for p in buckets.get("data-source", [])}
    batches: dict[str, FeedBatch] = {}

    def batch(source: str) -> FeedBatch:
        name = FEED.get(source, source)
        return batches.setdefault(name, FeedBatch(name))

    def advisory(b: FeedBatch, key: str, aliases: list[str], row: AffectedIn) -> None:
        adv = AdvisoryIn(key, aliases=[a for a in aliases if a != key], affected=[row])
        _describe(adv, details.get(key, {}))
        b.merge(adv)

    # Red Hat CPE index -> RHEL major
    cpe_major: dict[int, str] = {}
    for sub in buckets.get("Red Hat CPE", []):
        if sub.get("bucket") == "cpe":
            for p in sub.get("pairs") or []:
                m = re.search(r"enterprise_linux:(\d+)", str(p.get("value")))
                if m:
                    cpe_major[int(p["key"])] = m.group(1)

    for name, pairs in buckets.items():
        prefix, sep, _ = name.partition("::")
        if sep and prefix in LANG:
            eco, rtype, dialect = LANG[prefix]
            source = sources.get(name) or "ghsa"
            b = batch(source)
            for pkg_bucket in pairs:
                pkg = str(pkg_bucket["bucket"]).strip()
                for p in pkg_bucket.get("pairs") or []:
                    key, value = str(p["key"]).strip(), p.get("value") or {}
                    sev = _word((details.get(key, {}).get("VendorSeverity") or {}).get(source))
                    row = _lang_row(eco, rtype, dialect, pkg, value, sev, b, f"{name}/{pkg}/{key}")
                    if row is not None:
                        advisory(b, key, [], row)
            continue
        if name == "Red Hat":
            b = batch("redhat")
            for pkg_bucket in pairs:
                pkg = str(pkg_bucket["bucket"]).strip()
                for p in pkg_bucket.get("pairs") or []:
                    key, value = str(p["key"]).strip(), p.get("value") or {}
                    for entry in value.get("Entries") or []:
                        cves = list(entry.get("Cves") or [])
                        aliases = [c["ID"] for c in cves if c.get("ID")]
                        majors = sorted({cpe_major[i] for i in entry.get("Affected") or [] if i in cpe_major})
                        for major in majors:
                            row = _os_rows(f"Red Hat:{major}", pkg, key, entry, details.get(key, {}))
                            row.severity = _row_severity({}, details.get(key, {}), "redhat",
                                                         [c.get("Severity") for c in cves]) if not row.severity else row.severity
                            advisory(b, key, aliases, row)
            continue
        eco = os_ecosystem(name)
        if eco is None:
            continue
        b = batch(OS_SOURCE[eco.partition(":")[0]])
        for pkg_bucket in pairs:
            pkg = str(pkg_bucket["bucket"]).strip()
            for p in pkg_bucket.get("pairs") or []:
                key, value = str(p["key"]).strip(), p.get("value") or {}
                vendor_ids = [str(x) for x in value.get("VendorIDs") or []]
                advisory(b, key, vendor_ids, _os_rows(eco, pkg, key, value, details.get(key, {})))

    nvd = FeedBatch("nvd")
    for key, detail in details.items():
        if not re.match(r"^CVE-\d+-\d+$", key):
            continue
        adv = AdvisoryIn(key)
        _describe(adv, detail)
        cv = (detail.get("CVSS") or {}).get("nvd") or {}
        if cv.get("V3Vector"):
            adv.severities.append(("CVSS_V3", cv["V3Vector"], cv.get("V3Score")))
        if cv.get("V2Vector"):
            adv.severities.append(("CVSS_V2", cv["V2Vector"], cv.get("V2Score")))
        adv.severity = _word((detail.get("VendorSeverity") or {}).get("nvd"))
        nvd.put(adv)
    batches["nvd"] = nvd
    return list(batches.values())


def trivy_reader(directory: Path) -> MemoryReader:
    """The converted fixtures as an in-memory advisory store (answers as the SQLite store does:
    tests/vulndb/test_vulndb_memory.py)."""
    return MemoryReader(convert(directory))
