"""The secret engine: keyword prefilter → regexes near the hits → checks → masked findings.

Cost is bounded per file: one Hyperscan pass for all keywords; each rule's regex only runs inside
windows around its own keyword hits (merged when they overlap); binary files are skipped after a
NUL sniff; files are cut at `max_size`; and nothing is split into lines, so a 10 MB one-line
minified file costs one pass plus a few small windows, not a copy per line.
"""

from __future__ import annotations

import base64
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property

from hullscan.secrets.finding import Finding, fingerprint, mask_secret
from hullscan.secrets.prefilter import PathMatcher, Prefilter
from hullscan.secrets.rules import Rule, Ruleset, default_ruleset

MAX_SIZE = 10 * 1024 * 1024
"""Per-file cap: bytes beyond it are not scanned (the analyzer does not even read such files)."""
SNIFF = 8192
CONTEXT = 100
"""Characters of the line shown either side of a secret."""
MAX_FINDINGS = 200
"""Per file; a file with more is a data dump, and 200 lines already say so."""


@dataclass(frozen=True)
class _Candidate:
    rule: Rule
    start: int
    end: int
    match_start: int
    match_end: int


def is_binary(data: bytes) -> bool:
    """Content sniff: a NUL byte in the first 8 KiB (what git and grep use)."""
    return b"\x00" in data[:SNIFF]


def shannon_entropy(value: bytes) -> float:
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


_HEX = re.compile(rb"[0-9a-fA-F]+")


def entropy_threshold(value: bytes, wanted: float) -> float:
    """The rule's entropy bar, lowered where the value cannot reach it even when random: a short
    string's entropy is capped by log2(length) and hex by log2(16) = 4 (a random 32-char hex key
    scores 3.3–3.8, a random 16-char alphanumeric one 3.2–4.0)."""
    cap = 0.78 * math.log2(max(len(value), 2))
    if _HEX.fullmatch(value):
        cap = min(cap, 3.0)
    return min(wanted, cap)


_PEM_NOISE = re.compile(rb"\\+[nr]|\s")
_B64_HEAD = re.compile(rb"[A-Za-z0-9+/]{8}")
_B64_CHARS = re.compile(rb"[A-Za-z0-9+/]")


def der_truncated(body: bytes) -> bool:
    """A PEM body whose DER header declares more bytes than the body holds: an elided example in
    documentation (`MIIEpQIBAAKCAQEAuyf/…` — 0x30 0x82 0x04a5 promises 1,193 bytes), not a key. Key
    bodies (PKCS#1, SEC1, PKCS#8) are one DER SEQUENCE; other armour (OpenSSH, PGP, encrypted PEM
    with headers) does not start with one and is left alone."""
    body = _PEM_NOISE.sub(b"", body)  # line breaks, also as JSON/source escapes (`\\n`)
    head = _B64_HEAD.match(body)
    if head is None:
        return False
    raw = base64.b64decode(head.group())  # 6 bytes: tag, length, the start of the contents
    if raw[0] != 0x30:
        return False
    if raw[1] < 0x80:
        need = 2 + raw[1]
    elif 0x81 <= raw[1] <= 0x83:
        k = raw[1] - 0x80
        need = 2 + k + int.from_bytes(raw[2 : 2 + k], "big")
    else:
        return False
    return len(_B64_CHARS.findall(body)) * 3 // 4 < need


def charsets(value: bytes) -> int:
    """How many of lower, upper, digit, symbol the value mixes."""
    lower = upper = digit = other = 0
    for b in value:
        if 97 <= b <= 122:
            lower = 1
        elif 65 <= b <= 90:
            upper = 1
        elif 48 <= b <= 57:
            digit = 1
        else:
            other = 1
    return lower + upper + digit + other


