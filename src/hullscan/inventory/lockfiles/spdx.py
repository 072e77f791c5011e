"""Declared license strings → SPDX ids or expressions, where that can be derived safely.

`license-expression` knows the SPDX list and its aliases; the small table below covers the free
text and PyPI trove classifiers that packages commonly declare instead (a guess is never made:
unknown text is kept as declared).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from license_expression import ExpressionError, get_spdx_licensing

_ALIASES = {
    "mit license": "MIT",
    "the mit license": "MIT",
    "mit/x11": "MIT",
    "expat": "MIT",
    "apache": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache2": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache license version 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "the apache software license, version 2.0": "Apache-2.0",
    "the apache license, version 2.0": "Apache-2.0",
    "asl 2.0": "Apache-2.0",
    "bsd-2": "BSD-2-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "simplified bsd": "BSD-2-Clause",
    "bsd-3": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause",
    "isc license": "ISC",
    "isc license (iscl)": "ISC",
    "python software foundation license": "PSF-2.0",
    "psf": "PSF-2.0",
    "psfl": "PSF-2.0",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "mpl 2.0": "MPL-2.0",
    "mpl2": "MPL-2.0",
    "gpl": "",  # ambiguous version: keep as declared
    "gplv2": "GPL-2.0-only",
    "gplv2+": "GPL-2.0-or-later",
    "gplv3": "GPL-3.0-only",
    "gplv3+": "GPL-3.0-or-later",
    "lgplv2+": "LGPL-2.0-or-later",
    "lgplv3": "LGPL-3.0-only",
    "lgplv3+": "LGPL-3.0-or-later",
    "eclipse public license 1.0": "EPL-1.0",
    "eclipse public license - v 1.0": "EPL-1.0",
    "eclipse public license 2.0": "EPL-2.0",
    "eclipse public license v1.0": "EPL-1.0",
    "eclipse public license v2.0": "EPL-2.0",
    "eclipse public license - v 2.0": "EPL-2.0",
    "cddl 1.0": "CDDL-1.0",
    "cddl 1.1": "CDDL-1.1",
    "the unlicense (unlicense)": "Unlicense",
    "public domain": "",
    "zpl 2.1": "ZPL-2.1",
    "zope public license": "ZPL-2.1",
    "hpnd": "HPND",
    "historical permission notice and disclaimer (hpnd)": "HPND",
    "zlib/libpng": "Zlib",
    "zlib/libpng license": "Zlib",
}

# "License :: OSI Approved :: X" → SPDX (only classifiers that name one version unambiguously).
_CLASSIFIERS = {
    "MIT License": "MIT",
    "MIT No Attribution License (MIT-0)": "MIT-0",
    "Apache Software License": "Apache-2.0",
    "BSD License": "",  # which BSD is not said
    "ISC License (ISCL)": "ISC",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
    "GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
    "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "The Unlicense (Unlicense)": "Unlicense",
    "Zope Public License": "ZPL-2.1",
    "Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "zlib/libpng License": "Zlib",
    "Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "Academic Free License (AFL)": "",
    "Artistic License": "",
}


@lru_cache(maxsize=1)
def _licensing() -> Any:  # license_expression.Licensing (the library ships no types)
    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def to_spdx(declared: str) -> str:
    """An SPDX id/expression for a declared license string, or the cleaned string when none is derivable.

    Returns '' for empty input or license *texts* (long, multi-line) that name no license."""
    text = (declared or "").strip().strip('"').strip()
    if not text or text.upper() in {"UNKNOWN", "NONE", "UNLICENSED", "SEE LICENSE FILE", "N/A"}:
        return ""
    if "\n" in text or len(text) > 200:
        return ""  # a whole license text pasted into the field
    alias = _ALIASES.get(text.lower().rstrip("."))
    if alias is not None:
        return alias or text
    try:
        expr = _licensing().parse(text, validate=False)
    except ExpressionError:
        expr = None
    except Exception:  # the parser raises a few non-ExpressionError types on odd input
        expr = None
    if expr is not None and not _licensing().unknown_license_keys(expr):
        return str(expr)
    return text


def from_classifiers(classifiers: list[str]) -> list[str]:
    """SPDX ids named by `License :: …` trove classifiers."""
    out: list[str] = []
    for c in classifiers:
        parts = [p.strip() for p in c.split("::")]
        if not parts or parts[0] != "License":
            continue
        spdx = _CLASSIFIERS.get(parts[-1], "")
        if spdx and spdx not in out:
            out.append(spdx)
    return out


_WS = re.compile(r"\s+")


def clean(value: str) -> str:
    """Collapse whitespace (manifests wrap long values)."""
    return _WS.sub(" ", value).strip()


@lru_cache(maxsize=4096)
def is_spdx(value: str) -> bool:
    """True when `value` parses as an SPDX expression made only of known license ids."""
    try:
        expr = _licensing().parse(value, validate=False)
    except Exception:
        return False
    return expr is not None and not _licensing().unknown_license_keys(expr)
