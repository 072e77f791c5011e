"""Box tables (report/boxes.py): layout, wrapping, and cells that are only ever text."""

from __future__ import annotations

import unicodedata

from hullscan.report.boxes import cell_width, table, wrap
from hullscan.report.table import render


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_a_small_table_looks_like_this() -> None:
    got = table(("Package", "Fixed in"), [("openssl", "3.0.2-r1"), ("zlib", "")], width=80, title="OS packages")
    assert got == "\n".join([
        "OS packages",
        "┏━━━━━━━━━┳━━━━━━━━━━┓",
        "┃ Package ┃ Fixed in ┃",
        "┡━━━━━━━━━╇━━━━━━━━━━┩",
        "│ openssl │ 3.0.2-r1 │",
        "│ zlib    │          │",
        "└─────────┴──────────┘",
    ])


def test_cells_wrap_to_fit_the_width_and_keep_every_word() -> None:
    reason = "CVSS 9.8 · known exploited · EPSS 0.97 · fix 1.2.3 · base layer"
    rows = [("a-rather-long-package-name", "CVE-2024-0001", reason)] * 3
    got = table(("Package", "Vulnerability", "Risk"), rows, width=50, no_wrap=("Vulnerability",))
    lines = got.splitlines()
    assert {_width(line) for line in lines} == {50}, got
    risk_text = " ".join(line.split("│")[3].strip() for line in lines[3:-1] if line.startswith("│"))
    assert risk_text.split() == (reason.split() * 3)
    assert all("CVE-2024-0001" in line for line in lines[3:-1] if "CVE" in line)  # never cut


def test_a_table_that_cannot_fit_runs_wider_rather_than_cutting_no_wrap_columns() -> None:
    got = table(("Vulnerability", "Severity"), [("GHSA-aaaa-bbbb-cccc", "CRITICAL")], width=20,
                no_wrap=("Vulnerability", "Severity"))
    assert "│ GHSA-aaaa-bbbb-cccc │ CRITICAL │" in got.splitlines()


def test_markup_and_terminal_escapes_stay_text() -> None:
    hostile = "/srv/[bold]app[/]/\x1b[2J\x1b]0;pwned\x07.env"
    got = table(("Path",), [(hostile,)], width=120)
    assert "\x1b" not in got and "\x07" not in got
    assert "/srv/[bold]app[/]/\\x1b[2J\\x1b]0;pwned\\x07.env" in got


def test_wide_characters_take_two_columns() -> None:
    assert cell_width("漢字") == 4 and cell_width("e\u0301") == 1
    got = table(("Name", "Version"), [("漢字パッケージ", "1.0")], width=80)
    assert len({_width(line) for line in got.splitlines()}) == 1, got


def test_wrap_cuts_a_word_longer_than_the_column() -> None:
    assert wrap("sha256:0123456789abcdef", 8) == ["sha256:0", "12345678", "9abcdef"]
    assert wrap("see sha256:0123456789abcdef", 8) == ["see", "sha256:0", "12345678", "9abcdef"]
    assert wrap("漢字漢字漢", 4) == ["漢字", "漢字", "漢"]
    assert wrap("", 5) == [""]


def test_a_huge_cell_is_cut_in_linear_time() -> None:
    """A name of megabytes (a tar may carry one) must not hang the table: each cut is one pass."""
    huge = "é" * 200_000
    lines = wrap(huge, 10)
    assert len(lines) == 20_000 and "".join(lines) == huge


def test_the_table_format_renders_a_hostile_report() -> None:
    report = {
        "target": {"name": "img[/]", "type": "docker-archive"},
        "scanners": ["vuln", "secret"],
        "vulnerabilities": [{
            "id": "CVE-2024-0001", "severity": "HIGH", "status": "fixed", "fixed_version": "2.0",
            "package": {"name": "pkg[red]", "version": "1.0", "type": "npm", "paths": ["/app/\x1b[31mnode_modules"]},
            "layer": {"index": 1}, "risk": {"score": 40.0, "reason": "fix 2.0"},
        }],
        "secrets": [{"severity": "HIGH", "rule_id": "aws-access-key-id", "path": "/[/]x", "line": 3, "layer": 0,
                     "match": "AKIA****"}],
        "warnings": [{"message": "bad member \x1b[0m", "layer": 2, "path": "/etc/[x"}],
    }
    text = render(report).decode()
    assert "\x1b" not in text
    for literal in ("img[/]", "pkg[red]", "/app/\\x1b[31mnode_modules", "/[/]x", "Total: 1 (CRITICAL 0, HIGH 1"):
        assert literal in text, literal
