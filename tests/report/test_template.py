"""`--format template`: Jinja2 templates in a sandbox over the JSON report's model (report/template.py).

The built-in GitLab template is validated against GitLab's container-scanning schema 15.1.4 and the
ASFF template against a schema of AWS's documented field requirements (testdata/, PROVENANCE.md), both
over the shared report-format scan (formats_scan.py). Expected values are read by hand from that
scan's JSON report (django 2.2 from the example image, CVE-2019-14234 fixed in 2.2.4)."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.strategies as st
import jsonschema
import pytest
from formats_scan import AWS_SECRET, GITHUB_TOKEN, HULLSCAN, scanned

from hullscan.errors import InputError, UsageError
from hullscan.model.report import Report
from hullscan.record import replace
from hullscan.report.formats import writer
from hullscan.report.json_report import package_dict, render_packages
from hullscan.report.load import load_report

TESTDATA = Path(__file__).parent / "testdata"
GITLAB_SCHEMA = json.loads((TESTDATA / "gitlab-container-scanning-report-format-15.1.4.json").read_text())
ASFF_SCHEMA = json.loads((TESTDATA / "asff-finding.schema.json").read_text())
AWS = {"AWS_ACCOUNT_ID": "123456789012", "AWS_REGION": "eu-west-1"}


def _report(which: str) -> Report:
    path = scanned()[which]
    return load_report(json.loads(path.read_text()), str(path))


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return {which: _report(which) for which in ("plain", "judged")}


def _render(report: Report, template: str) -> str:
    return writer("template", template)(report).decode()


def _fails(report: Report, template: str) -> str:
    with pytest.raises(InputError) as err:
        writer("template", template)(report)
    return str(err.value)


# ---- GitLab ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["plain", "judged"])
def test_gitlab_report_is_valid_against_gitlabs_schema(reports: dict[str, Report], which: str) -> None:
    report = reports[which]
    doc = json.loads(_render(report, "@builtin/gitlab.tpl"))
    errors = sorted(jsonschema.Draft7Validator(GITLAB_SCHEMA).iter_errors(doc), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    assert len(doc["vulnerabilities"]) == len(report.vulnerabilities) > 0
    ids = [v["id"] for v in doc["vulnerabilities"]]
    assert len(set(ids)) == len(ids)  # one per finding: django 2.2 is found twice (lockfile and dist-info)


def test_gitlab_finding_fields(reports: dict[str, Report]) -> None:
    doc = json.loads(_render(reports["plain"], "@builtin/gitlab.tpl"))
    assert doc["version"] == GITLAB_SCHEMA["self"]["version"] == "15.1.4"
    assert doc["scan"]["type"] == "container_scanning" and doc["scan"]["status"] == "success"
    found = [v for v in doc["vulnerabilities"] if v["identifiers"][0]["value"] == "CVE-2019-14234"]
    assert found  # django 2.2 in the dist-info and the Pipfile.lock: one finding with locations[], or two
    v = found[0]
    assert v["severity"] == "Critical"
    assert v["name"] == "SQL Injection in Django"
    assert v["solution"] == "Upgrade django to 2.2.4"
    assert v["identifiers"][0] == {"type": "cve", "name": "CVE-2019-14234", "value": "CVE-2019-14234",
                                   "url": "https://nvd.nist.gov/vuln/detail/CVE-2019-14234"}
    assert {"type": "ghsa", "name": "GHSA-6r97-cj55-9hrq", "value": "GHSA-6r97-cj55-9hrq",
            "url": "https://github.com/advisories/GHSA-6r97-cj55-9hrq"} in v["identifiers"]
    assert v["location"] == {"dependency": {"package": {"name": "django"}, "version": "2.2"},
                             "operating_system": "alpine 3.10.4", "image": "reports"}
    assert v["cvss_vectors"] == [{"vendor": "osv", "vector": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
    # the ids are stable: the same report renders the same ids
    again = json.loads(_render(reports["plain"], "@builtin/gitlab.tpl"))
    assert [x["id"] for x in again["vulnerabilities"]] == [x["id"] for x in doc["vulnerabilities"]]


def test_gitlab_leaves_out_what_its_schema_refuses(reports: dict[str, Report]) -> None:
    """A CVSS 4.0 vector does not match the schema's vector patterns: the finding goes without it."""
    report = reports["plain"]
    first = report.vulnerabilities[0]
    assert first.cvss is not None
    v4 = replace(first.cvss, version="4.0", vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    changed = replace(report, vulnerabilities=(replace(first, cvss=v4, references=("not a url",)),))
    doc = json.loads(_render(changed, "@builtin/gitlab.tpl"))
    assert not list(jsonschema.Draft7Validator(GITLAB_SCHEMA).iter_errors(doc))
    assert "cvss_vectors" not in doc["vulnerabilities"][0] and "links" not in doc["vulnerabilities"][0]


# ---- ASFF -----------------------------------------------------------------------------------------

def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)] + [str(k) for k in value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("which", ["plain", "judged"])
def test_asff_findings_have_the_required_fields(reports: dict[str, Report], which: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in AWS.items():
        monkeypatch.setenv(k, v)
    report = reports[which]
    doc = json.loads(_render(report, "@builtin/asff.tpl"))
    findings = doc["Findings"]
    assert len(findings) == len(report.vulnerabilities) + len(report.secrets) + len(report.misconfigurations)
    validator = jsonschema.Draft202012Validator(ASFF_SCHEMA)
    for f in findings:
        errors = list(validator.iter_errors(f))
        assert not errors, (f["Title"], [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]])
        assert all(re.search(r"\S", s) for s in _strings(f)), f["Title"]  # NonEmptyString, everywhere
        assert len(json.dumps(f).encode()) < 240 * 1024  # BatchImportFindings' size limit per finding
    assert len({f["Id"] for f in findings}) == len(findings)


def test_asff_finding_fields(reports: dict[str, Report], monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in AWS.items():
        monkeypatch.setenv(k, v)
    findings = json.loads(_render(reports["plain"], "@builtin/asff.tpl"))["Findings"]
    f = next(f for f in findings if f["Title"] == "CVE-2019-14234 in django 2.2")
    assert f["ProductArn"] == "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    assert f["AwsAccountId"] == "123456789012"
    assert f["Types"] == ["Software and Configuration Checks/Vulnerabilities/CVE"]
    assert f["Severity"] == {"Label": "CRITICAL", "Original": "CRITICAL"}
    assert f["Resources"][0]["Type"] == "Container" and f["Resources"][0]["Id"] == "reports"
    vuln = f["Vulnerabilities"][0]
    assert vuln["Id"] == "CVE-2019-14234" and vuln["FixAvailable"] == "YES"
    assert vuln["VulnerablePackages"][0]["FixedInVersion"] == "2.2.4"
    assert vuln["Cvss"][0]["BaseScore"] == 9.8
    assert f["Remediation"]["Recommendation"]["Text"] == "Upgrade django to 2.2.4"
    secrets = [f for f in findings if f["Types"] == ["Sensitive Data Identifications/Passwords"]]
    assert len(secrets) == len(reports["plain"].secrets) == 3
    text = json.dumps(findings)
    assert GITHUB_TOKEN not in text and AWS_SECRET not in text  # the report's masking holds
    config = [f for f in findings if f["GeneratorId"] == "hullscan/config/config-user-root"]
    assert len(config) == 1 and config[0]["Severity"]["Label"] == "HIGH"


def test_asff_partition_follows_the_region(reports: dict[str, Report], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    f = json.loads(_render(reports["plain"], "@builtin/asff.tpl"))["Findings"][0]
    assert f["ProductArn"].startswith("arn:aws-cn:securityhub:cn-north-1:123456789012:")
    assert f["Resources"][0]["Partition"] == "aws-cn"


@pytest.mark.parametrize(("env", "message"), [
    ({}, "environment variable AWS_ACCOUNT_ID is not set"),
    ({"AWS_ACCOUNT_ID": "12345", "AWS_REGION": "eu-west-1"}, "AWS_ACCOUNT_ID must be the 12-digit account id"),
    ({"AWS_ACCOUNT_ID": "123456789012"}, "set AWS_REGION"),
])
def test_asff_needs_the_account_and_region(reports: dict[str, Report], monkeypatch: pytest.MonkeyPatch,
                                           env: dict[str, str], message: str) -> None:
    for k in ("AWS_ACCOUNT_ID", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    error = _fails(reports["plain"], "@builtin/asff.tpl")
    assert error.startswith("template @builtin/asff.tpl:") and message in error


# ---- the model, the helpers, the sandbox ----------------------------------------------------------

def test_the_template_sees_the_json_reports_fields(reports: dict[str, Report]) -> None:
    report = reports["judged"]
    out = _render(report, "{{ schema_version }} {{ target.name }} {{ vulnerabilities | length }} "
                          "{{ report.verdict.passed }} {{ (secrets | first).rule_id }}")
    saved = json.loads(scanned()["judged"].read_text())
    assert out == f"{saved['schema_version']} reports {len(report.vulnerabilities)} False {report.secrets[0].rule_id}"


def test_a_cached_reports_pre_rendered_packages_are_a_list(reports: dict[str, Report]) -> None:
    """A warm scan's report carries its packages as the JSON writer's bytes: templates still see a list."""
    report = reports["plain"]

    class Rendered(tuple):  # type: ignore[type-arg]  # what cache/results.py hands over: a sequence with `rendered`
        rendered = render_packages(report.packages)

    cached = replace(report, packages=Rendered(report.packages))
    out = _render(cached, "{{ packages | length }} {{ packages[0].name }} {{ packages[0].purl }}")
    first = package_dict(report.packages[0])
    assert out == f"{len(report.packages)} {first['name']} {first['purl']}"


def test_files_includes_and_escaping(reports: dict[str, Report], tmp_path: Path) -> None:
    (tmp_path / "row.tpl").write_text("{{ v.id }}|{{ v.package.name }}\n")
    (tmp_path / "main.tpl").write_text("{% for v in vulnerabilities[:2] %}{% include 'row.tpl' %}{% endfor %}")
    report = reports["plain"]
    expected = "".join(f"{v.id}|{v.package.name}\n" for v in report.vulnerabilities[:2])
    assert _render(report, f"@{tmp_path / 'main.tpl'}") == expected
    # .html templates escape, others do not
    (tmp_path / "t.html").write_text("<p>{{ x }}</p>")
    (tmp_path / "t.tpl").write_text("<p>{{ x }}</p>")
    odd = replace(report, target=replace(report.target, name="a<b>&'c"))
    assert _render(odd, "{% set x = target.name %}" + (tmp_path / "t.tpl").read_text()) == "<p>a<b>&'c</p>"
    (tmp_path / "t.html").write_text("<p>{{ target.name }}</p>")
    assert _render(odd, f"@{tmp_path / 't.html'}") == "<p>a&lt;b&gt;&amp;&#39;c</p>"
    assert _render(odd, "{{ {'n': target.name} | tojson }}") == json.dumps({"n": "a<b>&'c"}, ensure_ascii=False)


def test_uuid5_env_and_fail(reports: dict[str, Report], monkeypatch: pytest.MonkeyPatch) -> None:
    report = reports["plain"]
    # uuid.uuid5(uuid.NAMESPACE_URL, "x"), computed by Python's uuid module and written here
    assert _render(report, "{{ 'x' | uuid5 }}") == "4cd605e7-afa2-5360-b5b9-c5e9fb5c76f4"
    monkeypatch.setenv("HULLSCAN_TPL_TEAM", "platform")
    assert _render(report, "{{ env('HULLSCAN_TPL_TEAM') }}/{{ env('HULLSCAN_TPL_NONE', 'n/a') }}") == "platform/n/a"
    for name in ("AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "CI_JOB_TOKEN", "DB_PASSWORD", "API_KEY"):
        monkeypatch.setenv(name, "s3cr3t")
        assert "refused: a template may not read credentials" in _fails(report, f"{{{{ env('{name}') }}}}")
    assert _fails(report, "line 1\n{{ fail('no images today') }}") == "template --template:2: no images today"


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ report.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ env.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ '{0.__class__}'.format(report) }}",
    "{{ (vulnerabilities | first).__class__.__base__ }}",
    "{{ range.__self__ }}",
    "{% for x in range(1000000) %}{% endfor %}",
    "{{ 'a' * 100000000 }}",
    "{{ [0] * 100000000 }}",
    "{{ 10 ** 100000000 }}",
])
def test_the_sandbox_refuses_escapes(reports: dict[str, Report], payload: str) -> None:
    error = _fails(reports["plain"], payload)
    assert error.startswith("template --template:1: ")
    assert "\n" not in error and "<class" not in error and "uid=" not in error


@pytest.mark.parametrize(("template", "message"), [
    ("{% for v in vulnerabilities %}\n{{ v.id }\n{% endfor %}", "template {}:2: syntax error: "),
    ("ok\n{{ vulnerabilities[0].no_such_field }}", "template {}:2: 'dict object' has no attribute 'no_such_field'"),
    ("{{ no_such_variable }}", "template {}:1: 'no_such_variable' is undefined"),
    ("{{ 1 / 0 }}", "template {}:1: ZeroDivisionError: division by zero"),
    ("{% include 'missing.tpl' %}", "template {}:1: 'missing.tpl' not found"),
])
def test_template_errors_are_one_line(reports: dict[str, Report], tmp_path: Path, template: str, message: str) -> None:
    path = tmp_path / "t.tpl"
    path.write_text(template)
    for spec, shown in ((template, "--template"), (f"@{path}", str(path))):
        try:
            error = _fails(reports["plain"], spec)
        except InputError as err:  # a syntax error fails when the template is loaded
            error = str(err)
        assert error.startswith(message.format(shown)), (error, message.format(shown))
        assert "\n" not in error and "Traceback" not in error


def test_trivys_go_templates_get_a_hint(tmp_path: Path) -> None:
    go = tmp_path / "gitlab.tpl"
    go.write_text('{\n  "version": "15.0.7",\n  "vulnerabilities": [\n  {{- $t_first := true }}\n  {{- range . }}\n')
    with pytest.raises(InputError, match=r":4: syntax error: .*\(this looks like a Go template from Trivy"):
        writer("template", f"@{go}")
    with pytest.raises(InputError, match=r"^--template @contrib/gitlab.tpl: no such file \(Trivy's contrib templates are "
                                         r"Go templates; hullscan's own is @builtin/gitlab.tpl\)$"):
        writer("template", "@contrib/gitlab.tpl")


def test_missing_and_unknown_templates(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^--template @/nonexistent/t.tpl: no such file$"):
        writer("template", "@/nonexistent/t.tpl")
    with pytest.raises(InputError, match=r"is a directory"):
        writer("template", f"@{tmp_path}")
    with pytest.raises(InputError, match=r"^--template @builtin/html.tpl: no such built-in template; "
                                         r"built-ins: @builtin/asff.tpl, @builtin/gitlab.tpl$"):
        writer("template", "@builtin/html.tpl")
    (tmp_path / "latin1.tpl").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        writer("template", f"@{tmp_path / 'latin1.tpl'}")


def test_writer_options() -> None:
    with pytest.raises(UsageError, match="--format template needs --template"):
        writer("template")
    with pytest.raises(UsageError, match="--template goes with --format template, not --format json"):
        writer("json", "@builtin/gitlab.tpl")
    assert writer("JSON") is writer("json")  # formats are case-insensitive, as Trivy's


# ---- the command line -----------------------------------------------------------------------------

def _cli_has_template_option() -> bool:
    r = subprocess.run([*HULLSCAN, "image", "--help"], capture_output=True, text=True, timeout=120)
    return "--template" in r.stdout


def test_cli_renders_a_template_and_fails_cleanly(tmp_path: Path) -> None:
    if not _cli_has_template_option():
        pytest.fail("`hullscan image` has no --template option (cli/options.py add_output)")
    paths = scanned()
    scan = [*HULLSCAN, "image", str(paths["image"]), "--db", str(paths["db"]), "--scanners", "vuln,secret,config",
            "-q", "--no-cache", "--format", "template"]
    env = {**os.environ, **AWS}
    r = subprocess.run([*scan, "--template", "@builtin/gitlab.tpl"], capture_output=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr.decode()
    assert not list(jsonschema.Draft7Validator(GITLAB_SCHEMA).iter_errors(json.loads(r.stdout)))
    out = tmp_path / "findings.asff"
    r = subprocess.run([*scan, "--template", "@builtin/asff.tpl", "-o", str(out)], capture_output=True, timeout=600,
                       env=env)
    assert r.returncode == 0, r.stderr.decode()
    assert json.loads(out.read_text())["Findings"]
    # a sandbox violation and a missing file: exit 2, one line, no traceback, nothing written
    for template, expected in (("{{ ''.__class__.__mro__ }}", "hullscan: error: template --template:1: refused by the sandbox"),
                               ("@missing.tpl", "hullscan: error: --template @missing.tpl: no such file")):
        target = tmp_path / "never.out"
        r = subprocess.run([*scan, "--template", template, "-o", str(target)], capture_output=True, timeout=600,
                           env=env)
        stderr = r.stderr.decode()
        assert r.returncode == 2, stderr
        assert stderr.startswith(expected) and stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
        assert not target.exists()


def test_template_is_listed_without_jinja2_loaded() -> None:
    """`--format json` never imports Jinja2 (a warm scan's start-up: docs/warm-path.md)."""
    code = ("import sys; from hullscan.report.formats import writer; writer('json'); "
            "print('jinja2' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr


def test_convert_renders_a_saved_report_with_a_template() -> None:
    """`hullscan convert saved.json --format template --template @builtin/gitlab.tpl`: a stored report in
    GitLab's format, later, without the image."""
    r = subprocess.run([*HULLSCAN, "convert", str(scanned()["plain"]), "--format", "template", "--template",
                        "@builtin/gitlab.tpl"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    doc = json.loads(r.stdout)
    assert not list(jsonschema.Draft7Validator(GITLAB_SCHEMA).iter_errors(doc))
    assert len(doc["vulnerabilities"]) == len(json.loads(scanned()["plain"].read_text())["vulnerabilities"])


TOKENS = ["{{", "}}", "{%", "%}", "{#", "#}", "for", "in", "endfor", "if", "else", "endif", "set", "do", "=", "x",
          "v", "vulnerabilities", "secrets", "target", "report", ".", "id", "name", "|", "length", "tojson", "uuid5",
          "join", "first", "(", ")", "[", "]", "{", "}", ":", ",", "'a'", "1", "0", "/", "*", "**", "~", "-", "+",
          "__class__", "_", "mro", "env", "fail", "namespace", "lipsum", "macro", "endmacro", "call", "caller",
          "include", "import", "loop", "is", "defined", "not", " ", "\n", "self", "format", "%", "break"]


@functools.cache
def _plain() -> Report:  # not a fixture: hypothesis would print the whole report with a failing example
    return _report("plain")


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40).map("".join))
def test_any_template_text_renders_or_fails_in_one_line(text: str) -> None:
    """Hostile or broken template text ends in output or one InputError line: never another exception
    (which the CLI would report as an internal error), never a sandbox escape."""
    try:
        out = writer("template", text)(_plain())
    except InputError as err:
        assert "\n" not in str(err) and str(err).startswith(("template --template", "--template"))
        return
    assert b"<class" not in out and b"__globals__" not in out
