"""`python -m hullscan.versions`: answer version questions, one JSON question per stdin line.

Protocol (tests/versions/testdata/vectors/README.md): each line is a record such as
`{"scheme":"deb","kind":"compare","a":"1.0-1","b":"1.0-2"}`; kinds are `compare` (answer: an
integer whose sign is the ordering), `satisfies` and `advisory` (answer: `true`/`false`). Exactly
one answer line per question, in order (stdout is block-buffered, which the evaluator's concurrent
reader handles; it is flushed at the end); a question that cannot be answered gets `unsupported`.
"""

from __future__ import annotations

import json
import sys

from hullscan.versions import constraints, get_scheme


def answer(q: dict) -> str:
    scheme = get_scheme(q["scheme"])
    kind = q["kind"]
    if kind == "compare":
        return str(scheme.compare(str(q["a"]), str(q["b"])))
    if kind == "satisfies":
        try:
            ok = scheme.satisfies(str(q["version"]), str(q.get("constraint") or ""), q.get("dialect") or "cmp")
        except ValueError:  # a constraint the ecosystem cannot read holds for nothing
            ok = False
        return "true" if ok else "false"
    if kind == "advisory":
        ok = constraints.advisory(
            scheme, str(q["version"]), [str(c) for c in q.get("vulnerable") or []],
            [str(c) for c in q.get("patched") or []], [str(c) for c in q.get("unaffected") or []],
            q.get("dialect") or "native",
        )
        return "true" if ok else "false"
    raise ValueError(f"unknown kind {kind!r}")


def main() -> int:
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            text = answer(json.loads(line))
        except Exception:  # one bad question must not stop the others
            text = "unsupported"
        out.write(text + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