class _Compiled:
    """A ruleset's prefilter and keyword → rules index, built once and kept on the ruleset."""

    def __init__(self, ruleset: Ruleset) -> None:
        keys = sorted({(k, False) for r in ruleset.rules for k in r.keywords}
                      | {(k, True) for r in ruleset.rules for k in r.exact_keywords})
        self.prefilter = Prefilter([k for k, _ in keys], [ex for _, ex in keys])
        index = {key: i for i, key in enumerate(keys)}
        self.by_keyword: list[list[Rule]] = [[] for _ in keys]
        for r in ruleset.rules:
            for k in r.keywords:
                self.by_keyword[index[(k, False)]].append(r)
            for k in r.exact_keywords:
                self.by_keyword[index[(k, True)]].append(r)
        self.keyword_len = [len(k) for k, _ in keys]
        # per keyword, its rules by how a hit is used — decided once here, not at each of the tens of
        # thousands of hits an image's files give: (length, whole-file rules, anchored, windowed)
        self.plan = [
            (
                self.keyword_len[i],
                tuple(r for r in rules if r.window <= 0),
                tuple(r for r in rules if r.window > 0 and r.anchor),
                tuple(r for r in rules if r.window > 0 and not r.anchor),
            )
            for i, rules in enumerate(self.by_keyword)
        ]
        self.always = [r for r in ruleset.rules if not r.keywords and not r.exact_keywords]
        self.order = {r.id: i for i, r in enumerate(ruleset.rules)}
        self._ruleset = ruleset

    @cached_property
    def path_allow(self) -> PathMatcher:
        """Built on first use: scanning the image config never needs it."""
        rs = self._ruleset
        return PathMatcher(
            [a.path for a in rs.allow if a.path is not None and a.regex is None and a.value is None],
            relative_too=rs.custom_paths,
        )


def _compiled(ruleset: Ruleset) -> _Compiled:
    c = ruleset._cache.get("compiled")
    if c is None:
        c = ruleset._cache["compiled"] = _Compiled(ruleset)
    return c


def compile_ruleset(ruleset: Ruleset) -> None:
    """Build the prefilter databases now (once per process; forked workers inherit them)."""
    _compiled(ruleset)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _path_hit(pattern: re.Pattern[str], path: str) -> bool:
    """Image paths are absolute here (`/app/.env`); Trivy's configs match them relative
    (`app/.env`): a path regex may match either form."""
    return bool(pattern.search(path) or (path.startswith("/") and pattern.search(path[1:])))


def path_allowed(ruleset: Ruleset, path: str) -> bool:
    """True when a global path allow rule (tests, docs…) exempts the whole file."""
    return _compiled(ruleset).path_allow.search(path)


