"""Where two services' secrets are both known, production refuses them equal (issue 12, finding 6)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from library_common.serve import refuse_secrets_shared_between_services

ROOT = Path(__file__).resolve().parents[2]
KEY = "k2Hq8Zr5Tw1Lp7Nc4Vb9Xm3Jd6Fg0Sa-shared"


def test_make_run_refuses_one_key_for_user_service_and_the_frontend(tmp_path):
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": KEY, "FRONTEND_SECRET_KEY": KEY,
           "DATA_DIR": str(tmp_path)}

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), "run"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "FRONTEND_SECRET_KEY is the same as SECRET_KEY" in result.stderr
    assert not (tmp_path / "postgres").exists()  # refused before anything started


def test_the_container_entrypoint_refuses_it_too_and_hides_the_frontends_key():
    environ = {"APP_ENV": "production", "SECRET_KEY": KEY, "FRONTEND_SECRET_KEY": KEY}

    with pytest.raises(SystemExit, match="FRONTEND_SECRET_KEY is the same as SECRET_KEY"):
        refuse_secrets_shared_between_services(environ)
    assert "FRONTEND_SECRET_KEY" not in environ


def test_different_keys_pass_and_the_frontends_key_never_reaches_the_app():
    environ = {"APP_ENV": "production", "SECRET_KEY": KEY, "FRONTEND_SECRET_KEY": KEY[::-1]}

    refuse_secrets_shared_between_services(environ)

    assert environ == {"APP_ENV": "production", "SECRET_KEY": KEY}
