"""What reachability adds to a cold scan: `hullscan image docker-archive:…` of scan_bench.py's image
(Debian bookworm minbase, 37 PyPI wheels, an npm app, Syft's 45 MB Go executable) with and without the
reachability work, interleaved, each sample a fresh process into an empty --cache-dir.

    .venv/bin/python bench/reach_bench.py [--runs 5] [--import-reachability] [--profile OUT.prof]

"without" runs the same CLI through this script's `--child off` wrapper, which before `entry()` takes the
three reach analyzers (symlinks, ELF dynamic sections of every ELF file, Go function tables) out of the
registry and makes the reach stage (`scan/service.py` `_reach`) return the findings as they are — the
switch exists for this bench only; "with" runs through the same wrapper (`--child on`), unchanged, so both
pay the same start-up. The Go records' symbols are still read from the DB in both (one query).

With --import-reachability, a third case adds `--import-reachability` (the Python and Node import
analyzers: opt-in, their cost is out of this target; bench/README "Reachability").

Target (issue #25): "with" ≤ 1.15 × "without", wall and CPU (user+sys of the child), best of --runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
REACH_ANALYZERS = {"symlinks", "elf", "go-symbols"}


def child(mode: str, argv: list[str], profile: str | None = None) -> None:
    """The CLI, with the reach analyzers and stage taken out when `mode` is `off`; `profile`: cProfile it
    into that file (`entry()` ends with `os._exit`, which would skip cProfile's own dump)."""
    if mode == "off":
        from hullscan.inventory import registry
        from hullscan.scan import service

        every = registry.all_analyzers
        registry.all_analyzers = lambda: [a for a in every() if a.name not in REACH_ANALYZERS]  # the bench's switch
        service._reach = lambda image, inventory, findings, imports: findings  # the bench's switch
    from hullscan.cli.main import entry

    sys.argv = ["hullscan", *argv]
    if profile:
        import cProfile

        prof, real_exit = cProfile.Profile(), os._exit

        def dump_and_exit(code: int) -> None:
            prof.disable()
            prof.dump_stats(profile)
            real_exit(code)

        os._exit = dump_and_exit  # type: ignore[assignment]  # the bench's profile hook
        prof.enable()
    entry()


def main() -> None:
    if sys.argv[1:2] == ["--child"]:  # `--child on|off [--child-profile FILE] HULLSCAN ARGS…`: the rest is hullscan's
        mode, rest = sys.argv[2], sys.argv[3:]
        profile = rest[1] if rest[:1] == ["--child-profile"] else None
        return child(mode, rest[2:] if profile else rest, profile)
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--import-reachability", action="store_true")
    ap.add_argument("--profile", help="cProfile one cold scan with reachability into this file")
    args = ap.parse_args()

    sys.path.insert(0, str(REPO / "bench"))
    from scan_bench import CPU, build_db, compile_bytecode, image_files, timed

    tar, _oci = image_files()
    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        db = build_db(tmp / "vuln.db")
        me = [sys.executable, str(Path(__file__).resolve()), "--child"]
        scan = ["image", f"docker-archive:{tar}", "--db", str(db), "--format", "json", "--quiet"]
        cases = {"without": [*me, "off", *scan], "with": [*me, "on", *scan]}
        if args.import_reachability:
            cases["with imports"] = [*me, "on", *scan, "--import-reachability"]
        wall: dict[str, list[float]] = {k: [] for k in cases}
        timed(["cat", str(tar)])  # page cache: every run reads the file from memory
        for i in range(args.runs):
            order = list(cases) if i % 2 == 0 else list(reversed(cases))  # who goes first alternates
            for name in order:
                out = tmp / f"{name.replace(' ', '-')}.json"
                cmd = [*cases[name], "--output", str(out), "--cache-dir", str(tmp / f"cache-{name}-{i}")]
                wall[name].append(timed(cmd, label=name))
        load = os.getloadavg()[0]
        print(f"image: {tar} ({tar.stat().st_size / 2**20:.0f} MiB); {args.runs} cold runs each, load {load:.1f}")
        for name in cases:
            w, c = min(wall[name]), min(CPU[name])
            print(f"{name:>13}: wall {w:.2f} s (runs {', '.join(f'{x:.2f}' for x in wall[name])}), CPU {c:.2f} s")
        for name in cases:
            if name != "without":
                print(f"{name} ÷ without: wall {min(wall[name]) / min(wall['without']):.3f} "
                      f"(medians {median(wall[name]) / median(wall['without']):.3f}), "
                      f"CPU {min(CPU[name]) / min(CPU['without']):.3f} "
                      f"(medians {median(CPU[name]) / median(CPU['without']):.3f}) (target ≤ 1.15)")
        if args.profile:
            subprocess.run([*me, "on", "--child-profile", args.profile, *scan, "--output", str(tmp / "prof.json"),
                            "--cache-dir", str(tmp / "cache-prof")], check=True)
            print(f"profile of a cold scan with reachability: {args.profile}")


if __name__ == "__main__":
    main()
