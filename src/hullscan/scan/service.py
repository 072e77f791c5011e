"""The scan pipeline as a service object: target → Image → per-layer facts → Inventory → findings → Report.

`ScanService` takes its collaborators as arguments — how images are opened, which analyzers run, the
layer cache, how the vulnerability DB is opened, the matchers, the clock — so the CLI, a worker and the
tests each build the one they need (`scan/wiring.py` builds the CLI's). It returns a `model.Report`
without a verdict; the policy stage judges it, a writer renders it.

A local image whose every blob is verified, scanned again with the same options, code and DB, takes its
Report from the result cache (scan/result_cache.py): no layer is walked, no DB opened, no analyzer
imported. Everything else loads only when a scan needs it (docs/warm-path.md).
"""

from __future__ import annotations

import time

from hullscan.model.image import BaseImage, LayerInfo
from hullscan.model.image import Target as TargetInfo
from hullscan.model.report import DbInfo, FeedInfo, Report, ScanStats
from hullscan.model.text import valid_text
from hullscan.record import record, replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime
    from typing import Any

    from hullscan.cache.store import LayerCache
    from hullscan.image.model import Image
    from hullscan.image.target import SourceOptions
    from hullscan.match.matcher import Matcher
    from hullscan.model.findings import ConfigFinding, SecretFinding
    from hullscan.model.image import ImageConfig
    from hullscan.model.inventory import Inventory, LayerRef, OSInfo
    from hullscan.scan.options import ScanOptions
    from hullscan.secrets.config_scan import ConfigScan
    from hullscan.vulndb.read import AdvisoryReader
    from hullscan.walk.analyzer import Analyzer, LayerFacts


