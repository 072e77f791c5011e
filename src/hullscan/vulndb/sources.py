"""Where `db update` downloads each feed from (kept apart so the CLI can list them without importing httpx)."""

from __future__ import annotations

OSV_BASE = "https://osv-vulnerabilities.storage.googleapis.com"
#: OSV ecosystems downloaded by default (each an `all.zip`); distros come from their own feeds.
OSV_ECOSYSTEMS = ("PyPI", "npm", "Go", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet", "Hex", "Pub")
ALPINE_BASE = "https://secdb.alpinelinux.org"
ALPINE_BRANCHES = tuple(f"v3.{n}" for n in range(12, 23)) + ("edge",)
NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
SOURCES: dict[str, list[tuple[str, str]]] = {
    # feed -> [(url, local file name: its suffix tells the importer the format)]
    "osv": [(f"{OSV_BASE}/{e}/all.zip", f"osv-{e}.zip") for e in OSV_ECOSYSTEMS],
    "debian": [("https://security-tracker.debian.org/tracker/data/json", "debian-tracker.json")],
    "alpine": [(f"{ALPINE_BASE}/{b}/{r}.json", f"alpine-{b}-{r}.json")
               for b in ALPINE_BRANCHES for r in ("main", "community")],
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
