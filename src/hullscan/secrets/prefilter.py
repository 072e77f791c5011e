"""One pass over a file finding every rule keyword (case-insensitive), with its offset.

Measured on 6,669 text files / 60 MiB (Debian rootfs + 30 PyPI packages, 210 keywords;
bench/README.md "## Secrets"): Hyperscan 0.04 s, google-re2 alternation 0.18 s (and it only reports
non-overlapping leftmost hits), pyahocorasick 1.1 s (it needs a lowercased str copy), stdlib `re`
alternation ~34 s. Hyperscan wins by far and installs from a wheel, so it is the default;
pyahocorasick (already a dependency) is the fallback where no Hyperscan wheel exists.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

try:  # pragma: no cover - depends on the platform's wheels
    import hyperscan as _hs
except ImportError:  # pragma: no cover
    _hs = None  # type: ignore[assignment]  # no Hyperscan wheel here: pyahocorasick below


class Prefilter:
    """Finds keyword hits: `scan(data)` → list of (keyword index, start offset)."""

    backend: str

    def __init__(self, keywords: Sequence[str], exact: Sequence[bool] | None = None) -> None:
        """`exact[i]`: keyword i is case-sensitive (vendor prefixes such as `EAAA`, `SG.`, whose
        caseless forms hit all over base64 blobs and text: `msg.`, `en-US`)."""
        self.keywords = list(keywords)
        self.exact = list(exact) if exact is not None else [False] * len(self.keywords)
        self._lens = [len(k.encode("utf-8")) for k in self.keywords]
        self._hs_db: _hs.Database | None = None
        self._ac: Any = None  # ahocorasick.Automaton (the library ships no types)
        if not self.keywords:
            self.backend = "none"
        elif _hs is not None:
            self.backend = "hyperscan"
            db = _hs.Database()
            exprs = [re.escape(k).encode("utf-8") for k in self.keywords]
            db.compile(
                expressions=exprs,
                ids=list(range(len(exprs))),
                elements=len(exprs),
                flags=[0 if ex else _hs.HS_FLAG_CASELESS for ex in self.exact],
            )
            self._hs_db = db
            self._local = threading.local()  # a Hyperscan scratch serves one thread at a time
        else:  # pragma: no cover
            import ahocorasick  # the fallback, only where Hyperscan is missing

            self.backend = "pyahocorasick"
            ac = ahocorasick.Automaton()
            for i, k in enumerate(self.keywords):  # on lowercased text: exact ones over-match, safely
                ac.add_word(k.lower(), i)
            ac.make_automaton()
            self._ac = ac

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        if not self.keywords or not data:
            return []
        hits: list[tuple[int, int]] = []
        if self._hs_db is not None:
            lens = self._lens

            def on_match(idx: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
                hits.append((idx, to - lens[idx]))

            scratch = getattr(self._local, "scratch", None)
            if scratch is None:
                scratch = self._local.scratch = _hs.Scratch(self._hs_db)
            self._hs_db.scan(data, match_event_handler=on_match, scratch=scratch)
            return hits
        text = data.lower().decode("latin-1")  # pragma: no cover
        for end, idx in self._ac.iter(text):  # pragma: no cover
            hits.append((idx, end + 1 - self._lens[idx]))
        return hits  # pragma: no cover


class PathMatcher:
    """Does any of these path regexes match? One Hyperscan pass per path for all of them (~3 µs);
    Python's `re` took ~30 µs per pattern on these unanchored `(?:^|/)…` alternations. Patterns
    Hyperscan cannot compile (lookarounds, backreferences) are searched with `re`."""

    def __init__(self, patterns: Sequence[re.Pattern[str]], relative_too: bool = False) -> None:
        self.relative_too = relative_too
        self._slow: list[re.Pattern[str]] = []
        self._db = None
        self._local = threading.local()
        if _hs is None:
            self._slow = list(patterns)
            return
        fast: list[tuple[bytes, int, re.Pattern[str]]] = []
        for p in patterns:
            expr, flags = p.pattern, _hs.HS_FLAG_ALLOWEMPTY  # (SINGLEMATCH made compiling 3x slower)
            if expr.startswith("(?i)"):
                expr = expr[4:]
                flags |= _hs.HS_FLAG_CASELESS
            if p.flags & re.IGNORECASE:
                flags |= _hs.HS_FLAG_CASELESS
            fast.append((expr.encode("utf-8"), flags, p))
        db = self._compile(fast)
        if db is None:  # some pattern Hyperscan cannot take: find which, search those with `re`
            ok = [f for f in fast if self._compile([f]) is not None]
            self._slow = [f[2] for f in fast if f not in ok]
            db = self._compile(ok)
        self._db = db

    @staticmethod
    def _compile(items: list[tuple[bytes, int, re.Pattern[str]]]):
        if not items:
            return None
        db = _hs.Database()
        try:
            db.compile(expressions=[e for e, _, _ in items], ids=list(range(len(items))), elements=len(items),
                       flags=[f for _, f, _ in items])
        except Exception:  # hyperscan.error: an unsupported construct (lookaround, backreference)
            return None
        return db

    def search(self, path: str) -> bool:
        """Any pattern matches the path, or (`relative_too`: a config brought its own path rules) the
        path without its leading `/`, as Trivy's configs match relative paths."""
        if self._search(path):
            return True
        return self.relative_too and path.startswith("/") and self._search(path[1:])

    def _search(self, path: str) -> bool:
        if self._db is not None:
            scratch = getattr(self._local, "scratch", None)
            if scratch is None:
                scratch = self._local.scratch = _hs.Scratch(self._db)
            hit: list[int] = []
            self._db.scan(path.encode("utf-8", "surrogateescape"), match_event_handler=lambda *a: hit.append(1),
                          scratch=scratch)
            if hit:
                return True
        return any(p.search(path) for p in self._slow)
