"""JUnit XML from a Report, for CI dashboards (Jenkins, GitLab, Azure DevOps, CircleCI).

- `<testsuites>` holds one `<testsuite>` per target and finding class: `<target> · vulnerabilities`
  (split per ecosystem, as dashboards group them), `· secrets`, `· misconfigurations`, and `· policy`
  for verdict rules that name no finding (licences, DB age, base image rules). When the findings'
  `inherited` is known, each class splits in two: `<target> · vulnerabilities.Debian:12 · inherited`
  (what the base image brought; suite properties `origin` and `base_image`) and `… · introduced`.
- One `<testcase>` per finding: name = the gate's label (`ID (package version)`, plus ` [path]` when the
  same label occurs twice, e.g. a lockfile and the installed metadata), classname =
  `<target>.<class>.<ecosystem or path>`. It FAILS when the policy verdict lists it in a failed rule;
  without a policy gate, every finding shown fails (the report only holds findings left after the
  display filters). Findings the policy suppressed are `<skipped>` with the reason.
- The details a developer needs (fix, layer, references) go in the failure text and `<system-out>`.
Validated in the tests against the Jenkins xunit plugin's JUnit XSD.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from xml.etree import ElementTree as ET

from hullscan.model.findings import Finding
from hullscan.model.report import Report
from hullscan.report.findings import Item, failed_labels, items, target_name


def _origin(inherited: bool | None) -> str:
    return "" if inherited is None else ("inherited" if inherited else "introduced")


def _details(it: Item, base_name: str = "") -> str:
    f = it.finding
    lines = [f"{it.rule_id} · severity {it.severity}", it.title]
    if isinstance(f, Finding):
        pkg = f.package
        lines += [f"package: {pkg.name} {pkg.version} ({pkg.purl})",
                  f"status: {f.status}; fixed version: {f.fixed_version or 'none yet'}"]
        if pkg.paths:
            lines.append("paths: " + ", ".join(pkg.paths))
    else:
        lines.append(f"path: {f.path}" + (f" line {it.line}" if it.line else ""))
        if f.match:
            lines.append(f"match (masked): {f.match}")
    layer = it.layer
    if layer is not None:
        lines.append(f"layer {layer.index} ({'base image' if layer.base else 'application'}): "
                     f"{layer.created_by} {layer.diff_id}".rstrip())
    if f.inherited is not None:
        lines.append(f"inherited from the base image {base_name}".rstrip() if f.inherited
                     else "introduced by the image's own layers")
    if it.risk is not None:
        lines.append(f"risk {it.risk.score}: {it.risk.reason}")
    if isinstance(f, Finding):
        lines += f.references[:5]
    return "\n".join(x for x in lines if x)


def _suite_key(it: Item) -> str:
    """`vulnerabilities.<ecosystem>`, `secrets`, `misconfigurations`; then ` · inherited` or ` · introduced`
    when the finding's `inherited` is known, so a dashboard shows the base's findings apart."""
    f = it.finding
    if isinstance(f, Finding):
        key = "vulnerabilities." + (f.package.ecosystem or "unknown")
    else:
        key = {"secret": "secrets", "misconfiguration": "misconfigurations"}[it.kind]
    origin = _origin(f.inherited)
    return f"{key} · {origin}" if origin else key


def build_junit(report: Report) -> ET.Element:
    target = target_name(report)
    base_name = report.base_image.name
    failing = failed_labels(report)
    failed_rules = report.verdict.failed_rules if report.verdict is not None else ()
    suites: dict[str, list[ET.Element]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"failures": 0, "skipped": 0})
    all_items = list(items(report, with_suppressed=True))
    repeated = {label for label, n in Counter(it.label for it in all_items).items() if n > 1}
    for it in all_items:
        key = _suite_key(it)
        klass = key.split(" · ")[0]
        where = it.finding.package.name if isinstance(it.finding, Finding) else (it.path or "image-config")
        # the same package version found twice (a lockfile and the installed metadata): name the path too
        name = f"{it.label} [{it.path}]" if it.label in repeated and it.path else it.label
        case = ET.Element("testcase", {"name": name, "classname": f"{target}.{klass}.{where}", "time": "0"})
        if it.suppressed is not None:
            s = it.suppressed
            ET.SubElement(case, "skipped", {"message": f"suppressed by {s.by}: "
                                                       f"{s.justification or s.impact or s.status}".strip()})
            counts[key]["skipped"] += 1
        elif failing is None or it.label in failing:
            rules = [r.rule for r in failed_rules if it.label in r.findings]
            why = f"policy rule {', '.join(rules)}" if rules else "finding present"
            fail = ET.SubElement(case, "failure", {"type": it.severity, "message": f"{it.title} ({why})"})
            fail.text = _details(it, base_name)
            counts[key]["failures"] += 1
        else:
            ET.SubElement(case, "system-out").text = _details(it, base_name)
        suites[key].append(case)

    root = ET.Element("testsuites", {"name": f"hullscan {target}"})
    total = failures = 0
    labels = {it.label for it in all_items}
    policy_cases = []
    for rule in failed_rules:
        loose = [x for x in rule.findings if x not in labels]
        if loose:  # a rule whose items are not findings of this report (licences, DB age)
            case = ET.Element("testcase", {"name": rule.rule, "classname": f"{target}.policy", "time": "0"})
            fail = ET.SubElement(case, "failure", {"type": "policy", "message": rule.description or rule.rule})
            fail.text = "\n".join(loose)
            policy_cases.append(case)
    if policy_cases:
        suites["policy"] = policy_cases
        counts["policy"]["failures"] = len(policy_cases)
    for key in sorted(suites):
        cases = suites[key]
        suite = ET.SubElement(root, "testsuite", {
            "name": f"{target} · {key}", "tests": str(len(cases)), "failures": str(counts[key]["failures"]),
            "errors": "0", "skipped": str(counts[key]["skipped"]), "time": "0",
            "timestamp": report.created_at.rstrip("Z"),
        })
        props = ET.SubElement(suite, "properties")
        klass, _, origin = key.partition(" · ")
        pairs = [("target", target), ("class", klass), ("gate", "policy" if failing is not None else "none")]
        if origin:
            pairs.append(("origin", origin))
            if origin == "inherited" and base_name:
                pairs.append(("base_image", base_name))
        for name, value in pairs:
            ET.SubElement(props, "property", {"name": name, "value": value})
        suite.extend(cases)
        total += len(cases)
        failures += counts[key]["failures"]
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", "0")
    return root


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(root: ET.Element) -> None:
    """XML 1.0 cannot carry most control characters, which a file's line (a secret match) may hold."""
    for el in root.iter():
        if el.text:
            el.text = _NOT_XML.sub("\ufffd", el.text)
        for k, v in el.attrib.items():
            el.set(k, _NOT_XML.sub("\ufffd", v))


def render(report: Report) -> bytes:
    root = build_junit(report)
    _clean(root)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
