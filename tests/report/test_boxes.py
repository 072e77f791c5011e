"""Box tables (report/boxes.py): layout, wrapping, and cells that are only ever text."""

from __future__ import annotations

import unicodedata

from hullscan.model.findings import Finding, Risk, SecretFinding
from hullscan.model.image import BaseImage, ImageConfig, Target
from hullscan.model.inventory import LayerRef, Package, ScanWarning
from hullscan.model.report import Report
from hullscan.report.boxes import cell_width, ellipsize, table, terminal_columns, wrap
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
    layer = LayerRef(1, "sha256:" + "1" * 64)
    pkg = Package(type="npm", name="pkg[red]", version="1.0", ecosystem="npm", purl="pkg:npm/pkg%5Bred%5D@1.0",
                  analyzer="node", paths=("/app/\x1b[31mnode_modules",), layer=layer)
    report = Report(
        created_at="2026-01-01T00:00:00Z", target=Target("docker-archive:x.tar", "docker-archive", "img[/]"), layers=(),
        scanners=("secret", "vuln"), os=None, config=ImageConfig(raw={}), base_image=BaseImage(None), packages=[pkg],
        vulnerabilities=(Finding(
            id="CVE-2024-0001", aliases=(), package=pkg, status="fixed", fixed_version="2.0", severity="HIGH",
            severity_source="", cvss=None, epss=None, kev=None, title="", references=(), data_source="osv",
            advisory_ids=("CVE-2024-0001",), published=None, risk=Risk(40.0, "fix 2.0")),),
        secrets=(SecretFinding("aws-access-key-id", "AWS", "HIGH", "AWS key", "/[/]x", 3, 3, "AKIA****", "fp",
                               layer=LayerRef(0, "")),),
        warnings=(ScanWarning("bad member \x1b[0m", "/etc/[x", 2),),
    )
    text = render(report, width=140).decode()
    assert "\x1b" not in text
    for literal in ("img[/]", "pkg[red]", "/app/\\x1b[31mnode_modules", "/[/]x", "Total: 1 (CRITICAL 0, HIGH 1",
                    "│ 40.0 │ fix 2.0", "1 warning suppressed"):
        assert literal in text, literal
    assert "bad member" not in text  # warnings are the CLI's to print (stderr); the table counts them
    secret_row = next(line for line in text.splitlines() if "aws-access-key-id" in line)
    assert [cell.strip() for cell in secret_row.split("│")[1:-1]] == ["HIGH", "aws-access-key-id", "/[/]x", "3", "0", "AKIA****"]


def test_ellipsize_cuts_to_the_width_with_a_mark() -> None:
    assert ellipsize("SQL Injection in Django", 10) == "SQL Injec…"
    assert ellipsize("short", 10) == "short"
    assert ellipsize("漢字漢字", 5) == "漢字…" and cell_width(ellipsize("漢字漢字", 5)) == 5
    assert ellipsize("abc", 1) == "…" and ellipsize("abc", 0) == ""


def test_details_span_the_row_and_ellipsized_columns_take_one_line() -> None:
    rows = [("django", "CVE-2019-14234", "SQL Injection in Django, a long summary of the advisory")]
    got = table(("Package", "Vulnerability", "Title"), rows, width=40, no_wrap=("Vulnerability",),
                ellipsize_cols=("Title",), details=["  layer 1 · CVSS 9.8 · fix 2.2.4 · app layer"]).splitlines()
    assert {_width(line) for line in got} == {40}, got
    assert got[3] == "│ django  │ CVE-2019-14234 │ SQL Inje… │"  # 40 - 10 of frame - 7 - 14 leaves 9
    assert got[4] == "│   layer 1 · CVSS 9.8 · fix 2.2.4 ·…  │"  # 36 inside: 35 columns of text (trailing space dropped) + …


def test_a_narrow_table_widens_evenly_to_show_its_details() -> None:
    got = table(("A", "B"), [("x", "y")], width=30, details=["  the details of this row"]).splitlines()
    # 25 columns of details + 4 of frame = 29 wide: each of the two columns grows by 10
    assert got[3] == "│ x           │ y           │" and got[4] == "│   the details of this row │"


def test_no_wrap_headers_wrap_at_spaces_before_the_table_runs_wider() -> None:
    """`registry scan`'s summary: long headers over short cells."""
    got = table(("IMAGE", "LAYERS new/cached"), [("r/x:1", "1/2")], width=20, no_wrap=("LAYERS new/cached",))
    assert got.splitlines()[1:3] == ["┃ IMAGE ┃ LAYERS     ┃", "┃       ┃ new/cached ┃"], got


def test_paint_colours_text_but_not_the_width() -> None:
    got = table(("Severity",), [("HIGH",)], width=40, paint=lambda h, t: "31" if t == "HIGH" else "").splitlines()
    assert got[3] == "│ \x1b[31mHIGH\x1b[0m     │"


def test_terminal_columns_honours_columns_else_80(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "97")
    assert terminal_columns() == 97
    monkeypatch.setenv("COLUMNS", "junk")
    monkeypatch.setattr("sys.__stdout__", None)  # no terminal
    assert terminal_columns() == 80