def utc_now() -> datetime:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@record
class ScanService:
    """One configured pipeline. Collaborators are callables where building them costs imports a warm
    scan does not pay (analyzers, the DB)."""

    options: ScanOptions
    open_image: Callable[[str, SourceOptions], Image]
    """Opens a target (image/target.py open_image)."""
    analyzers: Callable[[], Sequence[Analyzer]]
    """The analyzers to run (called once per cold scan)."""
    open_db: Callable[[], AdvisoryReader] | None = None
    """Opens the advisory store for matching; None when the vuln scanner does not run."""
    check_db: Callable[[], None] | None = None
    """Fails fast (before any image is read) when the advisory store is missing."""
    matchers: Callable[[], Sequence[Matcher]] | None = None
    """The matchers, in the order they are asked (None: match/registry.py's)."""
    layer_cache: Callable[[], tuple[LayerCache | None, list[str]]] | None = None
    """Opens the per-layer cache: (cache or None when unusable, warnings saying why)."""
    clock: Callable[[], datetime] = utc_now
    result_cache: bool = True
    """Serve and store whole results (needs the layer cache)."""
    progress: Callable[[str], None] | None = None
    notice: Callable[[str], None] | None = None
    """Where a scan says what the user should know that is no warning (what --skip-dirs skipped)."""
    open_catalog: Callable[[], Any] | None = None
    """Opens the base image catalog (state/catalog.py `Catalog`, a context manager); None: the state
    store at `$HULLSCAN_STATE_URL`, else the default file (a missing file is an empty catalog)."""
    open_state: Callable[[], Any] | None = None
    """Opens the state store holding stored inventories (`stored:` targets; state/store.py `StateStore`,
    a context manager); None: `$HULLSCAN_STATE_URL`, else the default file."""

    def scan(self, target: str, *, render_packages: Callable[[Any], bytes | None] | None = None) -> Report:
        """Scan a target. `render_packages` renders the packages as the JSON writer would, stored beside
        a cacheable result so a warm scan printed as JSON copies them (cache/results.py)."""
        if self.check_db is not None:
            self.check_db()
        if target.startswith("sbom:"):
            return self.scan_sbom(target[len("sbom:"):])
        if target.startswith("stored:"):
            return self.scan_stored(target)
        started = time.perf_counter()
        image = self.open_image(target, self.options.source)
        try:
            cache, warnings = self.layer_cache() if self.layer_cache is not None and not image.rootfs_path else (None, [])
            try:
                if cache is None or not self.result_cache:
                    return self._scan_image(image, cache, warnings, started)
                return self._scan_cached(image, cache, warnings, started, render_packages)
            finally:
                if cache is not None:
                    cache.close()
        finally:
            image.close()

    # -- the result cache --------------------------------------------------------------------------

    def _scan_cached(self, image: Image, cache: LayerCache, warnings: list[str], started: float,
                     render_packages: Callable[[Any], bytes | None] | None) -> Report:
        from hullscan.cache.results import pack, unpack
        from hullscan.scan.result_cache import result_key

        found = result_key(image, self.options)
        stored = cache.result(found[0]) if found is not None else None
        cached = unpack(stored) if stored is not None else None
        if cached is not None and _blobs_verified(image, cache):
            stats = ScanStats(walked=0, cached=len(image.layers), seconds=round(time.perf_counter() - started, 3),
                              result_cached=True)
            return self._refresh(cached, image, stats)
        report = self._scan_image(image, cache, warnings, started)
        if found is not None and found[1]:
            rendered = render_packages(report.packages) if render_packages is not None else None
            import sqlite3

            try:
                cache.store_result(found[0], pack(report, rendered))
            except (sqlite3.Error, OSError) as err:  # a cache that cannot be written only costs time next scan
                from hullscan.model.inventory import ScanWarning

                report = replace(report, warnings=(*report.warnings, ScanWarning(f"result not cached: {err}")))
        return report

    def _refresh(self, cached: Report, image: Image, stats: ScanStats) -> Report:
        """A cached report (same config and diff_ids, so the same findings and layer history) as this
        scan's: its time, target, blob digests, DB age and stats are this scan's."""
        db = cached.db
        if db is not None and db.built_at:
            from datetime import datetime

            built = datetime.fromisoformat(db.built_at)  # "…Z" (3.11 reads it; strptime's import costs 2 ms)
            db = replace(db, age_days=round((self.clock() - built).total_seconds() / 86400, 2))
        # an engine image's layer sizes come only with its save stream, which a warm scan never reads
        layers = tuple(replace(info, digest=layer.digest, size=layer.size if layer.size >= 0 else info.size,
                               media_type=layer.media_type)
                       for info, layer in zip(cached.layers, image.layers, strict=True))
        now = iso(self.clock())
        os = cached.os
        if os is not None and os.support is not None and os.support.date <= now[:10]:
            os = replace(os, eol=os.support, support=None)  # its support ended since it was cached
        return replace(cached, created_at=now, target=valid_text(_target(image)), layers=layers, db=db,
                       stats=stats, os=os)

    # -- a scan of an opened image -----------------------------------------------------------------

    def _scan_image(self, image: Image, cache: LayerCache | None, warnings: list[str], started: float) -> Report:
        """Facts of every layer (through the layer cache), inventory, findings, secrets."""
        from hullscan.inventory.applier import apply_layers
        from hullscan.model.inventory import ScanWarning
        from hullscan.walk.layers import collect_facts

        opened: dict[str, Any] = {}

        def open_db() -> None:  # opening and checking the DB overlaps the layer walks
            if self.open_db is not None and "db" not in opened:
                opened["db"] = self.open_db()

        analyzers = list(self.analyzers())
        if image.source_type in ("docker", "podman"):  # an engine's image: its layers come in one save stream
            from hullscan.walk.streamed import collect_streamed

            facts, counts = collect_streamed(image, analyzers, cache, self.progress, while_walking=open_db)  # type: ignore[arg-type]  # an EngineImage
        else:
            facts, counts = collect_facts(image, analyzers, cache, self.progress, while_walking=open_db)
        scanned = _scan_config(image, analyzers)
        unknown = BaseImage(None)
        for lf in facts:  # history lines masked now; base or not once the base is known (below)
            lf.ref = _reported_ref(lf.ref, unknown, scanned)
        skip = None
        if self.options.skip_files or self.options.skip_dirs:
            from hullscan.inventory.skip import SkipPaths

            skip = SkipPaths(self.options.skip_files, self.options.skip_dirs)
        inventory = apply_layers(analyzers, facts, skip)
        if skip is not None and skip.tally and self.notice is not None:
            self.notice(skip.describe())
        inventory.warnings[:0] = [ScanWarning(m) for m in warnings]
        # the base needs the inventory (a `similar` base is known by its packages): decided now, then
        # every package's layer says base or not and carries `inherited`
        base = self._identify(image, inventory, scanned)
        refs = [lf.ref if base.layer_count is None else replace(lf.ref, base=lf.ref.index < base.layer_count)
                for lf in facts]
        _mark_inherited(inventory, refs, base)
        open_db()  # when no layer walk gave it the chance
        inventory.os = self._judge_eol(inventory.os, opened.get("db"))
        imports: dict[Any, Any] = {}
        findings, db_info = self._match(inventory, opened.get("db"), imports)
        findings = [replace(f, inherited=f.package.inherited) for f in findings]
        if findings:
            findings = _reach(image, inventory, findings, imports)
        secrets, misconfigurations = self._secrets(inventory, scanned.findings if image.config.raw else [], refs)
        report: Report = valid_text(Report(
            created_at=iso(self.clock()),
            target=_target(image),
            layers=_layers(image, base, scanned),
            scanners=tuple(sorted(self.options.scanners)),
            os=inventory.os,
            config=scanned.config,
            base_image=base,
            packages=sorted(inventory.packages, key=_pkg_sort),
            history=tuple(inventory.history),
            vulnerabilities=tuple(findings),
            secrets=tuple(secrets),
            misconfigurations=tuple(misconfigurations),
            db=db_info,
            warnings=tuple(inventory.warnings),
            stats=ScanStats(walked=counts["walked"], cached=counts["cached"],
                            seconds=round(time.perf_counter() - started, 3)),
        ))
        return report

    def scan_over(self, under: Report, image: Image, facts: list[LayerFacts], analyzers: Sequence[Analyzer],
                  walked: int, started: float) -> Report:
        """`under` (the report of `image`) with more layers on top: `facts` are every layer's, the image's
        first (from the layer cache) and then the top ones (a running container's runtime changes,
        scan/container.py). Inventory, matching and file secrets are those of the whole; the config, its
        findings, the base and the layer list stay `under`'s (never cached: a top layer is not content-addressed)."""
        from hullscan.inventory.applier import apply_layers
        from hullscan.model.inventory import LayerRef

        skip = None
        if self.options.skip_files or self.options.skip_dirs:
            from hullscan.inventory.skip import SkipPaths

            skip = SkipPaths(self.options.skip_files, self.options.skip_dirs)
        inventory = apply_layers(analyzers, facts, skip)
        refs = [LayerRef(index=x.index, diff_id=x.diff_id, created_by=x.created_by, base=x.base) for x in under.layers]
        refs += [lf.ref for lf in facts[len(refs):]]
        _mark_inherited(inventory, refs, under.base_image)
        db = self.open_db() if self.open_db is not None else None
        inventory.os = self._judge_eol(inventory.os, db)
        imports: dict[Any, Any] = {}
        findings, db_info = self._match(inventory, db, imports)
        findings = [replace(f, inherited=f.package.inherited) for f in findings]
        if findings:
            image.config = under.config  # masked: reachability reads only its entrypoint, env and working dir
            findings = _reach(image, inventory, findings, imports)
        secrets, misconfigurations = self._secrets(inventory, [], refs)
        configured = [s for s in under.secrets if s.path.startswith("config:")]  # the image config's, as scanned
        report: Report = valid_text(replace(
            under, created_at=iso(self.clock()), os=inventory.os, packages=sorted(inventory.packages, key=_pkg_sort),
            history=tuple(inventory.history), vulnerabilities=tuple(findings), secrets=(*configured, *secrets),
            misconfigurations=(*(m for m in under.misconfigurations if m.path.startswith("config:")), *misconfigurations),
            db=db_info, warnings=tuple(inventory.warnings),
            stats=ScanStats(walked=walked, cached=len(facts) - walked, seconds=round(time.perf_counter() - started, 3))))
        return report

    def _identify(self, image: Image, inventory: Inventory, scanned: ConfigScan) -> BaseImage:
        """The image's base (base/identify.py) against the catalog; a catalog that cannot be read is a
        warning and the base is decided without it. A root filesystem has no layers: not applicable."""
        from hullscan.base.identify import NOT_APPLICABLE, identify_base
        from hullscan.errors import HullscanError
        from hullscan.model.inventory import ScanWarning

        if image.rootfs_path:
            return NOT_APPLICABLE
        diff_ids = [layer.diff_id for layer in image.layers]
        try:
            with self._open_catalog() as catalog:
                found = identify_base(image.config, image.manifest_annotations, diff_ids, catalog, inventory.os,
                                      inventory.packages)
        except HullscanError as err:
            inventory.warnings.append(ScanWarning(f"base image catalog not read ({err}); base identified without it"))
            found = identify_base(image.config, image.manifest_annotations, diff_ids, None)
        inventory.warnings.extend(ScanWarning(m) for m in found.warnings)
        return _masked_base(found.base, image.config, scanned.config)

    def _open_catalog(self) -> Any:
        if self.open_catalog is not None:
            return self.open_catalog()
        from hullscan.state.catalog import open_catalog

        return open_catalog(None)

    def _judge_eol(self, os: OSInfo | None, db: AdvisoryReader | None) -> OSInfo | None:
        """The OS with its end of life (vulndb/eol.py) on the scan's day: by the DB's EOL table when it
        holds one for its product (`db update`'s `eol` feed), else by the built-in table."""
        if os is None:
            return None
        from hullscan.vulndb.eol import builtin, judge, scan_table

        table = builtin()
        if db is not None:
            state = db.feed("eol")
            table = scan_table(db.eol_cycles(), (state.fetched_at or state.imported_at) if state is not None else None)
        return judge(os, table, iso(self.clock())[:10])

    def _match(self, inventory: Inventory, db: AdvisoryReader | None,
               imports: dict[Any, Any] | None = None) -> tuple[list[Any], DbInfo | None]:
        """The vuln scanner: findings for the inventory, and what the DB is. Closes the DB. `imports`
        receives the Go records' affected symbols of the findings of Go programs (hullscan.reach)."""
        if db is None:
            return [], None
        from hullscan.match.loop import match_inventory
        from hullscan.model.inventory import ScanWarning

        try:
            if self.matchers is None:
                matched = match_inventory(inventory, db, self.options.match)
            else:
                matched = match_inventory(inventory, db, self.options.match, tuple(self.matchers()))
            inventory.warnings.extend(ScanWarning(message=m) for m in matched.warnings)
            if imports is not None:  # read now: the DB closes before reachability is assessed
                go = {d.advisory_id for f in matched.findings if f.package.type == "golang" for d in f.details}
                if go:
                    imports.update(db.imports(go))
            built = db.built_at
            info = DbInfo(
                location=getattr(db, "display", ""),
                built_at=iso(built) if built else None,
                age_days=round(db.age.total_seconds() / 86400, 2) if db.age is not None else None,
                feeds=tuple(FeedInfo(f.feed, f.imported_at, f.fetched_at, f.advisories) for f in db.feeds()),
                coverage=matched.coverage,
            )
            return matched.findings, info
        finally:
            db.close()

    def _secrets(self, inventory: Inventory, config_facts: list[dict[str, Any]],
                 refs: list[LayerRef]) -> tuple[list[SecretFinding], list[ConfigFinding]]:
        """Secret findings of files (every layer, deleted files too) and of the image config; config findings."""
        facts = inventory.facts.pop("secret", None) or []
        scanners = self.options.scanners
        if not ({"secret", "config"} & scanners):
            return [], []
        secrets: list[SecretFinding] = []
        misconfigurations: list[ConfigFinding] = []
        for f in [*facts, *config_facts]:
            if f.get("class") == "config":
                if "config" in scanners:
                    misconfigurations.append(_config_finding(f, refs))
            elif "secret" in scanners:
                secrets.append(_secret_finding(f, refs))
        return secrets, misconfigurations

    # -- stored inventories ------------------------------------------------------------------------

    def scan_stored(self, target: str) -> Report:
        """`stored:sha256:…`: a stored inventory (state/inventories.py) matched against the current DB, as an
        SBOM's is; its secrets, config findings and layers are the ones stored (no image is read)."""
        from hullscan.model.inventory import Inventory
        from hullscan.state.inventories import load, resolve

        started = time.perf_counter()
        if self.open_state is not None:
            state = self.open_state()
        else:
            from hullscan.state.store import open_state

            state = open_state(None)
        with state:
            stored = load(state, resolve(state, target)).report
        db = self.open_db() if self.open_db is not None else None
        inventory = Inventory(os=stored.os, packages=list(stored.packages), history=list(stored.history))
        inventory.os = self._judge_eol(inventory.os, db)
        findings, db_info = self._match(inventory, db)
        findings = [replace(f, inherited=f.package.inherited) for f in findings]
        known = set(stored.warnings)  # a warning of the stored scan's matching is not said twice
        return replace(stored, created_at=iso(self.clock()),
                       target=replace(stored.target, input=f"stored:{stored.target.manifest_digest or stored.target.config_digest}"),
                       scanners=tuple(s for s in stored.scanners if s in self.options.scanners),
                       secrets=stored.secrets if "secret" in self.options.scanners else (),
                       misconfigurations=stored.misconfigurations if "config" in self.options.scanners else (),
                       os=inventory.os, vulnerabilities=tuple(findings), db=db_info,
                       warnings=(*stored.warnings, *(w for w in inventory.warnings if w not in known)),
                       stats=ScanStats(walked=0, cached=0, seconds=round(time.perf_counter() - started, 3)))

    # -- SBOM input --------------------------------------------------------------------------------

    def scan_sbom(self, path: str) -> Report:
        """An SBOM instead of an image: its inventory goes straight to matching (no layers are read)."""
        from hullscan.model.image import ImageConfig
        from hullscan.model.inventory import LayerRef
        from hullscan.sbom_in import load_sbom

        started = time.perf_counter()
        db = self.open_db() if self.open_db is not None else None
        inventory, info = load_sbom(path)
        refs = [LayerRef(index=int(x["index"]), diff_id=str(x.get("diff_id", "")), base=x.get("base"))
                for x in info.get("layers") or []]
        # an SBOM hullscan wrote of an image says which layers were the base's (and each package's
        # `inherited`, sbom_in/packages.py); any other SBOM has no layers
        if not refs:
            from hullscan.base.identify import NOT_APPLICABLE

            base = NOT_APPLICABLE
        else:
            base = BaseImage(sum(1 for r in refs if r.base) if any(r.base is not None for r in refs) else None)
        inventory.packages = [replace(p, inherited=p.layer.base if p.layer is not None else None)
                              for p in inventory.packages]
        inventory.os = self._judge_eol(inventory.os, db)
        findings, db_info = self._match(inventory, db)
        findings = [replace(f, inherited=f.package.inherited) for f in findings]
        tools = info.get("sbom_tools")
        report: Report = valid_text(Report(
            created_at=iso(self.clock()),
            target=TargetInfo(input=path if path.startswith("sbom:") else f"sbom:{path}", type="sbom",
                              name=info.get("name") or path, manifest_digest=str(info.get("manifest_digest", "")),
                              config_digest=str(info.get("config_digest", "")),
                              repo_tags=tuple(info.get("repo_tags") or ())),
            layers=tuple(LayerInfo(index=r.index, digest="", size=-1, media_type="", diff_id=r.diff_id, base=r.base)
                         for r in refs),
            scanners=tuple(sorted(self.options.scanners)),
            os=inventory.os,
            config=ImageConfig(raw={}, architecture=str(info.get("architecture", ""))),
            base_image=base,
            packages=sorted(inventory.packages, key=_pkg_sort),
            vulnerabilities=tuple(findings),
            db=db_info,
            warnings=tuple(inventory.warnings),
            stats=ScanStats(walked=0, cached=0, seconds=round(time.perf_counter() - started, 3),
                            sbom_format=info.get("sbom_format"), sbom_tools=tuple(tools) if tools is not None else None),
        ))
        return report


