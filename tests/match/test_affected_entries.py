"""An advisory with several `affected` entries for one package (GitHub writes one per maintained branch):
match/loop.py tries each entry until one holds the version, and makes at most one match per advisory.

The record is GitHub's real GHSA-6r97-cj55-9hrq (Django, CVE-2019-14234; testdata/ghsa/, PROVENANCE.md):
three entries for `django`, one per branch — >= 1.11.0 < 1.11.23, >= 2.1.0 < 2.1.11, >= 2.2.0 < 2.2.4.
Expected values are read off those ranges by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hullscan.match.loop import match_inventory
from hullscan.model.inventory import Inventory, Package
from hullscan.vulndb import importer
from hullscan.vulndb.memory import MemoryReader
from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch

RECORD = Path(__file__).resolve().parent / "testdata" / "ghsa" / "GHSA-6r97-cj55-9hrq.json"


def django(version: str) -> Package:
    return Package(type="pypi", name="django", version=version, ecosystem="PyPI", purl=f"pkg:pypi/django@{version}",
                   analyzer="python-dist", paths=(f"/site-packages/Django-{version}.dist-info",))


@pytest.fixture(scope="module")
def db() -> MemoryReader:
    summary = importer.read([RECORD])
    assert not summary.errors and set(summary.batches) == {"osv"}
    (adv,) = summary.batches["osv"].advisories.values()
    assert [a.package for a in adv.affected] == ["django", "django", "django"]  # the record as the test needs it
    return MemoryReader(summary.batches.values())


@pytest.mark.parametrize("version,constraint,fix", [
    ("1.11.0", ">=1.11.0, <1.11.23", "1.11.23"),   # the first entry
    ("2.1.5", ">=2.1.0, <2.1.11", "2.1.11"),       # the second: the first does not hold it
    ("2.2", ">=2.2.0, <2.2.4", "2.2.4"),           # the third
    ("2.2.3", ">=2.2.0, <2.2.4", "2.2.4"),
])
def test_the_entry_holding_the_version_decides(db, version, constraint, fix):
    (f,) = match_inventory(Inventory(packages=[django(version)]), db).findings
    assert (f.id, f.aliases, f.advisory_ids) == ("CVE-2019-14234", ("GHSA-6r97-cj55-9hrq",), ("GHSA-6r97-cj55-9hrq",))
    assert (f.status, f.fixed_version, f.severity) == ("fixed", fix, "CRITICAL")
    (d,) = f.details  # one match for the advisory
    assert (d.advisory_id, d.constraint, d.version) == ("GHSA-6r97-cj55-9hrq", constraint, version)


@pytest.mark.parametrize("version", ["1.10.8", "1.11.23", "2.0.13", "2.1.11", "2.2.4", "3.0"])
def test_a_version_no_entry_holds_is_not_matched(db, version):
    # below every branch, each branch's fix, a branch the advisory does not name (2.0), after the last
    assert match_inventory(Inventory(packages=[django(version)]), db).findings == []


def test_overlapping_entries_make_one_match():
    """Entries that both hold the version (hand-made: GitHub's branches do not overlap) are one finding with
    one match, the first entry's."""
    batch = FeedBatch("ghsa")
    batch.put(AdvisoryIn("GHSA-over-lap0-0000", aliases=["CVE-2000-0001"], affected=[
        AffectedIn("PyPI", "django", [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.5"}]}],
                   status="fixed"),
        AffectedIn("PyPI", "django", [{"type": "ECOSYSTEM", "events": [{"introduced": "2.2"}, {"fixed": "2.2.9"}]}],
                   status="fixed"),
    ]))
    (f,) = match_inventory(Inventory(packages=[django("2.2.1")]), MemoryReader([batch])).findings
    (d,) = f.details
    assert (f.id, d.advisory_id, d.constraint) == ("CVE-2000-0001", "GHSA-over-lap0-0000", ">=0, <2.2.5")
