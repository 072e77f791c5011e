"""The secret false-alarm corpus: real packages from the registries, installed once into
~/.cache/hullscan-tests/secret-fa-corpus-v1/ behind a file lock (other processes may build it at once).

- `pypi/`: `pip install --target` of popular PyPI distributions that talk to credentials all day
  (cfn-lint, moto, boto3/botocore, Django, requests, Flask, SQLAlchemy, Celery, redis, paramiko,
  ansible-core, google-auth, Azure Storage, kubernetes, docker, openai, stripe, twilio, slack_sdk,
  Authlib, PyJWT, oauthlib…) and their dependencies: every distribution pinned, installed `--no-deps`
  so the tree does not move when an index publishes something new.
- `npm/node_modules/`: `npm ci` of testdata/fa-corpus-npm (package.json + its lockfile: 30 popular
  packages such as express, aws-sdk, @aws-sdk/client-s3, stripe, twilio, mongoose, jest, webpack…,
  718 packages in all).

Bump the `-vN` suffix when the pins change (the cache is keyed by name only).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from testsupport import cached_build

NAME = "secret-fa-corpus-v1"
NPM_PROJECT = Path(__file__).resolve().parent / "testdata" / "fa-corpus-npm"
PYPI_PREFIX = "/usr/local/lib/python3.11/site-packages/"
NPM_PREFIX = "/app/"

# The 33 chosen distributions and what they pulled in (resolved once with pip, then pinned).
PYPI_PINS = """
aiohappyeyeballs==2.7.1 aiohttp-retry==2.9.1 aiohttp==3.14.5 aiosignal==1.4.0 amqp==5.4.2 annotated-doc==0.0.7
annotated-types==0.8.0 ansible-core==2.19.15 anyio==4.16.0 asgiref==3.13.0 attrs==26.1.0 Authlib==1.9.10
azure-core==1.41.0 azure-storage-blob==12.31.1 bcrypt==5.0.0 billiard==4.3.2 blinker==1.9.0 boto3==1.44.18
botocore==1.44.18 celery==5.7.0 certifi==2026.10.19.post1 cffi==2.1.1 cfn-lint==1.58.0 charset-normalizer==3.5.3
click-didyoumean==0.3.1 click-plugins==1.1.1.2 click-repl==0.4.1 click==8.5.1 cryptography==51.0.1
Django==5.2.20 docker==7.2.0 durationpy==0.12 fastapi==0.165.0 Flask==3.1.3 frozenlist==1.8.0
google-auth==2.63.1 h11==0.16.0 httpcore2==2.17.0 httpcore==1.0.9 httpx2==2.17.0 httpx==0.29.0 idna==3.21
iniconfig==2.3.1 invoke==3.0.3 isodate==0.7.2 itsdangerous==2.2.0 Jinja2==3.1.6 jiter==0.19.0 jmespath==1.1.0
joserfc==1.8.0 jsonpatch==1.48 jsonpointer==3.12 jsonschema-specifications==2025.9.1 jsonschema==4.26.0
kombu==5.7.0 kubernetes==37.0.3 MarkupSafe==3.0.4 moto==5.2.6 mpmath==1.3.0 multidict==7.2.1 networkx==3.6.1
oauthlib==4.0.1 openai==3.63.0 opentelemetry-api==1.45.3 packaging==26.4 paramiko==5.1.0 pip==26.3
pluggy==1.7.0 prompt_toolkit==3.0.53 propcache==0.5.4 psycopg2-binary==2.9.13 pyasn1==0.6.5
pyasn1_modules==0.4.2 pycparser==3.12 pydantic==2.14.4 pydantic_core==2.50.5 Pygments==2.21.0 PyJWT==2.15.1
PyNaCl==1.6.2 pytest==9.2.0 python-dateutil==2.9.0.post0 PyYAML==6.0.4 redis==8.2.0 referencing==0.37.0
regex==2026.12.2 requests-oauthlib==2.0.0 requests==2.34.2 resolvelib==1.2.1 responses==0.26.3
rpds-py==2026.9.1 s3transfer==0.19.3 setuptools==84.2.1 six==1.17.0 slack_sdk==3.48.0 sniffio==1.3.1
SQLAlchemy==2.1.9 sqlparse==0.6.1 starlette==1.10.0 stripe==16.1.0 sympy==1.14.0 truststore==0.10.5
twilio==9.13.0 typing-inspection==0.4.5 typing_extensions==4.16.0 tzlocal==5.4.5 urllib3==2.8.0 vine==5.1.0
wcwidth==0.9.5 websocket-client==1.9.2 Werkzeug==3.1.9 xmltodict==1.0.4 yarl==1.25.1
""".split()


def fa_corpus() -> Path:
    """The corpus root (`pypi/`, `npm/`), built on first use."""
    def make(tmp: Path) -> None:
        tmp.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-compile", "--no-deps", "--only-binary=:all:", "--target", str(tmp / "pypi"), *PYPI_PINS],
                       check=True, capture_output=True, timeout=1800)
        npm = tmp / "npm"
        npm.mkdir()
        for name in ("package.json", "package-lock.json"):
            shutil.copy(NPM_PROJECT / name, npm / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                       cwd=npm, check=True, capture_output=True, timeout=1800)

    return cached_build(NAME, make)


def trees() -> list[tuple[Path, str]]:
    """(directory, image path prefix) pairs: where each tree would sit in an image."""
    root = fa_corpus()
    return [(root / "pypi", PYPI_PREFIX), (root / "npm", NPM_PREFIX)]


if __name__ == "__main__":
    print(fa_corpus())