def _reach(image: Image, inventory: Inventory, findings: list[Any], imports: dict[Any, Any]) -> list[Any]:
    """Every finding with its reachability (hullscan.reach), from the walk's facts, the matched Go
    records' symbols and the config."""
    from hullscan.model.inventory import ScanWarning
    from hullscan.reach.assess import assess
    from hullscan.reach.go import IMPORTS

    assessed, warnings = assess(image.config, {**inventory.facts, IMPORTS: imports}, inventory.packages, findings)
    inventory.warnings.extend(ScanWarning(message=f"reachability: {m}") for m in warnings)
    return assessed


def _blobs_verified(image: Image, cache: LayerCache) -> bool:
    """Every local blob is the one the cache saw: by its unchanged file, else hashed again (a rewritten
    or touched file); False when some blob was never walked. A mismatching blob raises InputError."""
    from hullscan.cache.blobs import verified_by_identity

    if verified_by_identity(image, cache):
        return True
    from hullscan.walk.layers import verify_blobs  # the walker's modules: only when hashing is due

    return verify_blobs(image, cache)


def _target(image: Image) -> TargetInfo:
    return TargetInfo(input=image.input, type=image.source_type, name=image.name,
                      manifest_digest=image.manifest_digest, config_digest=image.config_digest,
                      repo_tags=tuple(image.repo_tags), repo_digests=tuple(image.repo_digests))


