"""Generic rules (issue 27): a key that names a credential *as an assignment* and a value that looks
like one; plain-text credentials in config files; truncated PEM examples. Every value here is
fabricated; each expectation was worked out by hand from the rule text in rules.yaml."""

from __future__ import annotations

import base64

import pytest

from hullscan.secrets import default_ruleset, scan_bytes
from hullscan.secrets.engine import der_truncated, path_allowed
from testsupport import require_module

TOKEN = "Zq7Lm2Vx9Kd4Rt6Bn1Wp8Hs3"  # 24 chars, mixed case and digits: fabricated


def _found(path: str, text: str) -> list[tuple[str, int]]:
    return [(f.rule_id, f.start_line) for f in scan_bytes(path, text.encode())]


# ------------------------------------------------------------------ the key names the credential
@pytest.mark.parametrize("line", [
    # cfn-lint's provider schemas: a CloudFormation resource-type name mapped to a content hash
    '"AWS::ApiGateway::ApiKey": "b899a0d240b53d9d",',
    '"AWS::SecretsManager::Secret": "f6b785ff8e74d121",',
    f'"AWS::ApiGateway::ApiKey": "{TOKEN}",',  # whatever the value: the key is a type name
    # the key's last word says it is not the credential: a reference, a name, a header, a file, a URL
    '"secret_ref": "V1LocalObjectReference",',
    '"node_publish_secret_ref": "V1LocalObjectReference",',
    f'api_key_header = "X-Api-Key-{TOKEN}"',
    f'secret_name = "db-{TOKEN}"',
    f'password_file = "run{TOKEN}"',
    f'token_type = "{TOKEN}"',
    f'access_key_id = "{TOKEN}"',
])
@pytest.mark.parametrize("path", ["/srv/app/schema.json", "/srv/app/models.py"])
def test_not_a_credential_key(line: str, path: str) -> None:
    assert _found(path, "{\n" + line + "\n}\n") == []


@pytest.mark.parametrize("line", [
    f'"ApiKey": "{TOKEN}",',
    f'api_key = "{TOKEN}"',
    f'self.api_key = "{TOKEN}"',
    f'config.ApiGateway.ApiKey = "{TOKEN}"',
    f'"client_secret": "{TOKEN}",',
    f'STRIPE_API_KEY_PROD = "{TOKEN}"',
    f'refresh_token: str = "{TOKEN}"',
])
def test_credential_assignments_still_found(line: str) -> None:
    found = _found("/srv/app/settings.py", "{\n" + line + "\n}\n")
    assert [ln for _r, ln in found] == [2], found
    assert found[0][0].startswith("generic-")


@pytest.mark.parametrize("value", [
    "P@55w0rd!",          # `password` spelled with digits and symbols
    "s3cr3t-Val-2024",
    "2kjshdfp92i34asdasd",  # typed by hand (keyboard row)
    "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",  # a counting run, not a draw
    "Qwerty12345678",
])
def test_hand_typed_values_are_not_secrets(value: str) -> None:
    assert _found("/srv/app/settings.py", f'password = "{value}"\ntoken = "{value}"\n') == []


# ------------------------------------------------------------------ config files: plain text to the end of the line
INI = "[database]\nhost = db.acme.internal\nuser = app\npassword = {value}\n"


@pytest.mark.parametrize("path", [
    "/etc/acme/app.ini", "/etc/acme/app.cfg", "/etc/acme/app.conf", "/etc/mysql/my.cnf",
    "/opt/app/application.properties", "/app/.env", "/app/.env.production", "/app/config/prod.env",
    "/app/pyproject.toml", "/app/config.yaml", "/app/config.yml",
])
@pytest.mark.parametrize("value", [
    "v8k2ww0tdrxfbv37",             # pwgen: lower case and digits only
    "3f9c1e7ab2d45e60c8a1",         # openssl rand -hex 10
    "Xk9m$Pq2vL8nR",                # `$` inside (not a `$VAR` reference)
    "'h7Gt!e2$Wq9z'",               # quoted
    "Rb4nT8xq2LmZ # rotated 2024",  # an inline comment after it
])
def test_ini_password_found(path: str, value: str) -> None:
    sep = ": " if path.endswith((".yaml", ".yml")) else " = "
    text = INI.format(value=value).replace("password = ", "password" + sep)
    found = _found(path, text)
    assert [ln for _r, ln in found] == [4], found


