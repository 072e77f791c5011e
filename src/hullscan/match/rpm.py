"""RPM packages (Red Hat and its rebuilds, Amazon, SUSE, Oracle, Photon, Azure Linux…): matched by source
AND binary name, at the package's own version (epoch included).

Vendors name different things: Red Hat OVAL/CSAF, ALAS and SUSE CVRF (and the OSV records made from
them) list BINARY packages (`openssl-libs`, `libopenssl1_1`), others the source RPM; a source-only query
would miss rows filed under a binary name. Rebuilds without an advisory feed of their own (CentOS,
Scientific Linux) are matched against the release they rebuild, whose packages carry the same names
and versions (Trivy and Grype do the same).

Red Hat files its advisories per product STREAM, spelled from the stream's CPE (`Red Hat:enterprise_linux:9::
baseos`, `…::appstream`, `Red Hat:rhel_eus:9.2::baseos`, RHEL 10's `Red Hat:enterprise_linux:10.0`). A
package matches only the rows of the streams its image follows (`for_image`), strongest evidence first:
the image's content sets mapped to CPEs by Red Hat's repository-to-CPE table, else os-release's
CPE_NAME, else the release: both of the last two mean the main stream of that major (BaseOS, AppStream,
CRB… on RHEL 8+; the Server, Workstation, Client and ComputeNode variants on RHEL 5-7). Every image also
reads the major's channel-less stream (`Red Hat:enterprise_linux:9`), where Red Hat's CSAF VEX files the
status of components it has not fixed. A modular row (`"module": "nodejs:18"` in
its range) only matches a package of that module stream.

An image built from xUS repositories (EUS, AUS, E4S, TUS: `Red Hat:rhel_eus:9.2::baseos`) reads its own
streams first and falls back to the main stream of its major for a vulnerability its own streams hold no
row for (Red Hat's scanning-vendor guidelines: "check for … main stream CPEs as well, if the vulnerability
is unfixed or did not release a fix to the xUS stream"); `settle` applies it per vulnerability (its CVE).
A fix released to another xUS branch or another major only never matches. A vendor `not_affected`
statement (CSAF VEX) for the vulnerability, the package and a stream that covers the matched row's (the
same one, or its channel-less/minor-less product: `enterprise_linux:8` covers `enterprise_linux:8::baseos`)
drops the match whichever feed made it.
"""

from __future__ import annotations

import re

from hullscan.match.matcher import BINARY, SOURCE, UPSTREAM, Group, Matcher, Query
from hullscan.match.release import has_release
from hullscan.model.findings import MatchDetails
from hullscan.model.inventory import Inventory, OSInfo, Package
from hullscan.vulndb.feeds.redhat_repo_cpe import stream_of
from hullscan.vulndb.model import AffectedRecord
from hullscan.vulndb.read import AdvisoryReader

REBUILT_FROM = {"CentOS": "Red Hat", "Scientific Linux": "Red Hat"}
RED_HAT = "Red Hat"
#: The main stream's repositories of RHEL 8/9 (their CPEs' last field): BaseOS and AppStream, and the
#: add-on repositories a main-stream image may also use.
MAIN_CHANNELS = ("baseos", "appstream", "crb", "codeready_builder", "highavailability", "supplementary")
#: RHEL 5-7 name their main streams by variant (`Red Hat:enterprise_linux:7::server`).
VARIANT_CHANNELS = ("server", "workstation", "client", "computenode")
#: RHEL 10 spells its main stream with the minor (`enterprise_linux:10.0`): the minors asked for.
_MINORS = range(0, 13)
#: a RHEL stream's product and major (`Red Hat:rhel_eus:9.2::baseos` → rhel_eus, 9); other products
#: (`openshift:4.16::el9`, `rhel_software_collections:3`) carry versions of their own, not a RHEL major
_MAJOR = re.compile(r"^Red Hat:(enterprise_linux|rhel_(?:eus|aus|e4s|tus)[a-z_]*):(\d+)")
_CVE = re.compile(r"^CVE-\d{4}-\d+$")


def main_streams(major: str) -> tuple[str, ...]:
    """The main-stream ecosystems of a RHEL major (`9`), the channel-less one last; first the release-only
    spelling (`Red Hat:9`) of records converted from OVAL-era data, which name no stream."""
    if not major.isdigit():
        return ()
    base = f"{RED_HAT}:enterprise_linux:{major}"
    if int(major) >= 10:
        return (f"{RED_HAT}:{major}", *(f"{base}.{m}" for m in _MINORS), base)
    channels = MAIN_CHANNELS if int(major) >= 8 else VARIANT_CHANNELS
    return (f"{RED_HAT}:{major}", *(f"{base}::{c}" for c in channels), base)


def redhat_streams(os: OSInfo | None, repo_cpes: dict[str, list[str]]) -> tuple[tuple[str, ...], frozenset[str]]:
    """(the ecosystems of the Red Hat streams an image reads, primary last; those it reads only as the xUS
    fallback) — see the module docstring."""
    if os is None:
        return (), frozenset()
    mapped = [stream_of(c) for s in os.content_sets for c in repo_cpes.get(s, ())]
    streams = [s for s in dict.fromkeys(mapped) if s is not None]
    if not streams and os.cpe:
        m = _MAJOR.match(stream_of(os.cpe) or "")
        if m:
            return main_streams(m.group(2)), frozenset()
    if not streams:
        return main_streams(os.release), frozenset()
    majors = {(m.group(1), m.group(2)) for s in streams if (m := _MAJOR.match(s))}
    main = sorted({major for product, major in majors if product == "enterprise_linux"})
    xus = sorted({major for product, major in majors if product != "enterprise_linux"})
    # channel-less streams: where CSAF files unfixed components (`enterprise_linux:9`, `rhel_eus:9.2`)
    bare = [s.split("::")[0] for s in streams if "::" in s] + [f"{RED_HAT}:enterprise_linux:{m}" for m in main]
    own = list(dict.fromkeys(bare + streams[1:] + streams[:1]))
    fallback = [s for m in xus for s in main_streams(m) if s not in own]
    return (*dict.fromkeys(fallback), *own), frozenset(fallback)


