"""Cached real-world trees for the false-alarm test: a debootstrapped Debian rootfs and installed
PyPI packages, built once under ~/.cache/hullscan-tests/ behind a file lock (other processes may
build the same thing at once)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testsupport import CACHE, cached_build, debian_rootfs  # noqa: F401  (re-exported for the tests)

# 30 popular PyPI packages (top of the download charts), pinned so the test is deterministic.
PYPI_PINS = [
    "boto3==1.35.99", "botocore==1.35.99", "urllib3==2.3.0", "requests==2.32.3", "certifi==2024.12.14",
    "charset-normalizer==3.4.1", "idna==3.10", "setuptools==75.8.0", "typing_extensions==4.12.2",
    "python-dateutil==2.9.0.post0", "s3transfer==0.10.4", "six==1.17.0", "packaging==24.2",
    "numpy==2.2.1", "pyyaml==6.0.2", "cryptography==44.0.0", "cffi==1.17.1", "pycparser==2.22",
    "jmespath==1.0.1", "attrs==24.3.0", "pydantic==2.10.5", "pydantic_core==2.27.2", "click==8.1.8",
    "jinja2==3.1.5", "markupsafe==3.0.2", "pytz==2024.2", "pandas==2.2.3", "rsa==4.9",
    "pyasn1==0.6.1", "google-auth==2.37.0",
]


def pypi_site() -> Path:
    """The 30 pinned packages installed with `pip install --target` into the cache (once)."""
    def make(tmp: Path) -> None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
                        "--only-binary=:all:", "--target", str(tmp), *PYPI_PINS],
                       check=True, capture_output=True)

    return cached_build("pypi-top30-site", make)


if __name__ == "__main__":
    print(debian_rootfs())
    print(pypi_site())
