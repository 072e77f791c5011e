"""Debian codename -> release number, for OSV ecosystems `Debian:<number>`.

The tracker's `data/config.json` lists the codenames it knows (and which is stable/oldstable) but
not their numbers, so the numbers are this table (from debian.org/releases). `sid` (unstable) and an
unknown future codename have no number: their rows go to `Debian:sid` / are skipped with a reason.
"""

from __future__ import annotations

RELEASES: dict[str, str] = {
    "buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1", "potato": "2.2",
    "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5", "squeeze": "6", "wheezy": "7",
    "jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12",
    "trixie": "13", "forky": "14", "duke": "15",
}


def ecosystem_for(codename: str) -> str | None:
    """`buster` -> `Debian:10`; `sid` -> `Debian:sid`; unknown -> None."""
    code = codename.strip().lower()
    if code in RELEASES:
        return f"Debian:{RELEASES[code]}"
    if code in ("sid", "unstable"):
        return "Debian:sid"
    return None