class _Blocks:
    """Exclude-block spans, computed over the whole file only when some rule has them."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.spans: dict[re.Pattern[bytes], list[tuple[int, int]]] = {}

    def covers(self, patterns: tuple[re.Pattern[bytes], ...], start: int, end: int) -> bool:
        for p in patterns:
            spans = self.spans.get(p)
            if spans is None:
                spans = self.spans[p] = [m.span() for m in p.finditer(self.data)]
            if any(s <= start and end <= e for s, e in spans):
                return True
        return False


def _accept(ruleset: Ruleset, rule: Rule, path: str, data: bytes, c: _Candidate, blocks: _Blocks) -> bool:
    value = data[c.start : c.end]
    if not value.strip():
        return False
    if rule.entropy is not None and shannon_entropy(value) < entropy_threshold(value, rule.entropy):
        return False
    if rule.min_charsets and charsets(value) < rule.min_charsets:
        return False
    if rule.category == "AsymmetricPrivateKey" and der_truncated(value):
        return False
    whole = data[c.match_start : c.match_end]
    for a in (*ruleset.allow, *rule.allow):
        if a.builtin_only and not rule.builtin:
            continue
        if a.value is not None and a.value.search(value):
            return False
        if a.regex is not None and a.regex.search(whole):
            if a.path is None or _path_hit(a.path, path):
                return False
        if a.path is not None and a.regex is None and a.value is None and a in rule.allow and _path_hit(a.path, path):
            return False
    if rule.generic and any(p.search(value) for p in ruleset.generic_allow):
        return False
    if (ruleset.exclude_blocks or rule.exclude_blocks) and blocks.covers(
        ruleset.exclude_blocks + rule.exclude_blocks, c.match_start, c.match_end
    ):
        return False
    return True


def _candidates(rule: Rule, data: bytes, start: int, end: int):
    for m in rule.regex.finditer(data, start, end):
        if m.end() == m.start():
            continue
        spans = [m.span(g) for g in rule.secret_groups if m.span(g)[0] >= 0]
        if not spans:
            spans = [m.span()]
        for s, e in spans:
            if e > s:
                yield _Candidate(rule, s, e, m.start(), m.end())


_RUN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-"
_SEPARATORS = frozenset(b"_.+-")
ANCHOR_BACK = 80
"""How far before a keyword an anchored rule's match may start (its identifier's beginning)."""


_ASSIGNMENT_AFTER = re.compile(rb"[A-Za-z0-9_.\-]{0,42}[\"'`]?[ \t]{0,4}[:=]")
"""What must follow a generic rule's keyword (the rest of the key name, then `=` or `:`): a cheap
test that drops most hits (`tokenize(`, `tokens.append`) before the full regex is tried."""


def _anchored(rule: Rule, data: bytes, hits: set[int], klens: dict[int, int]):
    """Try the regex only where a match can start: the beginning of the identifier run that holds
    the keyword, and right after each separator inside it up to the keyword."""
    tried: set[int] = set()
    n = len(data)
    for pos in sorted(hits):
        if rule.generic and _ASSIGNMENT_AFTER.match(data, pos + klens[pos]) is None:
            continue
        if rule.follows:
            at = data.find(rule.follows, pos, min(n, pos + rule.window))
            if at < 0 or data.find(b"\n", pos, at) >= 0:
                continue
        lo = max(0, pos - ANCHOR_BACK)
        seg = data[lo:pos]
        start = pos - (len(seg) - len(seg.rstrip(_RUN)))
        starts = [start] + [i + 1 for i in range(start, pos) if data[i] in _SEPARATORS]
        starts.append(pos)
        end = min(n, pos + rule.window)
        for s in starts:
            if s in tried:
                continue
            tried.add(s)
            m = rule.regex.match(data, s, end)
            if m is None or m.end() == m.start():
                continue
            spans = [m.span(g) for g in rule.secret_groups if m.span(g)[0] >= 0] or [m.span()]
            for a, b in spans:
                if b > a:
                    yield _Candidate(rule, a, b, m.start(), m.end())


def _drop_overlaps(cands: list[_Candidate], order: dict[str, int]) -> list[_Candidate]:
    """Two secrets cannot overlap: overlapping hits are one secret seen by several rules. Keep the
    specific rule over a generic one, then the rule listed first (vendor formats before catch-alls)."""
    if len(cands) < 2:
        return cands
    ranked = sorted(cands, key=lambda c: (c.rule.generic, order.get(c.rule.id, 1 << 30), c.start))
    kept: list[_Candidate] = []
    for c in ranked:
        if not any(k.start < c.end and c.start < k.end for k in kept):
            kept.append(c)
    return sorted(kept, key=lambda c: (c.start, c.end, c.rule.id))


def _line_text(data: bytes, s: int, e: int, secrets: list[tuple[int, int]]) -> str:
    """The line around [s, e), every known secret span in it starred, cut to CONTEXT either side."""
    ls = data.rfind(b"\n", max(0, s - CONTEXT), s) + 1
    if ls == 0 and s > CONTEXT:
        ls = s - CONTEXT
    first_line_end = data.find(b"\n", s, e)
    stop = e if first_line_end < 0 else first_line_end
    le = data.find(b"\n", stop, min(len(data), stop + CONTEXT))
    if le < 0:
        le = min(len(data), stop + CONTEXT)
    out: list[str] = []
    pos = ls
    for a, b in sorted(secrets):
        if b <= ls or a >= le:
            continue
        a2, b2 = max(a, ls), min(b, le)
        if a2 < pos:
            continue
        out.append(data[pos:a2].decode("utf-8", "replace"))
        out.append(mask_secret(data[a2:b2].decode("utf-8", "replace")))
        pos = b2
    out.append(data[pos:le].decode("utf-8", "replace"))
    text = "".join(out).rstrip("\r")
    return text.replace("\r", "")


def masked_line(data: bytes, start: int, end: int, secrets: list[tuple[int, int]]) -> str:
    """A finding's `match` for the secret at [start, end) of `data`, every span of `secrets` masked
    (for a caller that knows more secrets than the engine found: the image config's build arguments)."""
    return _line_text(data, start, end, _merge(list(secrets)))


def scan_bytes(
    path: str,
    data: bytes,
    ruleset: Ruleset | None = None,
    *,
    source: str = "file",
    max_size: int = MAX_SIZE,
    path_checked: bool = False,
) -> list[Finding]:
    """Secrets in one file's bytes (masked findings, sorted by offset). Binary files give [].
    `path_checked`: the caller already asked `path_allowed` (the secret analyzer's file rule does it, through its `skip`)."""
    return scan_spans(path, data, ruleset, source=source, max_size=max_size, path_checked=path_checked)[0]


def scan_spans(
    path: str,
    data: bytes,
    ruleset: Ruleset | None = None,
    *,
    source: str = "file",
    max_size: int = MAX_SIZE,
    path_checked: bool = False,
) -> tuple[list[Finding], list[tuple[int, int]]]:
    """`scan_bytes`, with the byte span of each finding's secret in `data` (same order): what a caller
    echoing the scanned text masks (the image config, secrets/config_scan.py)."""
    ruleset = ruleset or default_ruleset()
    if not data or is_binary(data):
        return [], []
    if len(data) > max_size:
        data = data[:max_size]
    comp = _compiled(ruleset)
    if source == "file" and not path_checked and comp.path_allow.search(path):  # image-config text has no file path
        return [], []
    windows: dict[Rule, list[tuple[int, int]]] = defaultdict(list)
    anchors: dict[Rule, set[int]] = defaultdict(set)
    klens: dict[int, int] = {}
    whole: set[Rule] = set(comp.always)
    n = len(data)
    plan = comp.plan
    for kw, pos in comp.prefilter.scan(data):
        klen, whole_rules, anchored, windowed = plan[kw]
        if whole_rules:
            whole.update(whole_rules)
        if anchored:
            for rule in anchored:
                anchors[rule].add(pos)
            if klens.get(pos, 0) < klen:
                klens[pos] = klen
        for rule in windowed:
            windows[rule].append((max(0, pos - rule.window), min(n, pos + klen + rule.window)))
    if not windows and not whole and not anchors:
        return [], []

    found: dict[tuple[str, int, int], _Candidate] = {}
    blocks = _Blocks(data)
    work: list[tuple[Rule, list[tuple[int, int]]]] = [(r, [(0, n)]) for r in whole]
    work += [(r, _merge(w)) for r, w in windows.items() if r not in whole]
    for rule, spans in work:
        if rule.path is not None and not _path_hit(rule.path, path):
            continue
        for s, e in spans:
            for c in _candidates(rule, data, s, e):
                key = (rule.id, c.start, c.end)
                if key not in found and _accept(ruleset, rule, path, data, c, blocks):
                    found[key] = c
    for rule, hits in anchors.items():
        if rule.path is not None and not _path_hit(rule.path, path):
            continue
        for c in _anchored(rule, data, hits, klens):
            key = (rule.id, c.start, c.end)
            if key not in found and _accept(ruleset, rule, path, data, c, blocks):
                found[key] = c
    if not found:
        return [], []
    accepted = _drop_overlaps(list(found.values()), comp.order)
    accepted = accepted[:MAX_FINDINGS]
    secret_spans = [(c.start, c.end) for c in accepted]
    out: list[Finding] = []
    line, at = 1, 0
    for c in accepted:
        line += data.count(b"\n", at, c.start)
        at = c.start
        value = data[c.start : c.end]
        end_line = line + value.rstrip().count(b"\n")
        out.append(
            Finding(
                rule_id=c.rule.id,
                category=c.rule.category,
                severity=c.rule.severity,
                title=c.rule.title,
                path=path,
                start_line=line,
                end_line=end_line,
                match=_line_text(data, c.start, c.end, secret_spans),
                fingerprint=fingerprint(c.rule.id, path, value),
                offset=c.start,
                source=source,
            )
        )
    return out, secret_spans
