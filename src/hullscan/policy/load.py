"""Read the policy YAML and Trivy's ignore files into a Policy; a bad file is one line, exit 2."""

from __future__ import annotations

import os
import re
from datetime import date, datetime

from hullscan.errors import InputError
from hullscan.model.findings import SEVERITY_RANK
from hullscan.policy.model import Exception_, LicenseRule, Policy, Rules

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

DEFAULT_POLICY = ".hullscan.yaml"
TRIVYIGNORE = ".trivyignore"
TRIVYIGNORE_YAML = ".trivyignore.yaml"


def _severity(value: Any, where: str) -> str | None:
    if value is None:
        return None
    sev = str(value).upper()
    if sev not in SEVERITY_RANK:
        raise InputError(f"{where}: unknown severity {value!r} (use {', '.join(SEVERITY_RANK)})")
    return sev


def _date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        raise InputError(f"{where}: invalid date {value!r} (use YYYY-MM-DD)") from None


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
    import yaml  # only when there is a policy to read: the default gate needs no YAML parser

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh.read()) or {}
    except FileNotFoundError:
        raise InputError(f"{path}: policy file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read policy ({err})") from None
    except yaml.YAMLError as err:
        raise InputError(f"{path}: invalid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: a policy is a YAML mapping")
    unknown = set(doc) - {"version", "fail_on", "exceptions", "vex", "settings"}
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    fail = doc.get("fail_on") or {}
    if not isinstance(fail, dict):
        raise InputError(f"{path}: fail_on must be a mapping")
    bad = set(fail) - {"severity", "fixable_only", "kev", "epss_above", "ids", "secrets", "misconfigurations", "licenses",
                       "db_older_than_days"}
    if bad:
        raise InputError(f"{path}: unknown fail_on rule(s) {', '.join(sorted(bad))}")
    lic = fail.get("licenses")
    licenses = None
    if lic is not None:
        if not isinstance(lic, dict):
            raise InputError(f"{path}: fail_on.licenses must have deny and/or allow lists")
        licenses = LicenseRule(tuple(map(str, lic.get("deny") or ())), tuple(map(str, lic.get("allow") or ())))
    try:
        rules = Rules(
            severity=_severity(fail.get("severity"), f"{path}: fail_on.severity"),
            fixable_only=bool(fail.get("fixable_only", False)),
            kev=bool(fail.get("kev", False)),
            epss_above=float(fail["epss_above"]) if fail.get("epss_above") is not None else None,
            ids=tuple(str(i) for i in fail.get("ids") or ()),
            secrets=_severity(fail.get("secrets"), f"{path}: fail_on.secrets"),
            misconfigurations=_severity(fail.get("misconfigurations"), f"{path}: fail_on.misconfigurations"),
            licenses=licenses,
            db_older_than_days=float(fail["db_older_than_days"]) if fail.get("db_older_than_days") is not None else None,
        )
    except (TypeError, ValueError) as err:
        raise InputError(f"{path}: invalid fail_on value ({err})") from None
    settings = doc.get("settings") or {}
    policy = Policy(
        rules=rules,
        vex=[os.path.join(os.path.dirname(path), str(v)) if not os.path.isabs(str(v)) else str(v) for v in doc.get("vex") or []],
        warn_expiring_within_days=int(settings.get("warn_expiring_within_days", 14)),
        allow_permanent_exceptions=bool(settings.get("allow_permanent_exceptions", False)),
        path=path,
        gate=True,
    )
    for i, raw in enumerate(doc.get("exceptions") or []):
        policy.exceptions.append(_exception(raw, f"{path}: exceptions[{i}]", policy.allow_permanent_exceptions))
    return policy


def _exception(raw: Any, where: str, allow_permanent: bool) -> Exception_:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: an exception is a mapping")
    what = [k for k in ("id", "fingerprint", "rule_id") if raw.get(k)]
    if not what:
        raise InputError(f"{where}: names nothing (give id, fingerprint or rule_id)")
    justification = str(raw.get("justification") or "").strip()
    if not justification:
        raise InputError(f"{where}: justification is required")
    expires = _date(raw.get("expires"), where)
    if expires is None and not allow_permanent:
        raise InputError(f"{where}: expires is required (or set settings.allow_permanent_exceptions)")
    return Exception_(
        justification=justification,
        id=str(raw.get("id") or ""),
        fingerprint=str(raw.get("fingerprint") or ""),
        rule_id=str(raw.get("rule_id") or ""),
        package=str(raw.get("package") or ""),
        purl=str(raw.get("purl") or ""),
        path=str(raw.get("path") or ""),
        owner=str(raw.get("owner") or ""),
        expires=expires,
        source=where,
        vex_status=str(raw.get("vex_status") or "not_affected"),
        vex_justification=str(raw.get("vex_justification") or ""),
    )


_EXP = re.compile(r"\bexp:(\d{4}-\d{2}-\d{2})\b")


def load_trivyignore(path: str) -> list[Exception_]:
    """Trivy's `.trivyignore` (ids, `exp:YYYY-MM-DD`, `#` comments) or `.trivyignore.yaml`
    (vulnerabilities/secrets/misconfigurations/licenses lists with id, paths, purls, expired_at, statement)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise InputError(f"{path}: cannot read ignore file ({err.strerror})") from None
    if path.endswith((".yaml", ".yml")):
        return _trivyignore_yaml(path, text)
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        m = _EXP.search(body)
        ident = _EXP.sub("", body).strip()
        if not ident:
            continue
        out.append(
            Exception_(
                justification=f"listed in {os.path.basename(path)}",
                id=ident,
                expires=_date(m.group(1), f"{path}:{n}") if m else None,
                source=f"{path}:{n}",
            )
        )
    return out


def _trivyignore_yaml(path: str, text: str) -> list[Exception_]:
    import yaml

    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise InputError(f"{path}: invalid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a Trivy ignore file")
    out = []
    for section in ("vulnerabilities", "secrets", "misconfigurations", "licenses"):
        for i, raw in enumerate(doc.get(section) or []):
            if not isinstance(raw, dict) or not raw.get("id"):
                raise InputError(f"{path}: {section}[{i}] has no id")
            paths = raw.get("paths") or [""]
            purls = raw.get("purls") or [""]
            for p in paths:
                for purl in purls:
                    out.append(
                        Exception_(
                            justification=str(raw.get("statement") or f"listed in {os.path.basename(path)}"),
                            id=str(raw["id"]) if section in ("vulnerabilities", "licenses") else "",
                            rule_id=str(raw["id"]) if section in ("secrets", "misconfigurations") else "",
                            path=str(p),
                            purl=str(purl),
                            expires=_date(raw.get("expired_at"), f"{path}: {section}[{i}]"),
                            source=f"{path}: {section}[{i}]",
                        )
                    )
    return out
