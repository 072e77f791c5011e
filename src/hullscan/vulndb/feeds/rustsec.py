"""RustSec advisories (`crates/<crate>/RUSTSEC-*.md`): a ```` ```toml ```` front matter block
(`[advisory]`, `[versions] patched/unaffected`, `[affected]`) then Markdown `# title` and text.

Ecosystem `crates.io`, range type SEMVER from the requirement strings (`_requirements`).
Informational advisories (`unmaintained`, `unsound`, `notice`) are not vulnerabilities and are not
imported; nor are `rust/` toolchain advisories (rustc/rustdoc/std are no crates.io packages).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds._cvss import kind_of, score
from hullscan.vulndb.feeds._input import iso, text
from hullscan.vulndb.feeds._requirements import to_range
from hullscan.vulndb.model import AdvisoryIn, AffectedIn

FEED = "rustsec"
FORMAT = "rustsec"
_FRONT = re.compile(r"\A\s*```toml\s*\n(.*?)\n```\s*\n?(.*)\Z", re.S)


def detect(name: str, kind: str, doc: Any) -> bool:
    return kind == "text" and name.lower().endswith(".md") and doc.lstrip().startswith("```toml")


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    if "/rust/" in f"/{name.split('!')[-1]}" and "/crates/" not in f"/{name.split('!')[-1]}":
        return  # toolchain advisory (module docstring)
    m = _FRONT.match(doc)
    if not m:
        batch.skip(name, "no ```toml front matter")
        return
    try:
        front = tomllib.loads(m.group(1))
    except tomllib.TOMLDecodeError as err:
        batch.skip(name, f"bad TOML: {err}")
        return
    a = front.get("advisory")
    if not isinstance(a, dict) or not text(a.get("id")) or not text(a.get("package")):
        batch.skip(name, "no [advisory] id/package")
        return
    if a.get("informational"):
        return
    vers = v if isinstance(v := front.get("versions"), dict) else {}
    patched, unaffected = vers.get("patched") or [], vers.get("unaffected") or []
    if not isinstance(patched, list) or not isinstance(unaffected, list):
        batch.skip(f"{name}: {a['id']}", "versions.patched/unaffected are not lists")
        return
    body = m.group(2).strip()
    title, details = None, body or None
    t = re.match(r"#\s+(.+?)\s*\n(.*)\Z", body + "\n", re.S)
    if t:
        title, details = t.group(1).strip(), t.group(2).strip() or None
    adv = AdvisoryIn(
        id=str(a["id"]).strip(),
        summary=title,
        details=details,
        published=iso(a.get("date")),
        modified=iso(a.get("date")),
        withdrawn=iso(a.get("withdrawn")),
        aliases=[str(x) for x in a.get("aliases") or [] if x],
    )
    vec = text(a.get("cvss"))
    if vec:
        ty = kind_of(vec)
        adv.severities.append((ty, vec, score(ty, vec)))
    if text(a.get("url")):
        adv.references.append(("REPORT", str(a["url"])))
    for r in a.get("references") or []:
        adv.references.append(("WEB", str(r)))
    adv.references.append(("ADVISORY", f"https://rustsec.org/advisories/{adv.id}.html"))
    rng = to_range([str(p) for p in patched], [str(u) for u in unaffected], "semver", "SEMVER")
    status = "fixed" if patched else "affected"
    adv.affected.append(AffectedIn("crates.io", str(a["package"]).strip(), [rng], [], status))
    batch.put(adv)
