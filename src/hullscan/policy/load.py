"""Read the policy YAML and Trivy's ignore files into a Policy; a bad file is one line, exit 2.

Every file is checked against its schema first (`hullscan/schemas/`, shipped as `docs/policy.schema.json`
and `docs/trivyignore.schema.json`; `hullscan.userfile`), so what this module reads has the types it
expects; the checks a schema cannot state (expiry unless permanent exceptions are allowed, SPDX
licence ids) follow here.
"""

from __future__ import annotations

import os

from hullscan.errors import InputError
from hullscan.policy.model import BaseImageRule, Exception_, LicenseRule, Policy, Rules

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from datetime import date
    from typing import Any

DEFAULT_POLICY = ".hullscan.yaml"
TRIVYIGNORE = ".trivyignore"
TRIVYIGNORE_YAML = ".trivyignore.yaml"


def load_policy(path: str | None, *, ignorefile: str | None = None, vex: list[str] | None = None) -> Policy:
    """The policy to apply: the given file, else ./.hullscan.yaml when present, plus Trivy ignore files."""
    policy = Policy()
    chosen = path or (DEFAULT_POLICY if os.path.isfile(DEFAULT_POLICY) else None)
    if chosen:
        policy = _parse_policy(chosen)
    ignore = ignorefile or next((p for p in (TRIVYIGNORE_YAML, TRIVYIGNORE) if os.path.isfile(p)), None)
    if ignore:
        policy.exceptions.extend(load_trivyignore(ignore))
    policy.vex.extend(vex or [])
    return policy


def _parse_policy(path: str) -> Policy:
    from hullscan import userfile  # only when there is a policy to read: the default gate needs no YAML parser

    doc = userfile.load_yaml(userfile.read_text(path, "policy file"), path)
    if doc is None:
        doc = {}
    userfile.validate(doc, "policy", path)
    fail = doc.get("fail_on") or {}
    lic = fail.get("licenses")
    licenses = None
    if lic is not None:
        licenses = LicenseRule(_licences(lic.get("deny"), f"{path}: fail_on.licenses.deny"),
                               _licences(lic.get("allow"), f"{path}: fail_on.licenses.allow"))
    rules = Rules(
        severity=_upper(fail.get("severity")),
        fixable_only=fail.get("fixable_only", False),
        reachable_only=fail.get("reachable_only", False),
        kev=fail.get("kev", False),
        epss_above=_number(fail.get("epss_above")),
        ids=tuple(fail.get("ids") or ()),
        secrets=_upper(fail.get("secrets")),
        misconfigurations=_upper(fail.get("misconfigurations")),
        licenses=licenses,
        db_older_than_days=_number(fail.get("db_older_than_days")),
    )
    settings = doc.get("settings") or {}
    base = os.path.dirname(path)
    policy = Policy(
        rules=rules,
        vex=[v if os.path.isabs(v) else os.path.join(base, v) for v in doc.get("vex") or ()],
        base_images=_base_images(doc.get("base_images"), f"{path}: base_images"),
        os_eol=(doc.get("os") or {}).get("eol"),
        runtime_drift=(doc.get("runtime") or {}).get("drift"),
        warn_expiring_within_days=int(settings.get("warn_expiring_within_days", 14)),
        allow_permanent_exceptions=settings.get("allow_permanent_exceptions", False),
        path=path,
        gate=True,
    )
    for i, raw in enumerate(doc.get("exceptions") or ()):
        policy.exceptions.append(_exception(raw, f"{path}: exceptions[{i}]", policy.allow_permanent_exceptions))
    return policy


def _base_images(raw: dict[str, Any] | None, where: str) -> BaseImageRule | None:
    """The `base_images` section; each allow/deny entry must parse as a name (tag globs allowed) or a digest."""
    if not raw:
        return None
    from hullscan.policy.base_rules import pattern_error  # only when the section is there

    lists = {}
    for key in ("allow", "deny"):
        entries = tuple(raw.get(key) or ())
        for i, entry in enumerate(entries):
            problem = pattern_error(entry)
            if problem:
                raise InputError(f"{where}.{key}[{i}]: {entry!r}: {problem}")
        lists[key] = entries
    return BaseImageRule(allow=lists["allow"], deny=lists["deny"], max_age_days=_number(raw.get("max_age_days")),
                         require_known=bool(raw.get("require_known", False)))


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _upper(severity: str | None) -> str | None:
    return severity.upper() if severity else None


