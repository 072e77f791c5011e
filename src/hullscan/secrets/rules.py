"""Secret rules as data: load the built-in `rules.yaml` and merge a `--secret-config` file.

The file format is Trivy's secret-config YAML (`rules`, `allow-rules`, `exclude-block`,
`disable-rules`, `enable-builtin-rules`, `disable-allow-rules`, `skip-patterns`) plus a few fields of
ours (`keywords-exact`, `entropy`, `min-charsets`, `allow`, `window`, `generic`, `anchor`, `follows`,
`value` allow rules), so a team's Trivy config works unchanged. A config file is checked against
`hullscan/schemas/secret-config.schema.json` (shipped as `docs/secret-config.schema.json`): an unknown
key or a wrong type is one line, exit 2. Regexes are compiled once, as bytes patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from hullscan import userfile
from hullscan.errors import InputError
from hullscan.walk.globs import glob_regex

SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
DEFAULT_WINDOW = 256
_GROUP_RE = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")


@dataclass(frozen=True)
class AllowRule:
    """A reason not to report: a path, a regex over the whole match, or a regex over the secret value."""

    id: str
    """Stable id (`tests`, `markdown`…): `disable-allow-rules` names it."""
    description: str = ""
    path: re.Pattern[str] | None = None
    """Matches the file path (searched, like Trivy)."""
    regex: re.Pattern[bytes] | None = None
    """Matches the whole regex match of a finding (Trivy's semantics)."""
    value: re.Pattern[bytes] | None = None
    """Matches the secret value only (ours: placeholders, references)."""
    builtin_only: bool = False
    """Applies to built-in rules only (our placeholder lists must not veto a user's own rule)."""


@dataclass(frozen=True, eq=False)
class Rule:
    """One secret rule, compiled (identity-hashed: the engine keys dicts by rule)."""

    id: str
    category: str
    title: str
    severity: str
    source: bytes
    """The regex as Python bytes syntax (Go's repeated group names and `\\z` already translated)."""
    keywords: tuple[str, ...] = ()
    """Lowercase literals; the rule only runs near (builtin) or in files with (custom) a hit."""
    exact_keywords: tuple[str, ...] = ()
    """Case-sensitive literals (`keywords-exact`), for vendor prefixes with a fixed case."""
    secret_groups: tuple[str, ...] = ()
    """Names of the regex groups holding the secret; empty = the whole match."""
    entropy: float | None = None
    """Minimum Shannon entropy (bits per char) of the secret."""
    min_charsets: int = 0
    """The secret must mix at least this many of lower/upper/digit/symbol."""
    allow: tuple[AllowRule, ...] = ()
    """Rule-specific allow rules."""
    exclude_blocks: tuple[re.Pattern[bytes], ...] = ()
    path: re.Pattern[str] | None = None
    """Only files whose path matches."""
    window: int = DEFAULT_WINDOW
    """Bytes searched either side of a keyword hit; 0 = the whole file (custom rules)."""
    generic: bool = False
    """The value is free-form: global placeholder words also disqualify it."""
    anchor: bool = False
    """The match starts in the identifier holding the keyword (`AWS_SECRET_KEY=`, `postgres://`):
    the regex is only tried there (`match`), not at every byte of a window — the generic rules'
    key-name prefixes made window searches the engine's main cost."""
    follows: bytes = b""
    """Anchored rules: a literal that must follow the keyword on the same line (`@` for URLs with
    credentials), a C-speed check that drops most hits before the regex."""
    builtin: bool = True
    _compiled: list[re.Pattern[bytes]] = field(default_factory=list, repr=False)

    @property
    def regex(self) -> re.Pattern[bytes]:
        """Compiled on first use: a scan meets a few dozen of the rules, and compiling all of them
        in every forked layer walker cost ~40 ms each (user rules are compiled at load, to fail early)."""
        if not self._compiled:
            self._compiled.append(re.compile(self.source))
        return self._compiled[0]


@dataclass(frozen=True)
class Ruleset:
    """Everything the engine needs: rules, global allow rules and exclude blocks."""

    rules: tuple[Rule, ...]
    allow: tuple[AllowRule, ...] = ()
    generic_allow: tuple[re.Pattern[bytes], ...] = ()
    exclude_blocks: tuple[re.Pattern[bytes], ...] = ()
    custom_paths: bool = False
    """A secret config added path allow rules (matched against relative paths too, like Trivy)."""
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    """Lazily built prefilter (not part of the value)."""

    def by_id(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def _dedupe_groups(pattern: str) -> str:
    """Go's regexp allows a group name twice (`(?P<secret>…)…(?P<secret>…)`), Python's does not:
    rename the repeats `name__2`, `name__3`; the engine treats them as the same secret group."""
    seen: dict[str, int] = {}

    def rename(m: re.Match[str]) -> str:
        name = m.group(1)
        seen[name] = seen.get(name, 0) + 1
        return m.group(0) if seen[name] == 1 else f"(?P<{name}__{seen[name]}>"

    return _GROUP_RE.sub(rename, pattern)


def _translate(pattern: str) -> str:
    # Go/RE2 spell end-of-text \z; Python spells it \Z.
    return _dedupe_groups(pattern).replace(r"\z", r"\Z")


def _compile_bytes(pattern: str, where: str) -> re.Pattern[bytes]:
    try:
        return re.compile(_translate(pattern).encode("utf-8"))
    except (re.error, OverflowError, RecursionError) as exc:  # `{0777…,64}` overflows, deep groups recurse
        raise InputError(f"secret rules: bad regex in {where}: {exc}") from None


def _compile_str(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise InputError(f"secret rules: bad path regex in {where}: {exc}") from None


def _severity(value: Any) -> str:
    sev = str(value or "").upper()
    return sev if sev in SEVERITIES else "UNKNOWN"


def _allow_rule(raw: Any, where: str) -> AllowRule:
    if not isinstance(raw, dict):
        raise InputError(f"secret rules: allow rule in {where} is not a mapping")
    rid = str(raw.get("id") or raw.get("description") or "allow")
    return AllowRule(
        id=rid,
        description=str(raw.get("description", "")),
        path=_compile_str(raw["path"], where) if raw.get("path") else None,
        regex=_compile_bytes(raw["regex"], where) if raw.get("regex") else None,
        value=_compile_bytes(raw["value"], where) if raw.get("value") else None,
    )


def _exclude_blocks(raw: Any, where: str) -> tuple[re.Pattern[bytes], ...]:
    if not raw:
        return ()
    regexes = raw.get("regexes", []) if isinstance(raw, dict) else raw
    return tuple(_compile_bytes(r, where) for r in regexes)


def _rule(raw: Any, builtin: bool) -> Rule:
    if not isinstance(raw, dict) or not raw.get("id") or not raw.get("regex"):
        raise InputError(f"secret rules: every rule needs an id and a regex (got {raw!r:.80})")
    rid = str(raw["id"])
    source = _translate(str(raw["regex"]))
    if not builtin:
        _compile_bytes(str(raw["regex"]), f"rule {rid}")  # a user's bad regex fails at load, not mid-scan
    group = str(raw.get("secret-group-name") or "secret")
    names = [n for n in _GROUP_RE.findall(source) if n == group or re.fullmatch(rf"{re.escape(group)}(?:__)?\d+", n)]
    allow = tuple(_allow_rule(a, f"rule {rid}") for a in raw.get("allow-rules") or [])
    allow += tuple(
        AllowRule(id=f"{rid}-allow-{i}", value=_compile_bytes(v, f"rule {rid}"))
        for i, v in enumerate(raw.get("allow") or [])
    )
    window = int(raw.get("window", DEFAULT_WINDOW if builtin else 0))
    return Rule(
        id=rid,
        category=str(raw.get("category") or "general"),
        title=str(raw.get("title") or rid),
        severity=_severity(raw.get("severity")),
        source=source.encode("utf-8"),
        keywords=tuple(str(k).lower() for k in raw.get("keywords") or ()),
        exact_keywords=tuple(str(k) for k in raw.get("keywords-exact") or ()),
        secret_groups=tuple(names),
        entropy=float(raw["entropy"]) if raw.get("entropy") is not None else None,
        min_charsets=int(raw.get("min-charsets", 0)),
        allow=allow,
        exclude_blocks=_exclude_blocks(raw.get("exclude-block"), f"rule {rid}"),
        path=_compile_str(raw["path"], f"rule {rid}") if raw.get("path") else None,
        window=window if (raw.get("keywords") or raw.get("keywords-exact")) else 0,
        generic=bool(raw.get("generic", False)),
        anchor=bool(raw.get("anchor", False)) and bool(raw.get("keywords") or raw.get("keywords-exact")),
        follows=str(raw.get("follows", "")).encode("utf-8"),
        builtin=builtin,
    )


def _load_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C loader: 7x faster
    except yaml.YAMLError as exc:
        raise InputError(f"secret config {where}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(f"secret config {where}: expected a mapping at the top")
    return doc


_BUILTIN: dict[str, Any] | None = None


def _builtin_doc() -> dict[str, Any]:
    global _BUILTIN
    if _BUILTIN is None:
        text = resources.files("hullscan.secrets").joinpath("rules.yaml").read_text("utf-8")
        _BUILTIN = _load_yaml(text, "rules.yaml (built-in)")
    return _BUILTIN


def _names(doc: dict[str, Any], key: str) -> set[str] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise InputError(f"secret config: `{key}` must be a list of ids")
    return {str(v) for v in value}


def build_ruleset(config: dict[str, Any] | None = None) -> Ruleset:
    """The built-in rules, changed by one secret-config document (ours or Trivy's)."""
    base = _builtin_doc()
    config = config or {}
    enable_builtin = _names(config, "enable-builtin-rules")
    disabled = _names(config, "disable-rules") or set()
    disabled_allow = _names(config, "disable-allow-rules") or set()

    rules: list[Rule] = []
    for raw in base.get("rules", []):
        if enable_builtin is not None and raw["id"] not in enable_builtin:
            continue
        if raw["id"] in disabled:
            continue
        rules.append(_rule(raw, builtin=True))
    custom = config.get("rules") or []
    if not isinstance(custom, list):
        raise InputError("secret config: `rules` must be a list")
    for raw in custom:
        rule = _rule(raw, builtin=False)
        if rule.id in disabled:
            continue
        rules = [r for r in rules if r.id != rule.id]  # a custom rule replaces a built-in of the same id
        rules.append(rule)

    allow = [
        replace(_allow_rule(a, "built-in allow rules"), builtin_only="value" in a)
        for a in base.get("allow-rules", [])
        if str(a.get("id")) not in disabled_allow
    ]
    allow += [_allow_rule(a, "secret config allow-rules") for a in config.get("allow-rules") or []]
    generic_allow = tuple(_compile_bytes(p, "generic-allow") for p in base.get("generic-allow", []))
    allow += [_skip_rule(p, i) for i, p in enumerate(config.get("skip-patterns") or [])]
    blocks = _exclude_blocks(config.get("exclude-block"), "secret config exclude-block")
    return Ruleset(rules=tuple(rules), allow=tuple(allow), generic_allow=generic_allow, exclude_blocks=blocks,
                   custom_paths=bool(config.get("allow-rules")))


def _skip_rule(pattern: str, i: int) -> AllowRule:
    """Trivy's `skip-patterns` (doublestar globs over the path relative to the scan root) as a path
    allow rule: the file is not read. Added to our path allow rules (`disable-allow-rules` drops those)."""
    where = f"secret config skip-patterns[{i}]"
    if any(c in pattern for c in "{}[]"):
        raise InputError(f"{where}: {pattern!r}: brace and bracket globs are not supported (use one pattern per entry)")
    glob = pattern if pattern.startswith(("/", "**")) else "/" + pattern
    try:
        regex = glob_regex(glob)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    return AllowRule(id=f"skip-patterns[{i}]", description=f"skip {pattern}", path=re.compile(f"^{regex.pattern}$"))


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a `--secret-config` file (ours or Trivy's secret-config YAML), checked against its schema."""
    where = str(path)
    doc = userfile.load_yaml(userfile.read_text(where, "secret config"), where)
    userfile.validate(doc, "secret-config", where)
    return doc or {}


def load_ruleset(path: str | Path | None = None) -> Ruleset:
    """The ruleset for a scan: built-in rules, plus the `--secret-config` file when given."""
    return build_ruleset(load_config(path) if path else None)


_DEFAULT: Ruleset | None = None


def default_ruleset() -> Ruleset:
    """The built-in ruleset, built once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = build_ruleset(None)
    return _DEFAULT