def _scan_config(image: Image, analyzers: Sequence[Analyzer]) -> ConfigScan:
    """The image config's findings and the config as reports show it: every echoed field with the
    secrets those findings name masked, and no raw document — so neither a writer nor the result cache
    ever sees a secret of the config, whichever scanners ran (secrets/config_scan.py)."""
    from hullscan.secrets.config_scan import scan_config

    # the secret analyzer's rules (a `--secret-config` one's, when given) judge and mask the config
    ruleset = next((getattr(an, "ruleset", None) for an in analyzers if an.name == "secret"), None)
    return scan_config(image.config, ruleset)


def _masked_base(base: BaseImage, raw: ImageConfig, masked: ImageConfig) -> BaseImage:
    """The base image's name and digest as the masked config shows them when they come from its labels."""
    from hullscan.base.identify import BASE_DIGEST, BASE_NAME

    name = masked.labels.get(BASE_NAME, base.name) if base.name and base.name == raw.labels.get(BASE_NAME) else base.name
    digest = (masked.labels.get(BASE_DIGEST, base.digest) if base.digest and base.digest == raw.labels.get(BASE_DIGEST)
              else base.digest)
    return base if (name, digest) == (base.name, base.digest) else replace(base, name=name, digest=digest)


def _layers(image: Image, base: BaseImage, scanned: ConfigScan) -> tuple[LayerInfo, ...]:
    count = base.layer_count
    return tuple(LayerInfo(index=layer.index, digest=layer.digest, size=layer.size, media_type=layer.media_type,
                           diff_id=layer.diff_id, created_by=scanned.mask_created_by(layer.created_by),
                           base=None if count is None else layer.index < count)
                 for layer in image.layers)


