"""The policy's `base_images` rules: allow and deny lists, the base's age, and whether it must be known.

Judged on the report's `base_image` alone (identification is base/identify.py's); each failure names the
base found, so a red build says which base it saw and why it is not acceptable. Loaded only when a policy
has the section (the default gate of a warm scan never imports it).

Patterns: `sha256:<hex>` (the base's digest), `NAME@sha256:<hex>`, `NAME` (any tag), `NAME:TAGGLOB`
(`debian:12*`, `debian:12.?`); NAME in any spelling (`docker.io/library/debian` is `debian`), itself a
glob when it holds `*`, `?` or `[` (`ghcr.io/org/*`). Globs are fnmatch's, case-sensitive.
"""

from __future__ import annotations

import re
from datetime import date
from fnmatch import fnmatchcase

from hullscan.errors import InputError
from hullscan.model.image import BaseImage
from hullscan.model.verdict import FailedRule
from hullscan.policy.model import BaseImageRule
from hullscan.state.names import split_name

IDENTIFIED = frozenset({"annotation", "catalog"})
"""Methods that name the base: its annotation (verified against the catalog when the catalog knows the
digest) or the catalog's longest chain-ID prefix. `similar` and `history` only guess; `none` found nothing."""
NOT_JUDGED = "not_applicable"
"""`dir:`/`sbom:` targets have no layers and so no base: no base rule applies to them."""
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_GLOB = re.compile(r"[*?\[]")
_CLASS = re.compile(r"\[[^\]]*\]")
"""A glob's character class (`[0-9]`, `[!a]`): one character of a name."""


def pattern_error(pattern: str) -> str:
    """Why an allow/deny entry can never match a base ('' when it is fine)."""
    text = pattern.strip()
    if text.startswith("sha256:"):
        return "" if _DIGEST.fullmatch(text) else "expected sha256: and 64 lowercase hex digits"
    name, _, digest = text.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        return "expected NAME@sha256: and 64 lowercase hex digits"
    try:  # the name's grammar with each glob character standing for a letter
        split_name(_GLOB.sub("x", _CLASS.sub("x", name)))
    except InputError as err:
        return str(err).partition(": ")[2] or str(err)
    return ""


def _short(repo: str) -> str:
    """Docker's short form of a repository that may hold globs (split_name would refuse them)."""
    for prefix in ("index.docker.io/", "docker.io/", "registry-1.docker.io/"):
        if repo.startswith(prefix):
            repo = repo[len(prefix):]
            return repo.removeprefix("library/") if repo.count("/") == 1 else repo
    return repo


def _parts(pattern: str) -> tuple[str, str, str]:
    """(repository glob, tag glob or '', digest or '')."""
    name, _, digest = pattern.strip().partition("@")
    last = name.rpartition("/")[2]
    repo, tag = (name[: len(name) - len(last)] + last.partition(":")[0], last.partition(":")[2]) if ":" in last else (name, "")
    if not _GLOB.search(repo):
        repo = split_name(repo)[0]
    return _short(repo), tag, digest


def matches(pattern: str, base: BaseImage) -> bool:
    """Whether an allow/deny entry names this base (by its reported name and digest)."""
    text = pattern.strip()
    if _DIGEST.fullmatch(text):
        return bool(base.digest) and base.digest == text
    repo_glob, tag_glob, digest = _parts(text)
    try:
        repo, tag, name_digest = split_name(base.name) if base.name else ("", "", "")
    except InputError:
        repo, tag, name_digest = base.name, "", ""
    if not repo or not fnmatchcase(repo, repo_glob):
        return False
    if digest:
        return digest in (base.digest, name_digest)
    return not tag_glob or (bool(tag) and fnmatchcase(tag, tag_glob))


def describe(base: BaseImage) -> str:
    """The base as a failed rule names it: `debian:12 (sha256:0123456789ab, by catalog)`, or what was found."""
    short = base.digest.removeprefix("sha256:")[:12]
    if base.method in IDENTIFIED:
        what = base.name or base.digest or "an unnamed base"
        return f"{what} ({', '.join(x for x in (short and 'sha256:' + short, 'by ' + base.method) if x)})"
    if base.method == "similar":
        overlap = f"{base.similarity:.0%} package overlap, " if base.similarity is not None else ""
        return f"no identified base (similar to {base.name or 'a catalogued base'}: {overlap}not identified)"
    if base.method == "history":
        layers = f"bottom {base.layer_count} layers" if base.layer_count is not None else "some layers"
        return f"no identified base ({layers} by the history heuristic only)"
    mismatch = f"; its base annotation was not trusted: {base.mismatch}" if base.mismatch else ""
    return f"no identified base (method {base.method}{mismatch})"


def base_rules(rule: BaseImageRule, base: BaseImage, today: date) -> list[FailedRule]:
    """Each `base_images` rule this base fails, with the base named in its one item."""
    if base.method == NOT_JUDGED:
        return []
    known = base.method in IDENTIFIED
    failed: list[FailedRule] = []

    def fail(key: str, description: str, why: str) -> None:
        failed.append(FailedRule(f"base_images.{key}", description, (f"{describe(base)}: {why}" if why else describe(base),)))

    if rule.require_known and not known:
        fail("require_known", "the base image must be identified (annotation or catalog)", "")
    if rule.allow:
        if not known:
            fail("allow", "base image not on the allow list", "an unidentified base cannot be shown to be allowed")
        elif not any(matches(p, base) for p in rule.allow):
            fail("allow", "base image not on the allow list", "matches none of " + ", ".join(rule.allow))
    if rule.deny and known:
        hit = [p for p in rule.deny if matches(p, base)]
        if hit:
            fail("deny", "base image on the deny list", "matches " + ", ".join(hit))
    if rule.max_age_days is not None:
        limit = rule.max_age_days
        description = f"base image older than {limit:g} days"
        created = _day(base.created)
        if created is None:
            why = (f"its creation date is unreadable ({base.created!r})" if base.created
                   else "its creation date is unknown, so its age cannot be checked")
            fail("max_age_days", description, why)
        elif (today - created).days > limit:
            fail("max_age_days", description, f"created {created.isoformat()}, {(today - created).days} days ago")
    return failed


def _day(created: str | None) -> date | None:
    """The date of an RFC 3339 timestamp (`2024-01-02T03:04:05.123456789Z`), None when there is none."""
    if not created:
        return None
    try:
        return date.fromisoformat(created.strip()[:10])
    except ValueError:
        return None
