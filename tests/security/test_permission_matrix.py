"""Every URL of the site and the API, for every role, against tests/security/access_table.py.

The URL conf is walked (as in tests/erpbridge/test_login_required.py), so a view added
tomorrow is checked tomorrow: a URL missing from the table fails here with what to do.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse

from accounts import roles
from tests.erpbridge.test_login_required import all_urls
from tests.factories import UserFactory
from tests.security.access_table import (
    ACCESS,
    ADMIN,
    ADMIN_PREFIX,
    ADMIN_SITE,
    CONTROLLER,
    PM,
    PUBLIC,
    SIGNED_IN,
)

ROLES = (None, PM, CONTROLLER, ADMIN)
GROUPS = {PM: roles.PROJECT_MANAGER, CONTROLLER: roles.CONTROLLER, ADMIN: roles.INTEGRATION_ADMIN}
URLS = all_urls()


def expected_access(path: str, name: str | None):
    if path.startswith(ADMIN_PREFIX):
        return ADMIN_SITE
    return ACCESS.get(name)


def test_every_url_is_in_the_access_table():
    missing = [f"{path} ({name})" for path, name in URLS if expected_access(path, name) is None]
    assert not missing, (
        "These URLs are not in tests/security/access_table.py: add each URL name to ACCESS "
        "with the roles that may open it (PUBLIC only for views that authenticate the "
        "caller themselves, such as webhooks):\n  " + "\n  ".join(missing)
    )


def test_the_table_names_no_url_that_is_gone():
    names = {name for _path, name in URLS}
    assert not set(ACCESS) - names, f"remove from the table: {sorted(set(ACCESS) - names)}"


def _outcome(response) -> str:
    if response.status_code == 503 and response.get("Content-Type") == "application/json":
        return "ok"  # /healthz: no task cluster runs during tests
    if response.status_code >= 500:
        return "error"
    if response.status_code in (401, 403):
        return "denied"
    if response.status_code in (301, 302):
        target = urlsplit(response["Location"]).path
        if target in {reverse(settings.LOGIN_URL), reverse("admin:login")}:
            return "login"
    if response.status_code == 429:
        return "denied"
    return "ok"


@pytest.fixture
def users(db):
    made = {}
    for role, group in GROUPS.items():
        made[role] = UserFactory(username=f"matrix-{role}", roles=[group], is_staff=role == ADMIN)
    return made


def _expect(access, role, path) -> set[str]:
    api = path.startswith("/api/")
    if access == PUBLIC:
        return {"ok"}
    if role is None:
        if path.startswith(ADMIN_PREFIX) and path.rstrip("/") == "/admin/login":
            return {"ok"}
        return {"denied"} if api and path != "/api/docs/" else {"login"}
    if access == SIGNED_IN:
        return {"ok"}
    if access == ADMIN_SITE:
        if path.rstrip("/") in ("/admin/login", "/admin/logout"):
            return {"ok", "login"}
        # Non-staff are sent to the admin's sign-in; staff see what their permissions allow.
        return {"ok", "denied"} if role == ADMIN else {"login"}
    return {"ok"} if role in access else {"denied"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_each_role_gets_what_the_table_says(client, users, role):
    if role is not None:
        client.force_login(users[role])
    wrong = []
    for path, name in URLS:
        access = expected_access(path, name)
        if access is None:
            continue  # reported by test_every_url_is_in_the_access_table
        got = _outcome(client.get(path))
        want = _expect(access, role, path)
        if got not in want:
            wrong.append(f"{path} ({name}): {got}, expected {' or '.join(sorted(want))}")
    assert not wrong, f"{role or 'anonymous'}:\n  " + "\n  ".join(wrong)