def _reported_ref(ref: LayerRef, base: BaseImage, scanned: ConfigScan) -> LayerRef:
    """A layer as packages and findings name it: base or not, its history line masked."""
    return replace(ref, base=ref.base if base.layer_count is None else ref.index < base.layer_count,
                   created_by=scanned.mask_created_by(ref.created_by))


def _mark_inherited(inventory: Inventory, refs: list[LayerRef], base: BaseImage) -> None:
    """Every package (and every removed one) names its layer as `refs` does, with `inherited` set from it."""
    from hullscan.base.identify import inherited

    def marked(p: Any) -> Any:
        layer = p.layer
        if layer is not None and 0 <= layer.index < len(refs):
            layer = refs[layer.index]
        return replace(p, layer=layer, inherited=inherited(layer.index if layer is not None else None, base))

    inventory.packages = [marked(p) for p in inventory.packages]
    inventory.history = [replace(r, package=marked(r.package),
                                 removed_in=refs[r.removed_in.index] if 0 <= r.removed_in.index < len(refs)
                                 else r.removed_in) for r in inventory.history]


def _layer_at(refs: list[LayerRef], index: Any) -> LayerRef | None:
    """A secret fact's bare layer index as the layer it names."""
    if not isinstance(index, int) or not 0 <= index < len(refs):
        return None
    return refs[index]


