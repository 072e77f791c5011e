"""The long schemathesis run of both service APIs (tests/service/test_api_schema.py with many examples per
operation instead of CI's few): the Harbor side against the official spec file, ours against /openapi.json,
on a real server, worker, RabbitMQ, PostgreSQL and registry (tests/service/conftest.py).

    .venv/bin/python bench/service_fuzz.py [EXAMPLES]     (default 200 per operation)

Exits with pytest's status; every failure is printed with a curl command that reproduces it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    examples = sys.argv[1] if len(sys.argv) > 1 else "200"
    env = {**os.environ, "HULLSCAN_FUZZ_EXAMPLES": examples}
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=7200",
                            str(REPO / "tests" / "service" / "test_api_schema.py")], env=env, cwd=REPO)


if __name__ == "__main__":
    sys.exit(main())
