"""Two revisions of hullscan measured in one run, interleaved (old, new, old, new…), each sample a fresh process.

    .venv/bin/python bench/revisions.py OLD_REV [--new PATH_OR_REV] [--runs 3]

OLD_REV (and NEW when it is a revision) is checked out with `git worktree add --detach /tmp/hullscan-rev-<sha>`
and removed at the end; the default NEW is this working tree, whose src/ is copied once at the start (others
edit it while the bench runs; every sample must run the same code). Each revision runs as `python -m hullscan`
with PYTHONPATH=<tree>/src under this interpreter and venv, after `compileall` of its tree (neither pays
compilation), in a scratch working directory (no .hullscan.yaml or .trivyignore of ours applies).

Input: the image of bench/scan_bench.py (built once and cached) and a vulnerability DB that each revision
imports itself from the feeds scan_bench.py uses (its schema may differ between revisions). Measured:

1. cold: `image docker-archive:… --format json` into an empty --cache-dir: wall and CPU (user+sys of the
   process and its children), best and median of --runs (a cold run stores the result too);
2. warm (the result cached): instructions under callgrind for --format json and --format table (best of
   --runs; valgrind's count does not depend on the machine's load), and wall/CPU time best of 15;
3. matching 5,000 packages: `sbom <CycloneDX 1.6 JSON>` (the image's distinct packages plus its Debian
   packages renamed apart, so each is its own DB query), best of --runs; the time includes reading the SBOM.

A revision that fails a step prints the tail of its output and the script exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scan_bench  # bench/scan_bench.py: the bench image and the feeds (this file's directory is on sys.path)

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
WARM_SAMPLES = 15  # a warm run is tens of ms: more samples against scheduling noise
SBOM_PACKAGES = 5000


class StepFailed(Exception):
    def __init__(self, rev: Rev, step: str, detail: str) -> None:
        super().__init__(f"{rev.label} ({rev.desc}) failed at {step}:\n{detail}")


@dataclass
class Rev:
    label: str  # "old" / "new"
    desc: str  # short sha and subject (or the working tree's)
    src: Path  # on PYTHONPATH
    work: Path  # scratch dir: DB, caches, reports
    samples: dict[str, list[float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.work / "vuln.db"

    def add(self, metric: str, value: float) -> None:
        self.samples.setdefault(metric, []).append(value)


def git(*args: str, cwd: Path = REPO) -> str:
    """A git command that only reads (or adds/removes a worktree); its stdout."""
    proc = subprocess.run(["git", "--no-optional-locks", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def subject(rev: str, cwd: Path = REPO) -> str:
    line = git("log", "-1", "--format=%h %s", rev, cwd=cwd)
    return line if len(line) <= 90 else line[:89] + "…"


def compile_tree(src: Path) -> None:
    """Byte-compile as `pip install` does; PYTHONDONTWRITEBYTECODE (set here) would make compileall a no-op
    and every run compile its imports from source."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([PY, "-m", "compileall", "-q", str(src)], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"compileall {src} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def prepare(label: str, spec: str | None, tmp: Path, worktrees: list[Path]) -> Rev:
    """The tree to run for `spec`: a revision in a new worktree, or (None / a directory) a copy of a tree's src/."""
    work = tmp / label
    work.mkdir()
    if spec is None or Path(spec).is_dir():
        tree = Path(spec or REPO).resolve()
        changed = len(git("status", "--porcelain", "--", "src", cwd=tree).splitlines())
        desc = f"working tree {tree}, {changed} paths under src/ changed from HEAD {subject('HEAD', tree)}"
        src = work / "src"  # a snapshot: the tree may change under us
        shutil.copytree(tree / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        sha = git("rev-parse", "--verify", f"{spec}^{{commit}}")
        desc = subject(sha)
        tree = Path(f"/tmp/hullscan-rev-{sha}")
        if tree not in worktrees:  # old and new may be the same commit
            if tree.exists():  # left by an interrupted run
                git("worktree", "remove", "--force", str(tree))
            git("worktree", "add", "--detach", str(tree), sha)
            worktrees.append(tree)
        src = tree / "src"
    compile_tree(src)
    rev = Rev(label, desc, src, work)
    found = subprocess.run([PY, "-c", "import hullscan; print(hullscan.__file__)"], env=env_of(rev), cwd=work,
                           capture_output=True, text=True).stdout.strip()
    if not found.startswith(str(src)):  # the editable install's path must not win over PYTHONPATH
        raise StepFailed(rev, "import", f"hullscan imported from {found or 'nowhere'}, not {src}")
    return rev


def env_of(rev: Rev) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(rev.src)}


