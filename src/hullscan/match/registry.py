"""The matchers, in the order they are asked: the first that `handles` a package matches it."""

from __future__ import annotations

from hullscan.match.apk import ApkMatcher
from hullscan.match.dpkg import DpkgMatcher
from hullscan.match.gostdlib import GoStdlibMatcher
from hullscan.match.language import LanguageMatcher
from hullscan.match.matcher import Matcher
from hullscan.match.rpm import RpmMatcher

#: Go's stdlib before the language matcher, which would take every Go package.
MATCHERS: tuple[Matcher, ...] = (DpkgMatcher(), RpmMatcher(), ApkMatcher(), GoStdlibMatcher(), LanguageMatcher())

