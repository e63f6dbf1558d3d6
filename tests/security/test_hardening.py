"""Production settings pass `check --deploy` cleanly; the CSP is on every page and the pages
keep their scripts and styles in files; sign-in is throttled; passwords are validated."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from tests.erpbridge.test_startup import KEY, manage
from tests.factories import TEST_PASSWORD, UserFactory


def test_check_deploy_has_nothing_to_say_in_production(tmp_path):
    result = manage(
        "check",
        "--deploy",
        SECRET_KEY="k3y-" + "Zq8rT2pLmW9xV4nB7cY1" * 3,
        ERPBRIDGE_ENCRYPTION_KEY=KEY,
        ERPBRIDGE_DATA_DIR=str(tmp_path),
        ALLOWED_HOSTS="erp.example.com",
        ERPBRIDGE_HTTPS="true",  # the default with DEBUG off; the test run sets it false
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stderr


def test_behind_a_tls_proxy_the_forwarded_proto_header_is_trusted_when_configured():
    from pathlib import Path

    from erpbridge.config import build_settings

    env = {"SECRET_KEY": "x" * 60, "ERPBRIDGE_ENCRYPTION_KEY": KEY}
    direct = build_settings(env, Path("/tmp"))
    proxied = build_settings(
        {**env, "ERPBRIDGE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, Path("/tmp")
    )

    assert direct["SECURE_SSL_REDIRECT"] is True and direct["SECURE_HSTS_SECONDS"] >= 31536000
    assert direct["SECURE_PROXY_SSL_HEADER"] is None
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.django_db
def test_every_page_carries_the_csp_and_no_inline_script_or_style(client):
    admin = UserFactory(username="ia", roles=["Integration admin"], is_staff=True)
    client.force_login(admin)
    for path in ("/", "/mappings/", "/connections/", "/queue/", "/admin/", "/api/docs/"):
        response = client.get(path)
        if response.status_code != 200:
            continue
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        html = response.content.decode()
        # Every <script> has a src (or is JSON data), no <style> block, no style="…".
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or "application/json" in tag, (path, tag)
        assert "<style" not in html, path
        assert not re.search(r"\sstyle=\"", html), path
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_the_vendored_scripts_are_served(client):
    admin = UserFactory(username="ia", roles=["Integration admin"], is_staff=True)
    client.force_login(admin)
    html = client.get("/").content.decode()
    for src in re.findall(r'<script[^>]+src="([^"]+)"', html):
        response = client.get(src)
        assert response.status_code == 200, src
    assert client.get("/static/vendor/chart.umd.min.js").status_code == 200
    assert '"includeIndicatorStyles": false' in html


@pytest.fixture
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
@override_settings(ERPBRIDGE_LOGIN_MAX_FAILURES=3, ERPBRIDGE_LOGIN_LOCKOUT_SECONDS=600)
def test_sign_in_is_throttled_per_username_and_address(client, clean_cache):
    UserFactory(username="alice")
    url = reverse("login")
    for _ in range(3):
        assert client.post(url, {"username": "alice", "password": "wrong"}).status_code == 200

    locked = client.post(url, {"username": "alice", "password": TEST_PASSWORD})

    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out by this one's failures.
    other = client.post(
        url, {"username": "alice", "password": TEST_PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert other.status_code == 302


@pytest.mark.django_db
@override_settings(ERPBRIDGE_LOGIN_MAX_FAILURES=2, ERPBRIDGE_LOGIN_LOCKOUT_SECONDS=600)
def test_a_success_clears_the_count_and_the_admin_login_is_throttled_too(client, clean_cache):
    UserFactory(username="bob", is_staff=True)
    client.post(reverse("login"), {"username": "bob", "password": "wrong"})
    assert (
        client.post(reverse("login"), {"username": "bob", "password": TEST_PASSWORD}).status_code
        == 302
    )
    client.logout()
    admin_login = reverse("admin:login")
    for _ in range(2):
        client.post(admin_login, {"username": "bob", "password": "wrong"})
    locked = client.post(admin_login, {"username": "bob", "password": TEST_PASSWORD})
    assert "Too many failed sign-in attempts" in locked.content.decode()


def test_password_validators_refuse_weak_passwords():
    for weak in ("password", "12345678", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)
