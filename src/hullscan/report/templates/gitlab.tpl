{#- GitLab container scanning report, schema 15.1.4 (security-report-schemas,
    dist/container-scanning-report-format.json). Vulnerabilities only: GitLab takes secrets in its
    secret-detection report. Built as data and written with tojson, so the output is always valid JSON. -#}
{%- set gl_severity = {"CRITICAL": "Critical", "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low", "UNKNOWN": "Unknown"} -%}
{%- set image = target.name or target.input -%}
{%- set os_name = ([os.family, os.version] | select | join(" ")) if os else "" -%}
{%- set when = created_at[:19] -%}
{%- set tool_info = {"id": "hullscan", "name": "hullscan", "version": tool.version, "vendor": {"name": "hullscan"}} -%}
{%- set found = [] -%}
{%- for v in vulnerabilities -%}
  {%- set pkg = v.package -%}
  {%- set identifiers = [] -%}
  {%- for ident in [v.id] + v.aliases -%}
    {%- set kind = ident.split("-")[0].lower() -%}
    {%- set entry = {"type": kind, "name": ident, "value": ident} -%}
    {%- if kind == "cve" -%}{% do entry.update({"url": "https://nvd.nist.gov/vuln/detail/" ~ ident}) %}
    {%- elif kind == "ghsa" -%}{% do entry.update({"url": "https://github.com/advisories/" ~ ident}) %}
    {%- endif -%}
    {%- do identifiers.append(entry) -%}
  {%- endfor -%}
  {%- set about = [v.title or v.id, ""] -%}
  {%- set paths = (v.locations | map(attribute="path") | list) if v.locations is defined else pkg.paths[:1] -%}
  {%- do about.append(pkg.name ~ " " ~ pkg.version ~ " (" ~ pkg.type ~ ")" ~ (" at " ~ paths | join(", ") if paths else "")) -%}
  {%- if v.layer -%}
    {%- do about.append("Introduced in layer " ~ v.layer.index ~ (" of the base image" if v.layer.base else "") ~ (": " ~ v.layer.created_by if v.layer.created_by else "")) -%}
  {%- endif -%}
  {%- set item = {
      "id": [image, v.id, pkg.purl or pkg.name, pkg.version, pkg.paths[0] if pkg.paths else ""] | join("|") | uuid5,
      "name": (v.title or v.id) | truncate(255, true, "…", 0),
      "description": about | join("\n") | truncate(1048576, true, "…", 0),
      "severity": gl_severity.get(v.severity, "Unknown"),
      "identifiers": identifiers,
      "location": {
        "dependency": {"package": {"name": pkg.name}, "version": pkg.version},
        "operating_system": os_name or "Unknown",
        "image": image,
      },
  } -%}
  {%- if v.fixed_version -%}
    {%- do item.update({"solution": ("Upgrade " ~ pkg.name ~ " to " ~ v.fixed_version) | truncate(7000, true, "…", 0)}) -%}
  {%- endif -%}
  {%- if v.cvss and v.cvss.vector and (v.cvss.vector.startswith(("CVSS:3.0/", "CVSS:3.1/")) or v.cvss.version == "2.0") -%}
    {%- do item.update({"cvss_vectors": [{"vendor": v.cvss.source or "unknown", "vector": v.cvss.vector}]}) -%}
  {%- endif -%}
  {%- set links = [] -%}
  {%- for url in v.references if url.startswith(("http://", "https://", "ftp://")) -%}
    {%- do links.append({"url": url}) -%}
  {%- endfor -%}
  {%- if links -%}{% do item.update({"links": links}) %}{%- endif -%}
  {%- set details = {"status": {"name": "Status", "type": "text", "value": v.status}} -%}
  {%- if pkg.purl -%}{% do details.update({"purl": {"name": "Package URL", "type": "text", "value": pkg.purl}}) %}{%- endif -%}
  {%- if v.risk is defined -%}
    {%- do details.update({"risk": {"name": "Risk", "type": "value", "value": v.risk.score}}) -%}
  {%- endif -%}
  {%- do item.update({"details": details}) -%}
  {%- do found.append(item) -%}
{%- endfor -%}
{%- set messages = [] -%}
{%- for w in warnings -%}
  {%- do messages.append({"level": "warn", "value": ((w.path ~ ": ") if w.path else "") ~ w.message}) -%}
{%- endfor -%}
{%- set scan = {"analyzer": tool_info, "scanner": tool_info, "type": "container_scanning", "status": "success",
                "start_time": when, "end_time": when} -%}
{%- if messages -%}{% do scan.update({"messages": messages}) %}{%- endif -%}
{{ {
  "version": "15.1.4",
  "schema": "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.1.4/dist/container-scanning-report-format.json",
  "scan": scan,
  "vulnerabilities": found,
  "remediations": [],
} | tojson(2) }}
