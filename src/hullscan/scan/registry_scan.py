"""Every repository and tag of a registry scanned with one service: one JSON report per image, a summary,
and the exit code of the whole run (`hullscan registry scan`; the CLI only parses and prints).

Images are scanned in threads; a layer shared by several images is analyzed once (walk/layers.py takes
turns per diff_id and the per-layer cache holds its facts).
"""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hullscan.errors import ExitCode, HullscanError
from hullscan.fsio import write_atomic
from hullscan.image.registry import connect, list_repositories, list_tags
from hullscan.image.registry_ref import valid_repository, valid_tag
from hullscan.policy.gate import judge
from hullscan.policy.model import Policy
from hullscan.report.json_report import render
from hullscan.scan.service import ScanService


@dataclass
class ImageScan:
    """One image's line in the summary (summary.json holds these fields)."""

    reference: str
    report_path: str = ""
    manifest_digest: str = ""
    packages: int = 0
    severities: dict[str, int] = field(default_factory=dict)
    secrets: int = 0
    passed: bool | None = None
    """The policy's verdict; None without a policy gate."""
    walked: int = 0
    cached: int = 0
    seconds: float = 0.0
    error: str = ""
    exit_code: int = 0


@dataclass
class RegistryScan:
    registry: str
    images: list[ImageScan]
    seconds: float

    @property
    def exit_code(self) -> int:
        """The first image's failure that is not a verdict (2 unreadable, 3 registry, 4 DB), else 1 when an
        image failed its policy, else 0."""
        code = next((r.exit_code for r in self.images if r.exit_code not in (0, ExitCode.GATE_FAILED)), 0)
        if not code and any(r.passed is False for r in self.images):
            code = ExitCode.GATE_FAILED
        return code


def select(names: list[str], globs: list[str]) -> list[str]:
    if not globs:
        return sorted(names)
    return sorted(n for n in names if any(fnmatch.fnmatchcase(n, g) for g in globs))


def report_path(output_dir: Path, repo: str, tag: str) -> Path:
    """DIR/REPO/TAG.json: repository and tag names were checked against the reference grammar, so they
    cannot climb out of DIR."""
    return output_dir.joinpath(*repo.split("/"), f"{tag}.json")


def list_images(host: str, service: ScanService, repos: list[str], tags: list[str],
                say: Callable[[str], None]) -> list[tuple[str, str]]:
    """(repository, tag) of every image the globs select; names the registry gives that are not valid
    references are skipped with a message (they become paths under the output directory)."""
    source = service.options.source
    client = connect(host, insecure=source.insecure, username=source.username, password=source.password)
    try:
        chosen = []
        for name in select(list_repositories(client), repos):
            if valid_repository(name):
                chosen.append(name)
            else:
                say(f"skipping invalid repository name {name!r}")
        images: list[tuple[str, str]] = []
        for name in chosen:
            for t in select(list_tags(client, name), tags):
                if valid_tag(t):
                    images.append((name, t))
                else:
                    say(f"{name}: skipping invalid tag {t!r}")
    finally:
        client.close()
    say(f"{len(images)} images in {len(chosen)} repositories of {host}")
    return images


def scan_registry(host: str, service: ScanService, policy: Policy, output_dir: Path, *, repos: list[str],
                  tags: list[str], parallel: int, say: Callable[[str], None]) -> RegistryScan:
    """Scan the selected images, `parallel` at a time, write DIR/REPO/TAG.json and DIR/summary.json."""
    if service.open_db is not None:  # a missing DB would fail every image: say it once, before any pull
        service.open_db().close()
    images = list_images(host, service, repos, tags, say)
    done: list[ImageScan] = []
    lock = threading.Lock()

    def one(item: tuple[str, str]) -> ImageScan:
        name, tag = item
        res = scan_one(f"{host}/{name}:{tag}", service, policy, report_path(output_dir, name, tag))
        with lock:
            done.append(res)
            state = res.error or f"{res.packages} packages, {res.walked} layers analyzed, {res.cached} from cache"
            say(f"[{len(done)}/{len(images)}] {res.reference}: {state}")
        return res

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        ordered = list(pool.map(one, images))
    result = RegistryScan(host, ordered, round(time.perf_counter() - started, 3))
    summary = {"registry": host, "images": [asdict(r) for r in ordered], "seconds": result.seconds}
    output_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(output_dir / "summary.json", json.dumps(summary, indent=2).encode() + b"\n", private=False)
    return result


def scan_one(reference: str, service: ScanService, policy: Policy, out: Path) -> ImageScan:
    res = ImageScan(reference=reference)
    started = time.perf_counter()
    try:
        report = judge(service.scan(f"registry:{reference}"), policy)
        out.parent.mkdir(parents=True, exist_ok=True)  # DIR/REPO/ for a new repository
        write_atomic(out, render(report), private=False)
    except HullscanError as err:
        res.error, res.exit_code = str(err), err.exit_code
    except OSError as err:
        res.error, res.exit_code = f"cannot write {out}: {err.strerror}", ExitCode.IO_FAILURE
    else:
        res.report_path = str(out)
        res.manifest_digest = report.target.manifest_digest
        res.packages = len(report.packages)
        for v in report.vulnerabilities:
            res.severities[v.severity] = res.severities.get(v.severity, 0) + 1
        res.secrets = len(report.secrets)
        res.passed = report.verdict.passed if report.verdict is not None and report.verdict.gate else None
        res.walked, res.cached = report.stats.walked, report.stats.cached
    res.seconds = round(time.perf_counter() - started, 3)
    return res
