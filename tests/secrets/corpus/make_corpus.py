"""Writes the labelled secret corpus (run once; its output is committed and reviewed).

Every positive value is FABRICATED with a seeded RNG so that it follows the vendor's published
token format (prefix, length, alphabet, separators) — none is a real credential. The labels
(`labels.json`) come from this file's format table, not from the scanner: each entry says which
file/line holds which kind (category) of credential, in which layer, and which layer deletes it.
Near-miss negatives (documented examples, placeholders, variable references, public keys, hashes,
UUIDs…) live in the same image and must produce nothing.

    python tests/secrets/corpus/make_corpus.py   # rewrites tests/secrets/corpus/{layers,config.json,labels.json}
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import string
from pathlib import Path

HERE = Path(os.environ.get("CORPUS_OUT", Path(__file__).resolve().parent))
R = random.Random(int(os.environ.get("CORPUS_SEED", "20261128")))
UP, LO, DI = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UP + LO + DI
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"
HEX = "0123456789abcdef"
B32L = LO + "234567"


def rnd(chars: str, n: int) -> str:
    # keep at least one digit and one letter where the alphabet has both (real tokens virtually always do)
    while True:
        s = "".join(R.choice(chars) for _ in range(n))
        if not (set(chars) & set(DI)) or any(c.isdigit() for c in s):
            if not (set(chars) & set(LO + UP)) or any(c.isalpha() for c in s):
                return s


def b64(n: int) -> str:
    return base64.b64encode(bytes(R.randrange(256) for _ in range(n))).decode()


def uuid() -> str:
    return f"{rnd(HEX, 8)}-{rnd(HEX, 4)}-4{rnd(HEX, 3)}-a{rnd(HEX, 3)}-{rnd(HEX, 12)}"


def pem_body(nbytes: int) -> str:
    raw = base64.b64encode(bytes(R.randrange(256) for _ in range(nbytes))).decode()
    return "\n".join(raw[i : i + 64] for i in range(0, len(raw), 64))


def jwt() -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    head = part({"alg": "HS256", "typ": "JWT"})
    body = part({"sub": rnd(DI, 10), "name": "svc-" + rnd(LO, 6), "iat": 1700000000 + R.randrange(10**6)})
    sig = base64.urlsafe_b64encode(bytes(R.randrange(256) for _ in range(32))).decode().rstrip("=")
    return f"{head}.{body}.{sig}"


# ----------------------------------------------------------------------------------------------
# The image: files per layer. Each file is a list of lines; a line may carry a label
# (category) as a tuple (text, category). `None` content = whiteout (delete) in that layer.
LAYERS: list[dict[str, object]] = [{}, {}, {}, {}]
LABELS: list[dict[str, object]] = []


def put(layer: int, path: str, lines: list) -> None:
    LAYERS[layer][path] = lines


def delete(layer: int, path: str) -> None:
    LAYERS[layer][path] = None


aws_id = "AKIA" + rnd(UP + "234567", 16)
aws_secret = rnd(B64, 40)
session = "IQoJb3JpZ2luX2VjE" + rnd(B64, 380)
put(1, "/root/.aws/credentials", [
    "[default]",
    (f"aws_access_key_id = {aws_id}", "AWS"),
    (f"aws_secret_access_key = {aws_secret}", "AWS"),
    (f"aws_session_token = {session}", "AWS"),
    "region = eu-west-1",
])
delete(2, "/root/.aws")  # the classic mistake: removed in a later layer, still in the image

sa_key = pem_body(1190)
put(1, "/srv/gcp/sa.json", [
    "{",
    '  "type": "service_account",',
    '  "project_id": "acme-prod-314159",',
    (f'  "private_key_id": "{rnd(HEX, 40)}",', "GoogleCloud"),
    ('  "private_key": "-----BEGIN PRIVATE KEY-----\\n' + sa_key.replace("\n", "\\n") + '\\n-----END PRIVATE KEY-----\\n",',
     "AsymmetricPrivateKey"),
    '  "client_email": "deployer@acme-prod-314159.iam.gserviceaccount.com"',
    "}",
])

put(1, "/app/config/cloud.env", [
    "# cloud credentials",
    (f"GOOGLE_API_KEY=AIza{rnd(URLSAFE, 35)}", "GoogleCloud"),
    (f"GOOGLE_CLIENT_SECRET=GOCSPX-{rnd(URLSAFE, 28)}", "GoogleCloud"),
    (f"GCLOUD_ACCESS=ya29.a0{rnd(URLSAFE, 120)}", "GoogleCloud"),
    (f"MWS_AUTH_TOKEN=amzn.mws.{uuid()}", "AWS"),
    (f"STORAGE=DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey={rnd(B64, 86)}==;EndpointSuffix=core.windows.net", "Azure"),
    ("SERVICEBUS=Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
     f"SharedAccessKey={rnd(B64, 43)}=", "Azure"),
    ("BLOB_URL=https://acmestore.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=o&sp=r&se=2027-01-01T00:00:00Z"
     f"&sig={rnd(ALNUM, 40)}%2B{rnd(ALNUM, 3)}%3D", "Azure"),
    (f"AZURE_DEVOPS_PAT={rnd(B32L, 52)}", "Azure"),
    (f"ADO_TOKEN_NEW={rnd(ALNUM, 52)}JQQJ99{rnd(ALNUM, 18)}AZDO{rnd(ALNUM, 4)}", "Azure"),
    (f"COGNITIVE_KEY={rnd(ALNUM, 52)}JQQJ99{rnd(ALNUM, 18)}ACOG{rnd(ALNUM, 4)}", "Azure"),
    (f"ACR_TOKEN={rnd(ALNUM, 52)}JQQJ99{rnd(ALNUM, 18)}AZCR{rnd(ALNUM, 4)}", "Azure"),
    (f"AZURE_CLIENT_SECRET={rnd(ALNUM, 3)}7Q~{rnd(ALNUM + '_~.-', 34)}", "Azure"),
    (f"APPCONFIG=Endpoint=https://acme-cfg.azconfig.io;Id={rnd(ALNUM, 4)}-l0-s0:{rnd(ALNUM, 20)};Secret={rnd(B64, 43)}=", "Azure"),
    (f"ALIBABA_ACCESS_KEY_ID=LTAI{rnd(ALNUM, 20)}", "Alibaba"),
    (f"DIGITALOCEAN_TOKEN=dop_v1_{rnd(HEX, 64)}", "DigitalOcean"),
    (f"HEROKU_API_KEY={uuid()}", "Heroku"),
    (f"HEROKU_TOKEN_V2=HRKU-{rnd(URLSAFE, 60)}", "Heroku"),
    (f"DATABRICKS_TOKEN=dapi{rnd(HEX, 32)}", "Databricks"),
    (f"DD_API_KEY={rnd(HEX, 32)}", "Datadog"),
    (f"DD_APP_KEY={rnd(HEX, 40)}", "Datadog"),
    (f"NEW_RELIC_API_KEY=NRAK-{rnd(UP + DI, 27)}", "NewRelic"),
    (f"NEW_RELIC_INSERT_KEY=NRII-{rnd(URLSAFE, 32)}", "NewRelic"),
    (f"NEW_RELIC_LICENSE_KEY={rnd(HEX, 36)}NRAL", "NewRelic"),
    "REGION=eu-west-1",
])
put(1, "/app/.docker/acr-login.sh", [
    "#!/bin/sh",
    (f"docker login acme.azurecr.io -u acme -p {rnd(B64, 32)}", "Azure"),
])

# GitHub / GitLab / Atlassian in CI helper files; one deleted later
put(1, "/app/ci/tokens.sh", [
    "#!/bin/sh",
    (f"export GH_TOKEN=ghp_{rnd(ALNUM, 36)}", "GitHub"),
    (f"export GH_OAUTH=gho_{rnd(ALNUM, 36)}", "GitHub"),
    (f"export GH_APP_USER=ghu_{rnd(ALNUM, 36)}", "GitHub"),
    (f"export GH_APP_INSTALL=ghs_{rnd(ALNUM, 36)}", "GitHub"),
    (f"export GH_REFRESH=ghr_{rnd(ALNUM, 76)}", "GitHub"),
    (f"export GH_FINE=github_pat_{rnd(ALNUM, 22)}_{rnd(ALNUM, 59)}", "GitHub"),
    (f"export GITLAB_TOKEN=glpat-{rnd(URLSAFE, 20)}", "GitLab"),
    (f"export GL_TRIGGER=glptt-{rnd(HEX, 40)}", "GitLab"),
    (f"export RUNNER_TOKEN=glrt-{rnd(URLSAFE, 20)}", "GitLab"),
    (f"export RUNNER_REG=GR1348941{rnd(URLSAFE, 20)}", "GitLab"),
    (f"export GL_DEPLOY=gldt-{rnd(URLSAFE, 20)}", "GitLab"),
    (f"export GL_OAUTH_SECRET=gloas-{rnd(HEX, 64)}", "GitLab"),
    (f"export GL_FEED=glft-{rnd(URLSAFE, 20)}", "GitLab"),
    (f"export BB_APP_PASSWORD=ATBB{rnd(ALNUM, 32)}", "Bitbucket"),
    (f"export BB_REPO_TOKEN=ATCTT3xFfGN0{rnd(URLSAFE, 180)}=ABCD1234", "Bitbucket"),
    (f"export BITBUCKET_CLIENT_SECRET={rnd(ALNUM, 32)}", "Bitbucket"),
    (f"export ATLASSIAN_TOKEN=ATATT3xFfGF0{rnd(URLSAFE, 180)}=1A2B3C4D", "Atlassian"),
    (f"export JIRA_API_TOKEN={rnd(ALNUM, 24)}", "Atlassian"),
])
delete(3, "/app/ci/tokens.sh")

put(2, "/app/notify/chat.yaml", [
    "slack:",
    (f"  bot_token: xoxb-{rnd(DI, 12)}-{rnd(DI, 13)}-{rnd(ALNUM, 24)}", "Slack"),
    (f"  user_token: xoxp-{rnd(DI, 12)}-{rnd(DI, 12)}-{rnd(DI, 13)}-{rnd(HEX, 32)}", "Slack"),
    (f"  app_token: xapp-1-A{rnd(UP + DI, 10)}-{rnd(DI, 13)}-{rnd(HEX, 64)}", "Slack"),
    (f"  config_token: xoxe.xoxp-1-{rnd(UP + DI, 163)}", "Slack"),
    (f"  webhook: https://hooks.slack.com/services/T{rnd(UP + DI, 8)}/B{rnd(UP + DI, 10)}/{rnd(ALNUM, 24)}", "Slack"),
    "discord:",
    (f"  bot_token: M{rnd(ALNUM, 25)}.{rnd(URLSAFE, 6)}.{rnd(URLSAFE, 38)}", "Discord"),
    (f"  webhook: https://discord.com/api/webhooks/{rnd(DI, 19)}/{rnd(URLSAFE, 68)}", "Discord"),
    "telegram:",
    (f"  bot: {R.randrange(10**8, 10**9)}:AA{rnd(URLSAFE, 33)}", "Telegram"),
    "twilio:",
    (f"  twilio_api_key: SK{rnd(HEX, 32)}", "Twilio"),
    (f"  twilio_auth_token: {rnd(HEX, 32)}", "Twilio"),
    "mail:",
    (f"  sendgrid: SG.{rnd(URLSAFE, 22)}.{rnd(URLSAFE, 43)}", "SendGrid"),
    (f"  mailgun_legacy: key-{rnd(HEX, 32)}", "Mailgun"),
    (f"  mailgun_api_key: {rnd(HEX, 32)}-{rnd(HEX, 8)}-{rnd(HEX, 8)}", "Mailgun"),
    (f"  mailchimp: {rnd(HEX, 32)}-us14", "Mailchimp"),
    (f"  mandrill_api_key: md-{rnd(URLSAFE, 22)}", "Mailchimp"),
])

put(2, "/app/payments/keys.py", [
    '"""Payment provider settings."""',
    (f'STRIPE_KEY = "sk_live_{rnd(ALNUM, 99)}"', "Stripe"),
    (f'STRIPE_TEST_KEY = "sk_test_{rnd(ALNUM, 24)}"', "Stripe"),
    (f'STRIPE_PUBLISHABLE = "pk_live_{rnd(ALNUM, 24)}"', "Stripe"),
    (f'STRIPE_WEBHOOK = "whsec_{rnd(ALNUM, 32)}"', "Stripe"),
    (f'SQUARE_TOKEN = "EAAA{rnd(URLSAFE, 60)}"', "Square"),
    (f'SQUARE_APP_SECRET = "sq0csp-{rnd(URLSAFE, 43)}"', "Square"),
    (f'BRAINTREE = "access_token$production${rnd(LO + DI, 16)}${rnd(HEX, 32)}"', "PayPal"),
    (f'PAYPAL_CLIENT_SECRET = "E{rnd(URLSAFE, 79)}"', "PayPal"),
    (f'FLUTTERWAVE = "FLWSECK-{rnd("abcdefgh0123456789", 32)}-X"', "Flutterwave"),
    (f'SHIPPO = "shippo_live_{rnd(HEX, 40)}"', "Shippo"),
    (f'SHOPIFY_TOKEN = "shpat_{rnd(HEX, 32)}"', "Shopify"),
    (f'SHOPIFY_SECRET = "shpss_{rnd(HEX, 32)}"', "Shopify"),
    (f'POSTMAN = "PMAK-{rnd(HEX, 24)}-{rnd(HEX, 34)}"', "Postman"),
])
# replaced in layer 3 by a clean version: the secret version is still in layer 2
put(3, "/app/payments/keys.py", [
    '"""Payment provider settings."""',
    'import os',
    'STRIPE_KEY = os.environ["STRIPE_KEY"]',
])

put(2, "/app/ml/settings.toml", [
    "[providers]",
    (f'huggingface = "hf_{rnd(LO + UP, 34)}"', "HuggingFace"),
    (f'huggingface_org = "api_org_{rnd(LO + UP, 34)}"', "HuggingFace"),
    (f'openai_project = "sk-proj-{rnd(URLSAFE, 74)}T3BlbkFJ{rnd(URLSAFE, 74)}"', "OpenAI"),
    (f'openai_svc = "sk-svcacct-{rnd(URLSAFE, 74)}T3BlbkFJ{rnd(URLSAFE, 74)}"', "OpenAI"),
    (f'openai_admin = "sk-admin-{rnd(URLSAFE, 74)}T3BlbkFJ{rnd(URLSAFE, 74)}"', "OpenAI"),
    (f'openai_legacy = "sk-{rnd(ALNUM, 20)}T3BlbkFJ{rnd(ALNUM, 20)}"', "OpenAI"),
    (f'openai_service = "sk-batch-runner-{rnd(ALNUM, 20)}T3BlbkFJ{rnd(ALNUM, 20)}"', "OpenAI"),
    (f'openai_realtime = "ek_{rnd(ALNUM, 32)}"', "OpenAI"),
    (f'anthropic = "sk-ant-api03-{rnd(URLSAFE, 93)}AA"', "Anthropic"),
    (f'anthropic_admin = "sk-ant-admin01-{rnd(URLSAFE, 93)}AA"', "Anthropic"),
    (f'sentry_org = "sntrys_eyJ{rnd(ALNUM, 120)}"', "Sentry"),
    (f'sentry_user = "sntryu_{rnd(HEX, 64)}"', "Sentry"),
    (f'grafana_legacy = "eyJrIjoi{rnd(ALNUM, 92)}"', "Grafana"),
    (f'grafana_cloud = "glc_{rnd(ALNUM, 120)}="', "Grafana"),
    (f'grafana_sa = "glsa_{rnd(ALNUM, 32)}_{rnd(HEX, 8)}"', "Grafana"),
    (f'vault = "hvs.{rnd(URLSAFE, 90)}"', "HashiCorp"),
    (f'terraform = "{rnd(ALNUM, 14)}.atlasv1.{rnd(URLSAFE, 67)}"', "HashiCorp"),
    (f'doppler = "dp.pt.{rnd(ALNUM, 43)}"', "Doppler"),
    (f'pulumi = "pul-{rnd(HEX, 40)}"', "Pulumi"),
    (f'linear = "lin_api_{rnd(ALNUM, 40)}"', "Linear"),
    (f'dynatrace = "dt0c01.{rnd(UP + DI, 24)}.{rnd(UP + DI, 64)}"', "Dynatrace"),
    (f'planetscale = "pscale_tkn_{rnd(URLSAFE, 43)}"', "PlanetScale"),
    (f'supabase = "sbp_{rnd(HEX, 40)}"', "Supabase"),
    (f'mapbox = "sk.eyJ{rnd(URLSAFE, 60)}.{rnd(URLSAFE, 22)}"', "Mapbox"),
    (f'facebook = "EAAB{rnd(ALNUM, 160)}"', "Facebook"),
    (f'twitter = "AAAAAAAAAAAAAAAAAAAAA{rnd(ALNUM, 30)}%3D{rnd(ALNUM, 50)}"', "Twitter"),
    (f'jfrog_api_key = "AKC{rnd(ALNUM, 70)}"', "JFrog"),
    (f'session_jwt = "{jwt()}"', "JWT"),
])

# package registries
put(1, "/root/.npmrc", [
    "registry=https://registry.npmjs.org/",
    (f"//registry.npmjs.org/:_authToken=npm_{rnd(ALNUM, 36)}", "npm"),
    (f"//npm.acme.internal/:_auth={base64.b64encode(('ci:' + rnd(ALNUM, 18)).encode()).decode()}", "npm"),
])
delete(2, "/root/.npmrc")
put(1, "/root/.pypirc", [
    "[distutils]",
    "index-servers = pypi internal",
    "[pypi]",
    "username = __token__",
    (f"password = pypi-AgEIcHlwaS5vcmc{rnd(URLSAFE, 150)}", "PyPI"),
    "[internal]",
    "username = deploy",
    (f"password = {rnd(ALNUM, 10)}!{rnd(DI, 3)}", "PyPI"),
])
put(1, "/root/.netrc", [
    (f"machine api.acme.io login deploy password {rnd(ALNUM, 20)}", "Credentials"),
])
put(2, "/root/.kube/config", [
    "apiVersion: v1",
    "kind: Config",
    "users:",
    "- name: admin",
    "  user:",
    "    client-certificate-data: " + base64.b64encode(
        b"-----BEGIN CERTIFICATE-----\n" + pem_body(600).encode() + b"\n-----END CERTIFICATE-----\n").decode(),
    ("    client-key-data: " + base64.b64encode(
        b"-----BEGIN EC PRIVATE KEY-----\n" + pem_body(121).encode() + b"\n-----END EC PRIVATE KEY-----\n").decode(),
     "AsymmetricPrivateKey"),
])
put(2, "/root/.gem/credentials", [
    "---",
    (f":rubygems_api_key: rubygems_{rnd(HEX, 48)}", "RubyGems"),
])
put(2, "/app/composer-auth.env", [
    (f"COMPOSER_TOKEN=packagist_uut_{rnd(ALNUM, 68)}", "PrivatePackagist"),
    (f"CLOJARS_TOKEN=CLOJARS_{rnd(LO + DI, 60)}", "Clojars"),
    (f"DOCKERHUB_TOKEN=dckr_pat_{rnd(URLSAFE, 27)}", "Docker"),
])
put(1, "/root/.docker/config.json", [
    "{",
    '  "auths": {',
    '    "registry.acme.io": {',
    (f'      "auth": "{base64.b64encode(("robot:" + rnd(ALNUM, 24)).encode()).decode()}"', "Docker"),
    "    }",
    "  }",
    "}",
])
put(2, "/app/k8s/pull-secret.yaml", [
    "apiVersion: v1",
    "kind: Secret",
    "type: kubernetes.io/dockerconfigjson",
    "data:",
    (f"  .dockerconfigjson: {b64(90)}", "Docker"),
])
put(1, "/root/.m2/settings.xml", [
    "<settings>",
    "  <servers><server><id>acme</id><username>deploy</username>",
    (f"    <password>{rnd(ALNUM, 14)}</password>", "Maven"),
    (f"    <passphrase>{rnd(ALNUM, 18)}</passphrase>", "Maven"),
    "  </server></servers>",
    "</settings>",
])
put(1, "/root/.m2/settings-security.xml", [
    "<settingsSecurity>",
    (f"  <master>{rnd(ALNUM, 16)}</master>", "Maven"),
    "</settingsSecurity>",
])
put(2, "/app/notify/postmark.env", [
    (f"POSTMARK_SERVER_TOKEN={uuid()}", "Postmark"),
])
# a minified one-line bundle (~1.5 MB) with a key in the middle: bounded work on huge lines
put(3, "/app/static/bundle.min.js", [
    ("".join(f"var a{i}=function(b){{return b*{i}}};" for i in range(12000))
     + f'window.STRIPE="pk_live_{rnd(ALNUM, 34)}";'
     + "".join(f"var c{i}=function(d){{return d+{i}}};" for i in range(8000)), "Stripe"),
])
put(2, "/app/symfony/.env", [
    "APP_ENV=prod",
    ("APP_SECRET=ThisTokenIsNotSoSecretChangeIt", "Symfony"),
])

# private keys (bodies are random bytes in PEM armour: right format, no real key)
put(1, "/root/.ssh/id_rsa", [
    "-----BEGIN RSA PRIVATE KEY-----",
    *[(ln, "AsymmetricPrivateKey") if i == 0 else ln for i, ln in enumerate(pem_body(1190).split("\n"))],
    "-----END RSA PRIVATE KEY-----",
])
delete(2, "/root/.ssh/id_rsa")
put(1, "/root/.ssh/id_ed25519", [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    *[(ln, "AsymmetricPrivateKey") if i == 0 else ln for i, ln in enumerate(pem_body(300).split("\n"))],
    "-----END OPENSSH PRIVATE KEY-----",
])
put(2, "/etc/ssl/private/server.key", [
    "-----BEGIN EC PRIVATE KEY-----",
    *[(ln, "AsymmetricPrivateKey") if i == 0 else ln for i, ln in enumerate(pem_body(121).split("\n"))],
    "-----END EC PRIVATE KEY-----",
])
put(2, "/etc/ssl/private/app.pk8", [
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    *[(ln, "AsymmetricPrivateKey") if i == 0 else ln for i, ln in enumerate(pem_body(1300).split("\n"))],
    "-----END ENCRYPTED PRIVATE KEY-----",
])
put(3, "/app/signing/release.asc", [
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "",
    *[(ln, "AsymmetricPrivateKey") if i == 0 else ln for i, ln in enumerate(pem_body(900).split("\n"))],
    "=" + rnd(ALNUM, 4),
    "-----END PGP PRIVATE KEY BLOCK-----",
])
put(3, "/app/signing/deploy.ppk", [
    "PuTTY-User-Key-File-3: ssh-ed25519",
    "Encryption: none",
    "Comment: deploy@acme",
    "Public-Lines: 2",
    *pem_body(60).split("\n"),
    "Private-Lines: 1",
    (pem_body(48), "AsymmetricPrivateKey"),
    f"Private-MAC: {rnd(HEX, 64)}",
])
put(3, "/app/signing/age.key", [
    "# created: 2026-11-28T10:00:00Z",
    "# public key: age1" + rnd("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58),
    ("AGE-SECRET-KEY-1" + rnd("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58), "AsymmetricPrivateKey"),
])

# connection URLs and generic assignments
put(3, "/app/config/database.yml", [
    "production:",
    (f"  url: postgres://app:{rnd(ALNUM, 16)}@db.acme.internal:5432/app", "Database"),
    (f"  mongo: mongodb+srv://svc:{rnd(ALNUM, 20)}@cluster0.ab1cd.mongodb.net/prod", "Database"),
    (f"  mysql: mysql://root:{rnd(ALNUM, 12)}@10.0.0.5:3306/shop", "Database"),
    (f"  jdbc: jdbc:postgresql://report:{rnd(ALNUM, 14)}@reports.acme.internal/reports", "Database"),
    (f"  cache: redis://:{rnd(ALNUM, 24)}@cache.acme.internal:6379/0", "Database"),
    (f"  broker: amqp://worker:{rnd(ALNUM, 18)}@rabbit.acme.internal:5672/vhost", "Database"),
    (f"  mirror: https://deploy:{rnd(ALNUM, 16)}@git.acme-corp.com/platform/app.git", "Credentials"),
])
put(3, "/app/config/app_settings.py", [
    "import os",
    (f'DB_PASSWORD = "{rnd(ALNUM, 6)}#{rnd(DI, 2)}{rnd(UP, 3)}"', "Generic"),
    (f'SECRET_KEY = "{rnd(ALNUM + "!@#%^&*", 50)}"', "Generic"),
    (f'payment_api_key = "{rnd(HEX, 32)}"', "Generic"),
    (f'refresh_token: str = "{rnd(ALNUM, 40)}"', "Generic"),
])
put(3, "/app/config/runtime.env", [
    "# unquoted assignments in a config file",
    (f"DB_PASSWORD={rnd(ALNUM, 10)}!{rnd(DI, 3)}", "Generic"),
    (f"SESSION_SECRET={rnd(ALNUM, 48)}", "Generic"),
    (f"PAYMENT_API_KEY={rnd(HEX, 40)}", "Generic"),
    (f"SERVICE_TOKEN={rnd(URLSAFE, 32)}", "Generic"),
    "LOG_LEVEL=info",
])
put(3, "/app/bin/fetch-report.sh", [
    "#!/bin/sh",
    (f'curl -H "Authorization: Bearer {rnd(ALNUM, 40)}" https://api.acme.internal/report', "Generic"),
])

# ---------------------------------------------------------------------------------- negatives
NEG = [
    "# documented examples and placeholders (AWS docs, tutorials)",
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    'password = "changeme"',
    'DB_PASSWORD="${DB_PASSWORD}"',
    "export GITHUB_TOKEN=$GITHUB_TOKEN",
    "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}",
    'token: "{{ .Values.apiToken }}"',
    "api_key = os.environ['API_KEY']",
    "secret: <your-secret-here>",
    "GH_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "STRIPE_KEY=sk_live_XXXXXXXXXXXXXXXXXXXXXXXX",
    "SLACK_TOKEN=xoxb-your-token-here",
    "secret_key_base = Rails.application.credentials.secret_key_base",
    'private static final String TOKEN_HEADER = "X-Auth-Token";',
    'password_reset_url = "/accounts/password/reset/"',
    "DATABASE_URL=postgres://localhost:5432/app",
    "MONGO_URL=mongodb://app:<password>@mongo.acme.internal/app",
    "REDIS_URL=redis://:${REDIS_PASSWORD}@cache.acme.internal:6379/0",
    "GIT_URL=https://git@github.com/acme/app.git",
    "PROXY=http://user:password@proxy.acme.internal:3128",
    "sk-proj-abcdefghijklmnopqrstNOWATERMARKabcdefghijklmnopqrst",
    "tiny_jwt = eyJhbGciOiJub25lIn0.e30.",
    'session_token = "********************************"',
    "client_secret: REPLACE_WITH_CLIENT_SECRET",
    "password: hunter2",
    "# hashes and ids",
    f"sha256: {rnd(HEX, 64)}",
    f"commit {rnd(HEX, 40)}",
    f"md5sum={rnd(HEX, 32)}",
    f'integrity: "sha512-{b64(64)}"',
    f"request_id: {uuid()}",
    f"trace_id = '{uuid()}'",
    f"checksum_sha1 = '{rnd(HEX, 40)}'",
    f"etag: W/\"{rnd(HEX, 32)}\"",
    f"icon: data:image/png;base64,iVBORw0KGgo{b64(120)}",
    f"build_id={rnd(DI, 12)}",
    f"gpg fingerprint: {' '.join(rnd(HEX.upper(), 4) for _ in range(10))}",
]
put(0, "/opt/acme/near_miss.conf", NEG)
put(0, "/etc/ssh/ssh_host_ed25519_key.pub", ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rnd(B64, 43) + " root@buildkitsandbox"])
put(0, "/root/.ssh/authorized_keys", ["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ" + rnd(B64, 340) + " ops@acme"])
put(0, "/etc/ssl/certs/acme-root.pem", ["-----BEGIN CERTIFICATE-----", *pem_body(900).split("\n"), "-----END CERTIFICATE-----"])
put(0, "/opt/acme/signing.pub", ["-----BEGIN PUBLIC KEY-----", *pem_body(294).split("\n"), "-----END PUBLIC KEY-----"])
put(0, "/opt/acme/release-key.asc", ["-----BEGIN PGP PUBLIC KEY BLOCK-----", "", *pem_body(600).split("\n"),
                                     "-----END PGP PUBLIC KEY BLOCK-----"])
put(0, "/opt/acme/lib/util.js", [
    "function tokenize(s){return s.split(/\\s+/)}",
    "const passwordField = document.querySelector('#password');",
    "const apiKeyHeader = 'X-Api-Key';",
    "let token = getToken();",
    "export const SECRET_NAME = 'db-credentials';",
])

# ------------------------------------------------------------------------------- image config
history = [
    {"created_by": "/bin/sh -c #(nop) ADD file:5d6b639e8b6bcc011 in / ", "empty_layer": False},
    {"created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer": True},
    {"created_by": "ARG NPM_TOKEN", "empty_layer": True},
    {"created_by": f"RUN |1 NPM_TOKEN=npm_{rnd(ALNUM, 36)} /bin/sh -c npm ci # buildkit", "empty_layer": False},
    {"created_by": "ADD https://downloads.acme.internal/agent.tar.gz /opt/agent/ # buildkit", "empty_layer": False},
    {"created_by": f"ENV SENTRY_AUTH=sntryu_{rnd(HEX, 64)}", "empty_layer": True},
    {"created_by": "COPY . /app # buildkit", "empty_layer": False},
]
CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            f"GITHUB_TOKEN=ghp_{rnd(ALNUM, 36)}",
            "LANG=C.UTF-8",
            f"DATABASE_URL=postgresql://app:{rnd(ALNUM, 18)}@db.acme.internal:5432/app",
            "HOME=/root",
        ],
        "Labels": {
            "org.opencontainers.image.source": "https://github.com/acme/app",
            "com.acme.alerts": f"https://hooks.slack.com/services/T{rnd(UP + DI, 8)}/B{rnd(UP + DI, 10)}/{rnd(ALNUM, 24)}",
        },
        "Cmd": ["/app/run"],
    },
    "history": history,
    "rootfs": {"type": "layers", "diff_ids": []},
}
CONFIG_LABELS = [
    {"class": "secret", "path": "config:Env", "line": 2, "category": "GitHub", "source": "env", "layer": None},
    {"class": "secret", "path": "config:Env", "line": 4, "category": "Database", "source": "env", "layer": None},
    {"class": "secret", "path": "config:Labels", "line": 1, "category": "Slack", "source": "label", "layer": None},
    {"class": "secret", "path": "config:history[3]", "line": 1, "category": "npm", "source": "history", "layer": 1},
    {"class": "secret", "path": "config:history[5]", "line": 1, "category": "Sentry", "source": "history", "layer": None},
    {"class": "config", "path": "config:history[3]", "rule_id": "config-secret-build-arg", "layer": 1},
    {"class": "config", "path": "config:history[4]", "rule_id": "config-add-url", "layer": 2},
    {"class": "config", "path": "config:User", "rule_id": "config-user-root", "layer": None},
]


# ------------------------------------------------------ config-file assignments (issue 27), drawn last
# (after everything above, so the values drawn before stay the same). A drawn password in an INI
# `[database]` section: lower case and digits only (pwgen, `openssl rand -hex`), `$`/`!` inside.
put(3, "/etc/acme/app.ini", [
    "[database]",
    "host = db.acme.internal",
    "user = app",
    (f"password = {rnd(LO + DI, 16)}", "Generic"),
    "password_file = /run/secrets/db_password",
    "",
    "[api]",
    (f"token = '{rnd(ALNUM, 8)}${rnd(ALNUM, 8)}!{rnd(DI, 2)}'", "Generic"),
    "token_url = https://auth.acme.internal/oauth2/token",
    "api_key_header = X-Api-Key",
    "secret_name = db-credentials-2024",
    "password = ${DB_PASSWORD}",
    "password = %(db_password)s",
])
put(3, "/app/config/settings.toml", [
    "[cache]",
    (f'access_key = "{rnd(HEX, 40)}"', "Generic"),
    'secret_ref = "V1LocalObjectReference"',
    'password = "P@55w0rd!"',
])
# near misses from real packages (issue 27): a resource-type name mapped to a content hash
# (cfn-lint's provider schemas), a typed-by-hand example secret, a truncated PEM key in a docstring
# (its DER header promises 1,193 bytes; the body holds 48)
put(0, "/opt/acme/schemas/us-east-1.json", [
    "{",
    f' "AWS::ApiGateway::ApiKey": "{rnd(HEX, 16)}",',
    f' "AWS::SecretsManager::Secret": "{rnd(HEX, 16)}",',
    f' "AWS::IAM::AccessKey": "{rnd(HEX, 16)}"',
    "}",
])
put(0, "/opt/acme/lib/oauth_session.py", [
    '"""',
    "    >>> session.fetch_access_token(url)",
    "    {'oauth_token': 'sdf0o9823sjdfsdf', 'oauth_token_secret': '2kjshdfp92i34asdasd'}",
    '    update_token = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"',
    "    :param private_key: e.g. `-----BEGIN RSA PRIVATE KEY-----MIIEpQIBAAKCAQEA"
    + rnd(B64, 48) + "\\\\n.-----END RSA PRIVATE KEY-----`",
    '"""',
])


