"""Where `db update` downloads each feed from (kept apart so the CLI can list them without importing httpx)."""

from __future__ import annotations

import re

OSV_BASE = "https://osv-vulnerabilities.storage.googleapis.com"
#: OSV ecosystems downloaded by default (each an `all.zip`); distros come from their own feeds.
OSV_ECOSYSTEMS = ("PyPI", "npm", "Go", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet", "Hex", "Pub")
ALPINE_BASE = "https://secdb.alpinelinux.org"
#: Every branch secdb.alpinelinux.org publishes: v3.2 (the oldest it kept) … v3.22, and edge. EOL branches
#: stay: images on them are still scanned (the example image is Alpine 3.10).
ALPINE_BRANCHES = tuple(f"v3.{n}" for n in range(2, 23)) + ("edge",)
ALPINE_REPOS = ("main", "community")
#: Alpine's `community` repository began with 3.3, so the secdb never published `v3.2/community`:
#: it is still asked for (a server that has it is read) but its 404 is expected and not reported.
ALPINE_COMMUNITY_FROM = 3
NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
SOURCES: dict[str, list[tuple[str, str]]] = {
    # feed -> [(url, local file name: its suffix tells the importer the format)]
    "osv": [(f"{OSV_BASE}/{e}/all.zip", f"osv-{e}.zip") for e in OSV_ECOSYSTEMS],
    "debian": [("https://security-tracker.debian.org/tracker/data/json", "debian-tracker.json")],
    "alpine": [(f"{ALPINE_BASE}/{b}/{r}.json", f"alpine-{b}-{r}.json") for b in ALPINE_BRANCHES for r in ALPINE_REPOS],
    "wolfi": [("https://packages.wolfi.dev/os/security.json", "wolfi-security.json")],
    "chainguard": [("https://packages.cgr.dev/chainguard/security.json", "chainguard-security.json")],
    "kev": [("https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json", "kev.json")],
    "epss": [("https://epss.empiricalsecurity.com/epss_scores-current.csv.gz", "epss.csv.gz")],
    "rustsec": [("https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz", "rustsec.tar.gz")],
    "rubysec": [("https://github.com/rubysec/ruby-advisory-db/archive/refs/heads/master.tar.gz", "rubysec.tar.gz")],
    "nvd": [(NVD_URL, "nvd")],
}
#: Feeds updated when no --feed is given (nvd joins when an API key is set: unkeyed paging takes hours).
DEFAULT_FEEDS = ("osv", "debian", "alpine", "wolfi", "chainguard", "kev", "epss")



def alpine_branch(local: str) -> str | None:
    """The secdb branch of an alpine source's local name (`alpine-v3.10-main.json` → `v3.10`), None
    for a file named by `--feed-url`."""
    m = re.fullmatch(r"alpine-(v\d+\.\d+|edge)-(?:main|community)\.json", local)
    return m.group(1) if m else None


def never_published(feed: str, local: str) -> bool:
    """True for a default source upstream never published (its 404 is expected, not a problem)."""
    branch = alpine_branch(local) if feed == "alpine" and local.endswith("-community.json") else None
    return branch is not None and branch != "edge" and int(branch.split(".")[1]) < ALPINE_COMMUNITY_FROM
