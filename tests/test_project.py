"""Project-wide facts: migrations match the models, vendored files are intact, and the
pinned libraries still fit together."""

import hashlib
import io
from pathlib import Path

import pytest
from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parents[1]


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    out = io.StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # SystemExit(1) if not

    assert "No changes detected" in out.getvalue()


def test_vendored_front_end_files_match_their_checksums():
    vendor = BASE_DIR / "static" / "vendor"
    for line in (vendor / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name


def test_vendored_htmx_is_the_2x_line():
    head = (BASE_DIR / "static" / "vendor" / "htmx.min.js").read_bytes()[:20000]

    assert b'version:"2.0.' in head


def test_django_is_the_lts_line():
    import django

    assert django.VERSION[:2] == (5, 2)


def test_authlib_still_builds_on_httpx():
    """Authlib >= 1.8 switches silently to the httpx2 fork when it is installed."""
    import warnings

    import httpx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import OAuth2Client

    assert issubclass(OAuth2Client, httpx.Client)


def test_lock_file_pins_every_declared_dependency_exactly():
    import tomllib

    declared = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (BASE_DIR / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for requirement in declared:
        name = requirement.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip()
        assert name.lower().replace("_", "-") in pinned, name
