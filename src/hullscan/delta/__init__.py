"""What changed between two scans: the one package/finding delta that `hullscan diff` prints and that
rescans and the runtime-drift check reuse (docs/diff.md).

| module | holds |
|---|---|
| model.py | the delta's records (`Delta`, `Upgrade`, `FindingChange`…) |
| compare.py | `compare(old, new) -> Delta` over two judged `Report`s, and its identity rules |
| gate.py | what crosses an `--exit-code` threshold |
| document.py | the JSON document (docs/diff.schema.json) |
| table.py | the table |
"""
