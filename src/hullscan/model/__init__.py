"""The typed domain model, from inventory to verdict: plain frozen data that every stage reads and
writes (DESIGN.md "The flow"). Nothing here imports a stage; the JSON shape of these types is
`report/`'s business alone (report/json_report.py writes it, report/load.py reads it back).

| module | holds |
|---|---|
| image.py | what a scan says of the image: target, layers, config, base image |
| inventory.py | packages, the OS, removed packages, warnings |
| findings.py | vulnerability findings with their match details, secret and config findings, risk |
| verdict.py | the policy's verdict and what it suppressed |
| report.py | the whole result of a scan (`Report`), what the writers render |

Every class is a `record` (hullscan/record.py): a warm scan builds these from the result cache, and
a record class costs microseconds to define where a dataclass costs a millisecond (docs/warm-path.md).
"""
