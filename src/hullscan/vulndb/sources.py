"""Where `db update` downloads each feed from (kept apart so the CLI can list them without importing httpx)."""

from __future__ import annotations

import re

OSV_BASE = "https://osv-vulnerabilities.storage.googleapis.com"
#: OSV ecosystems downloaded by default (each an `all.zip`); distros come from their own feeds.
OSV_ECOSYSTEMS = ("PyPI", "npm", "Go", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet", "Hex", "Pub")
#: Distros whose advisories OSV carries from the vendor (osv.dev source.yaml): downloaded by default too.
#: Photon OS is not among them (osv.dev imports no Photon source, so there is no bucket to fetch).
OSV_DISTRO_ECOSYSTEMS = ("Ubuntu", "SUSE", "openSUSE", "Azure Linux", "Rocky Linux", "AlmaLinux", "openEuler",
                         "Echo", "MinimOS", "Red Hat")
#: Red Hat's map of RPM repositories (an image's content sets) to the CPE streams its advisories name.
REDHAT_REPO_CPE_URL = "https://security.access.redhat.com/data/meta/v1/repository-to-cpe.json"
#: Red Hat's CSAF VEX documents; `archive_latest.txt` names the archive of all of them (vulndb/csaf_archive.py).
#: Opt-in (`--feed redhat-csaf`): a download of several hundred MB (docs/distros.md).
REDHAT_CSAF_VEX = "https://security.access.redhat.com/data/csaf/v2/vex"
ALPINE_BASE = "https://secdb.alpinelinux.org"
#: Every branch secdb.alpinelinux.org publishes: v3.2 (the oldest it kept) … v3.22, and edge. EOL branches
#: stay: images on them are still scanned (the example image is Alpine 3.10).
ALPINE_BRANCHES = tuple(f"v3.{n}" for n in range(2, 23)) + ("edge",)
ALPINE_REPOS = ("main", "community")
#: Alpine's `community` repository began with 3.3, so the secdb never published `v3.2/community`:
#: it is still asked for (a server that has it is read) but its 404 is expected and not reported.
ALPINE_COMMUNITY_FROM = 3
NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
#: Amazon Linux release -> the mirror list of its core yum repository (as `dnf repolist -v` shows it;
#: Trivy's vuln-list-update reads the same), whose repomd.xml names the updateinfo (vulndb/yumrepo.py).
AMAZON_REPOS = {
    "1": "http://repo.us-west-2.amazonaws.com/2018.03/updates/x86_64/mirror.list",
    "2": "https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list",
    "2023": "https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list",
}
#: Every ELSA in one OVAL file (bzip2); opt-in: the largest download of all (docs/distros.md).
ORACLE_OVAL_URL = "https://linux.oracle.com/security/oval/com.oracle.elsa-all.xml.bz2"
EOL_API = "https://endoflife.date/api"
#: endoflife.date products of the distros hullscan detects (vulndb/eol.py PRODUCTS; a test holds them equal).
EOL_PRODUCTS = ("debian", "ubuntu", "alpine-linux", "rhel", "centos", "rocky-linux", "almalinux", "oracle-linux",
                "amazon-linux", "sles", "opensuse", "suse-linux-micro", "fedora", "photon")
SOURCES: dict[str, list[tuple[str, str]]] = {
    # feed -> [(url, local file name: its suffix tells the importer the format)]
    "osv": [(f"{OSV_BASE}/{e}/all.zip", f"osv-{e}.zip") for e in OSV_ECOSYSTEMS]
    + [(f"{OSV_BASE}/{e.replace(' ', '%20')}/all.zip", f"osv-{e.replace(' ', '_')}.zip") for e in OSV_DISTRO_ECOSYSTEMS],
    "debian": [("https://security-tracker.debian.org/tracker/data/json", "debian-tracker.json")],
    "alpine": [(f"{ALPINE_BASE}/{b}/{r}.json", f"alpine-{b}-{r}.json") for b in ALPINE_BRANCHES for r in ALPINE_REPOS],
    "wolfi": [("https://packages.wolfi.dev/os/security.json", "wolfi-security.json")],
    "chainguard": [("https://packages.cgr.dev/chainguard/security.json", "chainguard-security.json")],
    "kev": [("https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json", "kev.json")],
    "epss": [("https://epss.empiricalsecurity.com/epss_scores-current.csv.gz", "epss.csv.gz")],
    "rustsec": [("https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz", "rustsec.tar.gz")],
    "rubysec": [("https://github.com/rubysec/ruby-advisory-db/archive/refs/heads/master.tar.gz", "rubysec.tar.gz")],
    "nvd": [(NVD_URL, "nvd")],
    "redhat-repo-cpe": [(REDHAT_REPO_CPE_URL, "redhat-repository-to-cpe.json")],
    "redhat-csaf": [(f"{REDHAT_CSAF_VEX}/archive_latest.txt", "redhat-csaf-vex.tar.zst")],
    "amazon": [(u, f"amazon-{r}-updateinfo.xml.gz") for r, u in AMAZON_REPOS.items()],
    "oracle-oval": [(ORACLE_OVAL_URL, "com.oracle.elsa-all.xml.bz2")],
    # end of life of distro releases (vulndb/eol.py), one file per endoflife.date product
    "eol": [(f"{EOL_API}/{p}.json", f"eol-{p}.json") for p in EOL_PRODUCTS],
}
#: Feeds updated when no --feed is given (nvd joins when an API key is set: unkeyed paging takes hours).
DEFAULT_FEEDS = ("osv", "debian", "alpine", "wolfi", "chainguard", "kev", "epss", "eol", "amazon", "redhat-repo-cpe")



def alpine_branch(local: str) -> str | None:
    """The secdb branch of an alpine source's local name (`alpine-v3.10-main.json` → `v3.10`), None
    for a file named by `--feed-url`."""
    m = re.fullmatch(r"alpine-(v\d+\.\d+|edge)-(?:main|community)\.json", local)
    return m.group(1) if m else None


def never_published(feed: str, local: str) -> bool:
    """True for a default source upstream never published (its 404 is expected, not a problem)."""
    branch = alpine_branch(local) if feed == "alpine" and local.endswith("-community.json") else None
    return branch is not None and branch != "edge" and int(branch.split(".")[1]) < ALPINE_COMMUNITY_FROM