def hullscan(rev: Rev, step: str, args: Sequence[str], prefix: Sequence[str] = ()) -> tuple[float, float, str]:
    """`python -m hullscan ARGS` of `rev` in a fresh process: (wall s, user+sys CPU s of it and its children, output)."""
    with tempfile.TemporaryFile() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run([*prefix, PY, "-m", "hullscan", *args], stdin=subprocess.DEVNULL, stdout=out,
                              stderr=out, env=env_of(rev), cwd=rev.work)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if proc.returncode:
        tail = "\n".join(text.splitlines()[-25:])
        raise StepFailed(rev, step, f"exit {proc.returncode}: {' '.join(args)}\n{tail}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, text


def instructions(rev: Rev, step: str, args: Sequence[str]) -> int:
    """Instructions of one run under callgrind. Its out file goes to the scratch dir (the report must not:
    hullscan writes -o atomically, a rename onto /dev/null would replace it)."""
    out = rev.work / "callgrind.out"
    try:
        _, _, text = hullscan(rev, step, args, prefix=["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"])
        m = re.search(r"^summary:\s*(\d+)", out.read_text(), re.M) or re.search(r"Collected\s*:\s*([\d,]+)", text)
    finally:
        out.unlink(missing_ok=True)
    if not m:
        raise StepFailed(rev, step, "no instruction count in callgrind's output")
    return int(m.group(1).replace(",", ""))


def report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def write_sbom(cold_report: Path, out: Path) -> str:
    """A CycloneDX 1.6 JSON SBOM of SBOM_PACKAGES distinct packages: the image's own (one per purl) and its
    Debian packages again under new names and source names (real versions, each its own DB query)."""
    from packageurl import PackageURL

    rep = report(cold_report)
    pkgs = list({p["purl"]: p for p in rep["packages"] if p.get("purl") and p.get("version")}.values())
    own = len(pkgs)
    debs = [p for p in pkgs if p["type"] == "deb"]
    for i in range(SBOM_PACKAGES - own):
        p = debs[i % len(debs)]
        name = f"{p['name']}-x{i}"
        purl = PackageURL.from_string(p["purl"])._replace(name=name).to_string()  # names like libstdc++6 are escaped
        pkgs.append({**p, "name": name, "source_name": f"{p.get('source_name') or p['name']}-x{i}", "purl": purl})
    assert len({p["purl"] for p in pkgs}) == SBOM_PACKAGES, "the SBOM's packages are not distinct"
    os_info = rep["os"]
    components: list[dict[str, Any]] = [{
        "type": "operating-system", "bom-ref": "os", "name": os_info["family"], "version": os_info["version"],
        "properties": [{"name": f"hullscan:os:{k}", "value": str(os_info[k])} for k in ("name", "release", "codename", "ecosystem")],
    }]
    for n, p in enumerate(pkgs):
        props = [{"name": f"hullscan:package:{k}", "value": p[k]} for k in ("source_name", "source_version") if p.get(k)]
        components.append({"type": "library", "bom-ref": f"pkg-{n}", "name": p["name"], "version": p["version"],
                           "purl": p["purl"], "properties": props})
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
           "metadata": {"component": {"type": "container", "name": "bench/scan:1"}}, "components": components}
    out.write_text(json.dumps(doc))
    return f"{SBOM_PACKAGES:,} packages: the image's {own:,} distinct ones and {SBOM_PACKAGES - own:,} of its debs renamed"


def measure(revs: list[Rev], tar: Path, runs: int, tmp: Path) -> str:
    feeds = [scan_bench.FEEDS_DIR / x for x in scan_bench.FEEDS if (scan_bench.FEEDS_DIR / x).exists()]
    for rev in revs:
        hullscan(rev, "db import", ["db", "import", "--db", str(rev.db), *map(str, feeds)])
    with tar.open("rb") as f:  # page cache: every run reads the file from memory
        while f.read(1 << 24):
            pass
    # A scan does not store its result when the DB changed in the last 2 s (result_key's `settled`): every cold
    # run must do the same work, the first one too.
    time.sleep(2.5)

    def scan(rev: Rev, fmt: str, out: str, cache: str) -> list[str]:
        return ["image", f"docker-archive:{tar}", "--format", fmt, "-o", str(rev.work / out), "--quiet",
                "--db", str(rev.db), "--cache-dir", str(rev.work / cache)]

    for i in range(runs):
        for rev in revs:
            (rev.work / f"cache{i}").mkdir()
            wall, cpu, _ = hullscan(rev, "cold scan", scan(rev, "json", f"cold{i}.json", f"cache{i}"))
            rev.add("cold wall", wall)
            rev.add("cold cpu", cpu)

    def warm(rev: Rev, fmt: str) -> list[str]:
        return scan(rev, fmt, f"warm.{fmt}", "cache0")

    for rev in revs:  # once untimed in each format: whatever a format caches on its first run is cached
        for fmt in ("json", "table"):
            hullscan(rev, f"warm scan --format {fmt}", warm(rev, fmt))
        stats = report(rev.work / "warm.json")["stats"]
        if not stats.get("result_cached"):
            rev.notes["warm"] = f"the warm run did not use a cached result: {stats}"
    for _ in range(runs):
        for rev in revs:
            for fmt in ("json", "table"):
                rev.add(f"warm {fmt} instr", instructions(rev, f"warm scan --format {fmt} under callgrind", warm(rev, fmt)))
    for _ in range(WARM_SAMPLES):
        for rev in revs:
            wall, cpu, _ = hullscan(rev, "warm scan", warm(rev, "json"))
            rev.add("warm wall", wall)
            rev.add("warm cpu", cpu)

    sbom = tmp / "sbom-5000.cdx.json"
    made = write_sbom(revs[0].work / "cold0.json", sbom)
    for _ in range(runs):
        for rev in revs:
            args = ["sbom", str(sbom), "--format", "json", "-o", str(rev.work / "sbom.json"), "--quiet", "--db", str(rev.db)]
            wall, cpu, _ = hullscan(rev, "sbom", args)
            rev.add("match wall", wall)
            rev.add("match cpu", cpu)
    return made


