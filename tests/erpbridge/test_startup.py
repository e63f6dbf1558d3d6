"""The real entry point refuses a bad environment with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


# The caller's settings for this run, and DJANGO_ALLOW_ASYNC_UNSAFE, which the browser tests'
# conftest sets for the whole session (collected even when they are deselected) and which
# `check --deploy` rightly refuses in production.
STRIPPED = {
    "DEBUG",
    "SECRET_KEY",
    "ERPBRIDGE_ENCRYPTION_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in STRIPPED}
    clean.update(DJANGO_SETTINGS_MODULE="erpbridge.settings", **env)
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=clean,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


KEY = "dGVzdC1vbmx5LWVycGJyaWRnZS1lbmNyeXB0aW9uLWs="


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ERPBRIDGE_ENCRYPTION_KEY": KEY}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "x" * 50}, "ERPBRIDGE_ENCRYPTION_KEY is not set"),
        (
            {
                "SECRET_KEY": "x" * 50,
                "ERPBRIDGE_ENCRYPTION_KEY": KEY,
                "DATABASE_URL": "postgres://h:x/db",
            },
            "DATABASE_URL is malformed",
        ),
        (
            {"SECRET_KEY": "x" * 50, "ERPBRIDGE_ENCRYPTION_KEY": KEY, "REDIS_URL": "memcached://h"},
            "REDIS_URL must start with redis://",
        ),
    ],
)
def test_manage_py_check_fails_with_one_clear_line(env, message, tmp_path):
    result = manage("check", ERPBRIDGE_DATA_DIR=str(tmp_path), **env)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("erpbridge: configuration error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_manage_py_check_passes_with_both_secrets(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "ERROR",
        SECRET_KEY="x" * 60,
        ERPBRIDGE_ENCRYPTION_KEY=KEY,
        ERPBRIDGE_DATA_DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert "erpbridge.W00" not in result.stderr


def test_debug_without_keys_starts_but_warns(tmp_path):
    result = manage("check", DEBUG="true", ERPBRIDGE_DATA_DIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "erpbridge.W001" in result.stderr
    assert "erpbridge.W002" in result.stderr
