"""`python -m hullscan.versions` speaks the vectors README protocol, as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from vectors_data import KNOWN_DISAGREEMENTS


def test_protocol_on_a_sample(vectors):
    sample = []
    for _scheme, records in sorted(vectors.items()):
        sample.extend(r for r in records[::97] if r["id"] not in KNOWN_DISAGREEMENTS)
        sample.extend(r for r in records if r["kind"] != "compare" and r["id"] not in KNOWN_DISAGREEMENTS)
    questions = []
    for rec in sample:
        q = {k: v for k, v in rec.items() if k not in ("expect", "id", "source", "note")}
        questions.append(json.dumps(q))
    questions.insert(3, json.dumps({"scheme": "nope", "kind": "compare", "a": "1", "b": "2"}))
    proc = subprocess.run(
        [sys.executable, "-m", "hullscan.versions"], input="\n".join(questions) + "\n",
        capture_output=True, text=True, timeout=120, check=True,
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == len(questions)
    assert lines.pop(3) == "unsupported"
    for rec, line in zip(sample, lines, strict=False):
        if rec["kind"] == "compare":
            n = int(line)
            assert (n > 0) - (n < 0) == rec["expect"], rec
        else:
            assert line == ("true" if rec["expect"] else "false"), rec
