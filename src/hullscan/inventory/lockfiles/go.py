"""go.mod and go.sum parsers (declared Go modules).

Hand-written: there is no maintained Python reader for the go.mod grammar, and the part needed here
(require/replace/exclude directives, single-line or parenthesized, `// indirect` comments) is small.
Output is plain JSON data (the per-layer fact), turned into packages by `hullscan.inventory.golang`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Warn = Callable[[str], None]

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\S+')


def _tokens(text: str) -> list[str]:
    return [t[1:-1] if t[:1] in '"`' else t for t in _TOKEN.findall(text)]


def parse_go_mod(data: bytes, warn: Warn) -> dict[str, Any]:
    """{module, go, toolchain, require: [{path, version, indirect}], replace: [{old, old_version, new,
    new_version}], exclude: [{path, version}]}."""
    text = data.decode("utf-8", "replace")
    out: dict[str, Any] = {"module": "", "go": "", "toolchain": "", "require": [], "replace": [], "exclude": []}
    block: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        code, _, comment = raw.partition("//")
        indirect = comment.strip().startswith("indirect")
        toks = _tokens(code)
        if not toks:
            continue
        if block is not None:
            if toks == [")"]:
                block = None
                continue
            _directive(out, block, toks, indirect, lineno, warn)
            continue
        verb, args = toks[0], toks[1:]
        if args == ["("]:
            block = verb
            continue
        if verb == "module" and args:
            out["module"] = args[0]
        elif verb == "go" and args:
            out["go"] = args[0]
        elif verb == "toolchain" and args:
            out["toolchain"] = args[0]
        else:
            _directive(out, verb, args, indirect, lineno, warn)
    if block is not None:
        warn(f"unterminated {block} ( block")
    return out


def _directive(out: dict[str, Any], verb: str, args: list[str], indirect: bool, lineno: int, warn: Warn) -> None:
    if verb == "module" and args:
        out["module"] = args[0]
    elif verb == "require":
        if len(args) >= 2:
            out["require"].append({"path": args[0], "version": args[1], "indirect": indirect})
        else:
            warn(f"line {lineno}: require needs a path and a version")
    elif verb == "replace":
        if "=>" not in args:
            warn(f"line {lineno}: replace without =>")
            return
        i = args.index("=>")
        left, right = args[:i], args[i + 1 :]
        if not left or not right:
            warn(f"line {lineno}: incomplete replace")
            return
        out["replace"].append({
            "old": left[0], "old_version": left[1] if len(left) > 1 else "",
            "new": right[0], "new_version": right[1] if len(right) > 1 else "",
        })
    elif verb == "exclude" and len(args) >= 2:
        out["exclude"].append({"path": args[0], "version": args[1]})
    # module/go/toolchain inside blocks, retract, godebug, tool: nothing to inventory


def parse_go_sum(data: bytes, warn: Warn) -> list[dict[str, str]]:
    """Modules whose content (not only go.mod) was hashed: [{path, version, sum}] in file order."""
    out: list[dict[str, str]] = []
    bad = 0
    for raw in data.decode("utf-8", "replace").splitlines():
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 3:
            bad += 1
            continue
        path, version, digest = parts
        if version.endswith("/go.mod"):
            continue
        out.append({"path": path, "version": version, "sum": digest})
    if bad:
        warn(f"{bad} malformed go.sum line(s) skipped")
    return out


def go_at_least(go_directive: str, major: int, minor: int) -> bool:
    """Whether a `go 1.N` directive is at least major.minor (an empty directive predates modules' pruning)."""
    m = re.match(r"(\d+)\.(\d+)", go_directive or "")
    return m is not None and (int(m.group(1)), int(m.group(2))) >= (major, minor)


def module_semver_key(version: str) -> tuple:
    """Sort key for Go module versions (semver with a `v`; pseudo-versions sort by their base)."""
    m = re.match(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?", version)
    if not m:
        return (-1, -1, -1, 0, ())
    pre = m.group(4)
    pre_key: tuple = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, pre_key)


def resolve_go_mod(mod: dict[str, Any], go_sum: list[dict[str, str]] | None) -> list[dict[str, Any]]:
    """The modules a go.mod declares, replace directives applied: [{path, version, indirect, replaced?, sum?}].

    Since Go 1.17 go.mod lists every module the build needs; before, the transitive ones only
    appear in go.sum, so those are added (as indirect, the highest hashed version of each module,
    which is what minimal version selection keeps)."""
    sums = {(s["path"], s["version"]): s["sum"] for s in go_sum or []}
    excluded = {(e["path"], e["version"]) for e in mod.get("exclude", [])}
    mods: dict[str, dict[str, Any]] = {}
    for r in mod.get("require", []):  # an excluded required version stays: the one go picks instead is unknown
        mods[r["path"]] = {"path": r["path"], "version": r["version"], "indirect": bool(r["indirect"])}
    if go_sum is not None and not go_at_least(mod.get("go", ""), 1, 17):
        best: dict[str, str] = {}
        for s in go_sum:
            have = best.get(s["path"])
            if have is None or module_semver_key(s["version"]) > module_semver_key(have):
                best[s["path"]] = s["version"]
        for path, version in best.items():
            if path not in mods and path != mod.get("module") and (path, version) not in excluded:
                mods[path] = {"path": path, "version": version, "indirect": True}
    for rep in mod.get("replace", []):
        cur = mods.get(rep["old"])
        if cur is None or (rep["old_version"] and rep["old_version"] != cur["version"]):
            continue
        if not rep["new_version"]:  # local directory: the code is the project's own, not a registry module
            cur["replaced"] = f"{rep['old']} => {rep['new']}"
            cur["local"] = rep["new"]
            continue
        del mods[rep["old"]]
        mods[rep["new"]] = {
            "path": rep["new"], "version": rep["new_version"], "indirect": cur["indirect"],
            "replaced": f"{rep['old']}@{cur['version']}",
        }
    for m in mods.values():
        digest = sums.get((m["path"], m["version"]))
        if digest:
            m["sum"] = digest
    return sorted(mods.values(), key=lambda m: m["path"])
