{#- AWS Security Finding Format (ASFF, SchemaVersion 2018-10-08) for Security Hub's BatchImportFindings:
    `aws securityhub batch-import-findings --cli-input-json file://findings.asff` (100 findings a call at
    most). One finding per vulnerability, secret and image-config finding, for the custom-integration
    product ARN of the account. Needs AWS_ACCOUNT_ID and AWS_REGION (or AWS_DEFAULT_REGION) in the
    environment. Built as data and written with tojson, so the output is always valid JSON. -#}
{%- set account = env("AWS_ACCOUNT_ID") -%}
{%- if not (account | length == 12 and account.isdigit()) -%}{{ fail("AWS_ACCOUNT_ID must be the 12-digit account id, not " ~ (account | tojson)) }}{%- endif -%}
{%- set region = env("AWS_REGION", env("AWS_DEFAULT_REGION", "")) -%}
{%- if not region -%}{{ fail("set AWS_REGION (or AWS_DEFAULT_REGION) to the region Security Hub runs in") }}{%- endif -%}
{%- set partition = "aws-cn" if region.startswith("cn-") else ("aws-us-gov" if region.startswith("us-gov-") else "aws") -%}
{%- set product_arn = "arn:" ~ partition ~ ":securityhub:" ~ region ~ ":" ~ account ~ ":product/" ~ account ~ "/default" -%}
{%- set labels = {"CRITICAL": "CRITICAL", "HIGH": "HIGH", "MEDIUM": "MEDIUM", "LOW": "LOW", "UNKNOWN": "INFORMATIONAL"} -%}
{%- set image = target.name or target.input -%}
{%- set container = {"ImageName": image} -%}
{%- if target.config_digest -%}{% do container.update({"ImageId": target.config_digest}) %}{%- endif -%}
{%- set resources = [{"Type": "Container", "Id": image, "Partition": partition, "Region": region,
                      "Details": {"Container": container}}] -%}
{%- macro layer_text(layer) -%}
  {{- ("layer " ~ layer.index ~ (" (base image)" if layer.base else "") ~ (": " ~ layer.created_by if layer.created_by else "")) if layer else "" -}}
{%- endmacro -%}
{%- set entries = [] -%}
{%- for v in vulnerabilities -%}
  {%- set pkg = v.package -%}
  {%- set paths = (v.locations | map(attribute="path") | list) if v.locations is defined else pkg.paths[:1] -%}
  {%- set about = [(v.title or v.id) ~ ".", "Package: " ~ pkg.name ~ " " ~ pkg.version ~ " (" ~ pkg.type ~ ")" ~ (" at " ~ paths | join(", ") if paths else "") ~ "."] -%}
  {%- if v.layer -%}{% do about.append("Introduced in " ~ layer_text(v.layer) ~ ".") %}{%- endif -%}
  {%- set package = {"Name": pkg.name, "Version": pkg.version, "PackageManager": pkg.type} -%}
  {%- if pkg.arch -%}{% do package.update({"Architecture": pkg.arch}) %}{%- endif -%}
  {%- if pkg.paths -%}{% do package.update({"FilePath": pkg.paths[0]}) %}{%- endif -%}
  {%- if v.fixed_version -%}
    {%- do package.update({"FixedInVersion": v.fixed_version, "Remediation": "Upgrade " ~ pkg.name ~ " to " ~ v.fixed_version}) -%}
  {%- endif -%}
  {%- set vendor = {"Name": v.data_source or "hullscan", "VendorSeverity": v.severity} -%}
  {%- if v.published and v.published[10:11] == "T" -%}{% do vendor.update({"VendorCreatedAt": v.published}) %}{%- endif -%}
  {%- set vuln = {"Id": v.id, "VulnerablePackages": [package], "Vendor": vendor, "FixAvailable": "YES" if v.fixed_version else "NO"} -%}
  {%- if v.aliases -%}{% do vuln.update({"RelatedVulnerabilities": v.aliases}) %}{%- endif -%}
  {%- if v.references -%}{% do vuln.update({"ReferenceUrls": v.references}) %}{%- endif -%}
  {%- if v.cvss and v.cvss.vector -%}
    {%- set cvss = {"Version": v.cvss.version or "unknown", "BaseVector": v.cvss.vector, "Source": v.cvss.source or v.data_source or "hullscan"} -%}
    {%- if v.cvss.score is not none -%}{% do cvss.update({"BaseScore": v.cvss.score}) %}{%- endif -%}
    {%- do vuln.update({"Cvss": [cvss]}) -%}
  {%- endif -%}
  {%- set advice = ("Upgrade " ~ pkg.name ~ " to " ~ v.fixed_version) if v.fixed_version else ("No fixed version yet (status: " ~ v.status ~ ").") -%}
  {%- set recommendation = {"Text": advice | truncate(512, true, "…", 0)} -%}
  {%- if v.references -%}{% do recommendation.update({"Url": v.references[0]}) %}{%- endif -%}
  {%- set fields = {"Product Name": "hullscan", "hullscan/status": v.status} -%}
  {%- if v.layer -%}{% do fields.update({"hullscan/layer": v.layer.index | string}) %}{%- endif -%}
  {%- if v.risk is defined -%}{% do fields.update({"hullscan/risk": v.risk.score | string}) %}{%- endif -%}
  {%- do entries.append({
      "key": [image, "vulnerability", v.id, pkg.purl or pkg.name, pkg.version, pkg.paths[0] if pkg.paths else ""] | join("|"),
      "generator": "hullscan/vulnerability",
      "types": ["Software and Configuration Checks/Vulnerabilities" ~ ("/CVE" if v.id.startswith("CVE-") else "")],
      "severity": v.severity, "title": v.id ~ " in " ~ pkg.name ~ " " ~ pkg.version, "description": about | join(" "),
      "extra": {"Vulnerabilities": [vuln], "Remediation": {"Recommendation": recommendation}, "ProductFields": fields}}) -%}
{%- endfor -%}
{%- for s in secrets + misconfigurations -%}
  {%- set is_secret = s["class"] == "secret" -%}
  {%- set where = s.path ~ (":" ~ s.line.start if s.line.start else "") -%}
  {%- set about = [s.title ~ " at " ~ where ~ "."] -%}
  {%- if s.message is defined and s.message -%}{% do about.append(s.message ~ ".") %}{%- endif -%}
  {%- if s.match -%}{% do about.append("Match (masked): " ~ s.match ~ ".") %}{%- endif -%}
  {%- if s.layer -%}{% do about.append("In " ~ layer_text(s.layer) ~ (", deleted in layer " ~ s.removed_in.index if s.removed_in else "") ~ ".") %}{%- endif -%}
  {%- set fields = {"Product Name": "hullscan", "hullscan/rule": s.rule_id} -%}
  {%- if s.layer -%}{% do fields.update({"hullscan/layer": s.layer.index | string}) %}{%- endif -%}
  {%- do entries.append({
      "key": [image, s["class"], s.rule_id, s.path, s.line.start, s.fingerprint] | join("|"),
      "generator": "hullscan/" ~ s["class"] ~ "/" ~ s.rule_id,
      "types": ["Sensitive Data Identifications/Passwords"] if is_secret else ["Software and Configuration Checks"],
      "severity": s.severity, "title": s.title ~ " (" ~ where ~ ")", "description": about | join(" "),
      "extra": {"ProductFields": fields}}) -%}
{%- endfor -%}
{#- the fields every finding carries; its types and severity also go to FindingProviderFields -#}
{%- set findings = [] -%}
{%- for e in entries -%}
  {%- set sev = {"Label": labels.get(e.severity, "INFORMATIONAL"), "Original": e.severity} -%}
  {%- set item = {"SchemaVersion": "2018-10-08", "Id": "hullscan/" ~ (e.key | uuid5), "ProductArn": product_arn,
                  "GeneratorId": e.generator, "AwsAccountId": account, "Types": e.types, "CreatedAt": created_at,
                  "UpdatedAt": created_at, "Severity": sev, "FindingProviderFields": {"Severity": sev, "Types": e.types},
                  "Title": e.title | truncate(256, true, "…", 0), "Description": e.description | truncate(1024, true, "…", 0),
                  "Resources": resources, "RecordState": "ACTIVE"} -%}
  {%- do item.update(e.extra) -%}
  {%- do findings.append(item) -%}
{%- endfor -%}
{{ {"Findings": findings} | tojson(2) }}