def main() -> None:
    out = HERE / "layers"
    shutil.rmtree(out, ignore_errors=True)
    whiteouts: dict[int, list[str]] = {}
    alive: dict[str, int] = {}  # path → layer that wrote it (for removed_in)
    pending: list[dict[str, object]] = []
    for index, files in enumerate(LAYERS):
        for path, lines in files.items():
            # anything under a deleted/replaced path loses its labels from now on
            for lab in pending:
                p = str(lab["path"])
                if lab["removed_in"] is None and (p == path or p.startswith(path.rstrip("/") + "/")):
                    lab["removed_in"] = index
            if lines is None:
                whiteouts.setdefault(index, []).append(path)
                continue
            text: list[str] = []
            for n, item in enumerate(lines, 1):
                if isinstance(item, tuple):
                    line, category = item
                    pending.append({"path": path, "line": n, "category": category, "layer": index, "removed_in": None})
                else:
                    line = item
                text.append(line)
            dest = out / str(index) / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text("\n".join(text) + "\n")
            alive[path] = index
    (HERE / "whiteouts.json").write_text(json.dumps({str(k): v for k, v in whiteouts.items()}, indent=1) + "\n")
    (HERE / "config.json").write_text(json.dumps(CONFIG, indent=1) + "\n")
    labels = {"files": sorted(pending, key=lambda d: (d["path"], d["line"])), "config": CONFIG_LABELS}
    (HERE / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    print(len(pending), "file labels,", len(CONFIG_LABELS), "config labels")


if __name__ == "__main__":
    main()