@pytest.mark.parametrize("key", ["secret", "api_key", "token", "client_secret", "SECRET_KEY"])
def test_ini_other_credentials_found(key: str) -> None:
    assert [ln for _r, ln in _found("/etc/acme/app.ini", f"[api]\n{key} = k3j4h5g6f7d8s9a0\n")] == [2]


@pytest.mark.parametrize("value", [
    "${DB_PASSWORD}", "$DB_PASSWORD", "%(db_password)s", "{{ db_password }}", "<db password>",
    "changeme2024", "P@55w0rd!", "correcthorsebattery",  # no digit: a word, not a draw
    "1234567890123", "/run/secrets/db_password", "mysql-native-password",
])
def test_ini_placeholders_not_found(value: str) -> None:
    assert _found("/etc/acme/app.ini", INI.format(value=value)) == []


def test_unquoted_value_in_source_code_is_an_expression() -> None:
    assert _found("/srv/app/settings.py", "password = v8k2ww0tdrxfbv37\n") == []


def test_config_rule_needs_the_key_as_an_assignment() -> None:
    text = "[api]\ndescription = the token v8k2ww0tdrxfbv37 is rotated\nkey.token.lifetime = 3600s\n"
    assert _found("/etc/acme/app.ini", text) == []


# ------------------------------------------------------------------ private keys: elided examples
def test_der_truncated_by_hand() -> None:
    # 0x30 0x82 0x04 0xa5: a SEQUENCE promising 0x04a5 = 1,189 bytes after its 4 header bytes
    head = base64.b64encode(bytes([0x30, 0x82, 0x04, 0xA5, 0x02, 0x01])).decode()
    assert head == "MIIEpQIB"
    assert der_truncated((head + "A" * 56).encode())  # 64 chars = 48 bytes < 1,193
    assert not der_truncated((head + "A" * 1584).encode())  # 1,592 chars = 1,194 bytes
    # short form: 0x30 0x0a promises 12 bytes in all
    assert der_truncated(base64.b64encode(bytes([0x30, 0x0A, *range(7)])))
    assert not der_truncated(base64.b64encode(bytes([0x30, 0x0A, *range(10)])))
    assert not der_truncated(b"b3BlbnNzaC1rZXktdjEAAAAA")  # OpenSSH armour is not DER: left alone
    assert not der_truncated(b"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00")


def test_truncated_pem_example_not_reported_complete_key_is() -> None:
    serialization = require_module("cryptography.hazmat.primitives.serialization")
    rsa = require_module("cryptography.hazmat.primitives.asymmetric.rsa")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    body = pem.split("\n")[1]  # the first 64 characters of the body
    doc = (f":param private_key: e.g. `-----BEGIN RSA PRIVATE KEY-----{body}\\\\n.-----END RSA PRIVATE KEY-----`\n"
           f"For example, `-----BEGIN RSA PRIVATE KEY----- {body[:36]}... -----END RSA PRIVATE KEY-----`\n")
    assert _found("/srv/app/credential.py", doc) == []
    assert _found("/srv/app/server.key", pem) == [("private-key", 2)]
    escaped = '{"private_key": "' + pem.replace("\n", "\\n") + '"}\n'
    assert _found("/srv/app/sa.json", escaped) == [("private-key", 1)]


# ------------------------------------------------------------------ declarations
@pytest.mark.parametrize(("path", "skipped"), [
    ("/app/node_modules/aws-sdk/clients/datasync.d.ts", True),
    ("/app/node_modules/x/index.d.mts", True),
    ("/usr/lib/python3/dist-packages/x/__init__.pyi", True),
    ("/app/node_modules/x/index.ts", False),
    ("/app/node_modules/x/index.js", False),
])
def test_type_declarations_skipped(path: str, skipped: bool) -> None:
    assert path_allowed(default_ruleset(), path) is skipped