def _secret_finding(f: dict[str, Any], refs: list[LayerRef]) -> SecretFinding:
    from hullscan.model.findings import SecretFinding

    line = f.get("line") or {}
    return SecretFinding(
        rule_id=f["rule_id"], category=f.get("category", ""), severity=f.get("severity", "UNKNOWN"),
        title=f.get("title", ""), path=f.get("path", ""), start_line=line.get("start", 0), end_line=line.get("end", 0),
        match=f.get("match", ""), fingerprint=f.get("fingerprint", ""), offset=f.get("offset", 0),
        source=f.get("source", "file"), layer=(layer := _layer_at(refs, f.get("layer"))),
        removed_in=_layer_at(refs, f.get("removed_in")), inherited=layer.base if layer is not None else None,
    )


def _config_finding(f: dict[str, Any], refs: list[LayerRef]) -> ConfigFinding:
    from hullscan.model.findings import ConfigFinding

    line = f.get("line") or {}
    return ConfigFinding(
        rule_id=f["rule_id"], category=f.get("category", ""), severity=f.get("severity", "UNKNOWN"),
        title=f.get("title", ""), message=f.get("message", ""), path=f.get("path", ""), match=f.get("match", ""),
        fingerprint=f.get("fingerprint", ""), start_line=line.get("start", 1), end_line=line.get("end", 1),
        offset=f.get("offset", 0), source=f.get("source", "config"), layer=(layer := _layer_at(refs, f.get("layer"))),
        removed_in=_layer_at(refs, f.get("removed_in")), inherited=layer.base if layer is not None else None,
    )


def _pkg_sort(p: Any) -> tuple[str, str, str, str]:
    return (p.type, p.name, p.version, p.paths[0] if p.paths else "")
