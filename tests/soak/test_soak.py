"""A minute of mixed load on a system of its own (soak/run.py; `make soak` runs ten)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCUST = ROOT / ".venv-load" / "bin" / "locust"

pytestmark = pytest.mark.soak


def test_a_minute_of_mixed_load_fails_nothing_breaks_nothing_and_leaks_nothing(tmp_path):
    assert LOCUST.exists(), "locust lives in .venv-load: run the suite with `make test`"

    result = subprocess.run(
        [sys.executable, str(ROOT / "soak" / "run.py"), "--duration", os.environ.get("SOAK_TEST_SECONDS", "60"),
         "--results", str(tmp_path)], capture_output=True, text=True, timeout=600)

    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