def fmt_s(x: float) -> str:
    return f"{x:.3f} s"


def fmt_m(x: float) -> str:
    return f"{x / 1e6:,.1f} M"


def print_table(old: Rev, new: Rev, runs: int) -> None:
    best: Callable[[list[float]], float] = min
    median: Callable[[list[float]], float] = statistics.median
    rows = [  # (metric, sample key, statistic, formatter)
        (f"cold wall, best of {runs}", "cold wall", best, fmt_s),
        (f"cold wall, median of {runs}", "cold wall", median, fmt_s),
        (f"cold CPU (user+sys), best of {runs}", "cold cpu", best, fmt_s),
        (f"cold CPU (user+sys), median of {runs}", "cold cpu", median, fmt_s),
        (f"warm --format json, instructions, best of {runs}", "warm json instr", best, fmt_m),
        (f"warm --format table, instructions, best of {runs}", "warm table instr", best, fmt_m),
        (f"warm json wall, best of {WARM_SAMPLES}", "warm wall", best, fmt_s),
        (f"warm json wall, median of {WARM_SAMPLES}", "warm wall", median, fmt_s),
        (f"warm json CPU, best of {WARM_SAMPLES}", "warm cpu", best, fmt_s),
        (f"match 5,000 packages (sbom, incl. reading it), wall best of {runs}", "match wall", best, fmt_s),
        (f"match 5,000 packages (sbom, incl. reading it), CPU best of {runs}", "match cpu", best, fmt_s),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'metric':<{width}}  {'old':>11}  {'new':>11}  new/old")
    for name, key, stat, form in rows:
        a, b = stat(old.samples[key]), stat(new.samples[key])
        print(f"{name:<{width}}  {form(a):>11}  {form(b):>11}  {b / a:7.3f}")
    spread = {r.label: f"{min(r.samples['warm json instr']) / 1e6:,.1f} - {max(r.samples['warm json instr']) / 1e6:,.1f} M"
              for r in (old, new)}
    print(f"(warm json instructions, all runs: old {spread['old']}, new {spread['new']})")


def checks(old: Rev, new: Rev) -> None:
    """What each revision found: a faster revision that finds less is no improvement."""
    for name, path in (("cold scan", "cold0.json"), ("sbom", "sbom.json")):
        counts = []
        for rev in (old, new):
            r = report(rev.work / path)
            counts.append(f"{len(r['packages']):,} packages, {len(r['vulnerabilities']):,} vulnerabilities")
        same = "" if counts[0] == counts[1] else "   <- differ"
        print(f"{name}: old {counts[0]}; new {counts[1]}{same}")
    for rev in (old, new):
        for note in rev.notes.values():
            print(f"note ({rev.label}): {note}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", metavar="OLD_REV")
    ap.add_argument("--new", metavar="PATH_OR_REV", help="a revision, or a tree's directory (default: this working tree)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed for the warm instruction counts")
    tar, _ = scan_bench.image_files()
    load_before = os.getloadavg()
    worktrees: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="hullscan-revisions-") as tmpd:
        tmp = Path(tmpd)
        try:
            old = prepare("old", args.old, tmp, worktrees)
            new = prepare("new", args.new, tmp, worktrees)
            made = measure([old, new], tar, args.runs, tmp)
        except StepFailed as e:
            print(f"FAILED: {e}", file=sys.stderr)
            return 1
        finally:
            for tree in worktrees:
                git("worktree", "remove", "--force", str(tree))
        print(f"image: {tar} ({tar.stat().st_size / 2**20:.0f} MiB); SBOM: {made}")
        print(f"old: {old.desc}\nnew: {new.desc}")
        cpus = os.cpu_count()
        print(f"machine: nproc {len(os.sched_getaffinity(0))} (of {cpus}), load average {load_before[0]:.2f} at the start, "
              f"{os.getloadavg()[0]:.2f} at the end; Python {sys.version.split()[0]} ({PY})")
        print_table(old, new, args.runs)
        checks(old, new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