def _licences(entries: list[str] | None, where: str) -> tuple[str, ...]:
    """Each entry one SPDX licence (optionally WITH an exception): a typo or an expression would never match."""
    if not entries:
        return ()
    from hullscan.policy.licenses import rule_entry_error  # license-expression only for a licence rule

    for i, entry in enumerate(entries):
        problem = rule_entry_error(entry)
        if problem:
            raise InputError(f"{where}[{i}]: {entry!r} {problem}")
    return tuple(entries)


def _exception(raw: dict[str, Any], where: str, allow_permanent: bool) -> Exception_:
    from hullscan.userfile import parse_date

    expires = parse_date(raw["expires"], f"{where}.expires") if raw.get("expires") else None
    if expires is None and not allow_permanent:
        raise InputError(f"{where}: expires is required (or set settings.allow_permanent_exceptions)")
    justification = raw["justification"].strip()
    if not justification:
        raise InputError(f"{where}.justification: expected a non-empty string")
    return Exception_(
        justification=justification,
        id=raw.get("id", ""),
        fingerprint=raw.get("fingerprint", ""),
        rule_id=raw.get("rule_id", ""),
        package=raw.get("package", ""),
        purl=raw.get("purl", ""),
        path=raw.get("path", ""),
        owner=raw.get("owner", ""),
        expires=expires,
        source=where,
        vex_status=raw.get("vex_status", "not_affected"),
        vex_justification=raw.get("vex_justification", ""),
    )


_EXP = "exp:"
_SPDX_OPERATORS = ("WITH", "AND", "OR")


def load_trivyignore(path: str) -> list[Exception_]:
    """Trivy's `.trivyignore` (one id a line, `exp:YYYY-MM-DD`, `#` comments) or `.trivyignore.yaml`
    (vulnerabilities/secrets/misconfigurations/licenses lists with id, paths, purls, expired_at, statement)."""
    from hullscan import userfile

    text = userfile.read_text(path, "ignore file")
    if path.endswith((".yaml", ".yml")):
        return _trivyignore_yaml(path, text)
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        # As Trivy reads it: the first field is the id, an `exp:` field its expiry, other fields are notes;
        # but a licence expression (`Apache-2.0 WITH LLVM-exception`, as Trivy's docs write) is kept whole,
        # where Trivy would keep `Apache-2.0` and so ignore more than the line says.
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        ident = fields[0]
        rest = fields[1:]
        while len(rest) >= 2 and rest[0] in _SPDX_OPERATORS:
            ident, rest = f"{ident} {rest[0]} {rest[1]}", rest[2:]
        exp = next((f[len(_EXP):] for f in rest if f.startswith(_EXP)), None)
        out.append(
            Exception_(
                justification=f"listed in {os.path.basename(path)}",
                id=ident,
                expires=userfile.parse_date(exp, f"{path}:{n}: exp") if exp is not None else None,
                source=f"{path}:{n}",
            )
        )
    return out


def _trivyignore_yaml(path: str, text: str) -> list[Exception_]:
    from hullscan import userfile

    doc = userfile.load_yaml(text, path)
    userfile.validate(doc, "trivyignore", path)
    out = []
    for section in ("vulnerabilities", "secrets", "misconfigurations", "licenses"):
        for i, raw in enumerate((doc or {}).get(section) or ()):
            where = f"{path}: {section}[{i}]"
            expires: date | None = userfile.parse_date(raw["expired_at"], f"{where}.expired_at") if raw.get("expired_at") else None
            for p in raw.get("paths") or [""]:
                for purl in raw.get("purls") or [""]:
                    out.append(
                        Exception_(
                            justification=raw.get("statement") or f"listed in {os.path.basename(path)}",
                            id=raw["id"] if section in ("vulnerabilities", "licenses") else "",
                            rule_id=raw["id"] if section in ("secrets", "misconfigurations") else "",
                            path=p,
                            purl=purl,
                            expires=expires,
                            source=where,
                        )
                    )
    return out