def covers(statement: str, stream: str) -> bool:
    """Whether a vendor statement filed under `statement` speaks for rows of `stream`: the same stream, or
    the product it is a channel (`…:8` → `…:8::baseos`) or a minor (`…:10` → `…:10.0`) of."""
    return stream == statement or stream.startswith(f"{statement}::") or (
        statement[-1:].isdigit() and "." not in statement.rsplit(":", 1)[-1] and stream.startswith(f"{statement}."))


class RpmMatcher(Matcher):
    name = "rpm"

    def __init__(self, redhat: tuple[str, ...] = (), fallback: frozenset[str] = frozenset()) -> None:
        self.redhat = redhat
        """The Red Hat streams of the image this matcher is bound to (empty: derived from each package)."""
        self.fallback = fallback
        """Those of `redhat` read only for a vulnerability the others hold no row for (an xUS image's main stream)."""
        self._names: dict[str, set[str]] = {}
        """advisory id → the ids it names (itself, its aliases): which vulnerability a row speaks of."""

    def for_image(self, inventory: Inventory, db: AdvisoryReader) -> Matcher:
        os = inventory.os
        if os is None or os.family != "rhel":
            return self
        return RpmMatcher(*redhat_streams(os, db.repo_cpes(os.content_sets) if os.content_sets else {}))

    def settle(self, groups: list[Group], rows: list[AffectedRecord], db: AdvisoryReader) -> list[Group]:
        """Per vulnerability: an xUS image's own rows (any status) shut out the main stream's; then a vendor
        `not_affected` row whose stream covers a hit's drops that hit (module docstring)."""
        fallback_hit = bool(self.fallback) and any(h[0].ecosystem in self.fallback for _, hs in groups for h in hs)
        statements = any(r.status == "not_affected" for r in rows)
        if not fallback_hit and not statements:
            return groups
        names = self._names_of({r.advisory_id for r in rows}, db)
        out = []
        for key, hits in groups:
            about = [r for r in rows if key in names[r.advisory_id]]
            own = [r for r in about if r.ecosystem not in self.fallback]
            if own and len(own) < len(about):
                about = own
                hits = [h for h in hits if h[0].ecosystem not in self.fallback]
            unaffected = [r.ecosystem for r in about if r.status == "not_affected"]
            hits = [h for h in hits if not any(covers(s, h[0].ecosystem) for s in unaffected)]
            if hits:
                out.append((key, hits))
        return out

    def _names_of(self, ids: set[str], db: AdvisoryReader) -> dict[str, set[str]]:
        """The ids each advisory names (itself and its aliases); a CVE's own record names itself only (the
        CSAF VEX rows are CVEs), an erratum (`RHSA-…`) its CVEs too."""
        ask = [i for i in ids if i not in self._names and not _CVE.match(i)]
        for i, adv in db.advisories(ask).items() if ask else ():
            self._names[i] = {i, *adv.aliases}
        return {i: self._names.setdefault(i, {i}) for i in ids}

    def handles(self, pkg: Package) -> bool:
        return pkg.type == "rpm"

    def queries(self, pkg: Package) -> list[Query]:
        if not pkg.version or not has_release(pkg.ecosystem):
            return []
        source = pkg.source_name or pkg.name
        names = [(source, SOURCE)] + ([(pkg.name, BINARY)] if pkg.name != source else [])
        base, _, release = pkg.ecosystem.partition(":")
        if base == RED_HAT:
            streams = self.redhat or main_streams(release.split(".")[0])
            return [(s, n, identity) for s in streams for n, identity in names]
        out = [(pkg.ecosystem, n, identity) for n, identity in names]
        if REBUILT_FROM.get(base) == RED_HAT:
            out += [(s, n, UPSTREAM) for s in main_streams(release.split(".")[0]) for n, _ in names]
        return out

    def covered_by(self, pkg: Package, queries: list[Query]) -> str:
        """`Red Hat:9` for a Red Hat image or a rebuild of one, whichever streams it asks (what a user imports)."""
        base, _, release = pkg.ecosystem.partition(":")
        if base == RED_HAT or REBUILT_FROM.get(base) == RED_HAT:
            return f"{RED_HAT}:{release.split('.')[0]}"
        return super().covered_by(pkg, queries)

    def vulnerable(self, pkg: Package, record: AffectedRecord, query: Query) -> MatchDetails | None:
        module = next((r["module"] for r in record.ranges if r.get("module")), "")
        if module and ":".join(str(pkg.extra.get("modularity_label", "")).split(":")[:2]) != module:
            return None  # a module stream's row: only for packages of that module stream
        return super().vulnerable(pkg, record, query)

    def shown_fix(self, fix: str) -> str:
        return fix.removeprefix("0:")  # epoch 0 is rpm's default: shown as installed versions are
