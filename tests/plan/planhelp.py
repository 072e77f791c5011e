"""Findings and base advice built by hand for the planner's tests: each test states every finding's risk,
fixed version and layer, so the expected plan follows from them by arithmetic (written in each test)."""

from __future__ import annotations

from hullscan.model.findings import Finding, MatchDetails, Risk
from hullscan.model.inventory import LayerRef, Package
from hullscan.model.report import AdviceBase, AdviceCandidate, AdviceFinding, BaseAdvice

LAYERS = {
    0: LayerRef(0, "sha256:" + "0" * 64, "ADD rootfs-12.1.tar /", True),
    1: LayerRef(1, "sha256:" + "1" * 64, "RUN apt-get install -y curl", False),
    2: LayerRef(2, "sha256:" + "2" * 64, "RUN pip install werkzeug==2.2.2 requests==2.19.0", False),
}
SCHEMES = {"deb": "deb", "pypi": "pep440", "npm": "npm"}
ECOSYSTEMS = {"deb": "Debian:12", "pypi": "PyPI", "npm": "npm"}


def pkg(name: str, version: str, *, type_: str = "pypi", layer: int = 2, source: str = "") -> Package:
    ref = LAYERS.get(layer) or LayerRef(layer, f"sha256:{layer:064x}", f"RUN step {layer}", False)
    return Package(type=type_, name=name, version=version, ecosystem=ECOSYSTEMS[type_],
                   purl=f"pkg:{type_}/{name}@{version}", analyzer="test", paths=(f"/{name}",),
                   source_name=source, source_version=version if source else "", layer=ref,
                   inherited=ref.base)


def finding(vid: str, package: Package, fixed: str, risk: float, *, status: str = "", severity: str = "HIGH") -> Finding:
    scheme = SCHEMES[package.type]
    details = MatchDetails("test", "osv", vid, package.ecosystem, package.source_name or package.name, "name",
                           package.version, scheme, "<" + fixed if fixed else "affected, no range",
                           status or ("fixed" if fixed else "affected"))
    return Finding(id=vid, aliases=(), package=package, status=status or ("fixed" if fixed else "affected"),
                   fixed_version=fixed, severity=severity, severity_source="osv", cvss=None, epss=None, kev=None,
                   title="", references=(), data_source="osv", advisory_ids=(vid,), published=None,
                   details=(details,), risk=Risk(risk, "test"), inherited=package.inherited)


def advice(*candidates: tuple[str, list[Finding]]) -> BaseAdvice:
    """Base advice whose candidates (reference, the image's findings each removes) are in the order given."""

    def base(i: int, ref: str) -> AdviceBase:
        return AdviceBase(i, ref, ref.partition(":")[0], (ref.partition(":")[2],), f"sha256:{i:064x}", "", "linux/amd64",
                          None, "debian", "12")

    def listed(f: Finding) -> AdviceFinding:
        return AdviceFinding(f.id, f.package.name, f.package.version, f.severity, f.fixed_version)

    return BaseAdvice(base=base(1, "example/deb:12.1"), inherited=(),
                      candidates=tuple(AdviceCandidate(base(i, ref), tuple(map(listed, removed)), (), ())
                                       for i, (ref, removed) in enumerate(candidates, 2)))
