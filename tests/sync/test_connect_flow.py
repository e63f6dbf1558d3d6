""" "Connect Procore" / "Connect QuickBooks" end to end: our pages through Django's test client,
the provider's authorize page and token endpoint through the sandboxes in-process (the
"browser" follows the sandbox's 302 back to our callback)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from connectors.procore.auth import pkce_challenge
from sandboxes.quickbooks import DEMO_REALM_ID
from sync.clients import connection_client
from sync.models import Connection, ConnectionStatus, OAuthState
from tests.factories import UserFactory
from tests.sync.conftest import COMPANY, make_procore, make_quickbooks, page_text

pytestmark = pytest.mark.django_db


def start(client, conn) -> httpx.URL:
    response = client.post(f"/connections/{conn.pk}/connect/")
    assert response.status_code == 302
    return httpx.URL(response["Location"])


def authorize(sb, url: httpx.URL) -> str:
    """The browser at the provider: the sandbox signs in, approves, and redirects back."""
    with httpx.Client(transport=httpx.MockTransport(sb.handle)) as browser:
        answer = browser.get(url)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def unchanged(conn: Connection) -> None:
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.status == conn.status
    assert fresh.token == conn.token
    assert fresh.settings == conn.settings


# -- Procore --------------------------------------------------------------------------------------


def test_connect_procore_with_pkce_stores_the_token_and_marks_healthy(
    client, integration_admin, procore_sb, remote
):
    transport = remote(procore_sb)
    conn = make_procore()
    client.force_login(integration_admin)

    url = start(client, conn)
    assert url.host == "login.sandbox.invalid" and url.path == "/oauth/authorize"
    pending = OAuthState.objects.get()
    assert url.params["state"] == pending.state
    assert pending.connection_id == conn.pk and pending.created_by == integration_admin
    assert url.params["code_challenge_method"] == "S256"
    assert url.params["code_challenge"] == pkce_challenge(pending.code_verifier)
    assert url.params["redirect_uri"] == "http://testserver/connections/procore/callback"

    back = authorize(procore_sb, url)
    assert back.startswith("http://testserver/connections/procore/callback?")
    page = client.get(back, follow=True)

    assert "Connected: Procore is healthy." in page_text(page)
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.status == ConnectionStatus.OK and fresh.last_success_at is not None
    assert fresh.token["refresh_token"] and fresh.token["expires_at"] > 0
    assert OAuthState.objects.get().used_at is not None
    # The stored grant works for the sync client.
    projects = connection_client(fresh, transport=transport).projects(company_id=str(COMPANY))
    assert list(projects) == []


def test_pkce_is_verified_by_the_provider(client, integration_admin, procore_sb, remote):
    remote(procore_sb)
    conn = make_procore()
    client.force_login(integration_admin)
    back = authorize(procore_sb, start(client, conn))
    OAuthState.objects.update(code_verifier="a-verifier-that-does-not-match-the-challenge")

    page = client.get(back, follow=True)

    assert "Procore refused the credentials" in page_text(page)
    assert "invalid_grant" in page_text(page)
    unchanged(conn)


def test_access_denied_changes_nothing(client, integration_admin, procore_sb, remote):
    remote(procore_sb)
    conn = make_procore()
    client.force_login(integration_admin)
    state = start(client, conn).params["state"]

    page = client.get(
        "/connections/procore/callback", {"error": "access_denied", "state": state}, follow=True
    )

    assert "Procore did not grant access (access_denied" in page_text(page)
    assert "declined" in page_text(page)
    unchanged(conn)


def test_a_replayed_callback_is_refused(client, integration_admin, procore_sb, remote):
    remote(procore_sb)
    conn = make_procore()
    client.force_login(integration_admin)
    back = authorize(procore_sb, start(client, conn))
    client.get(back)
    connected = Connection.objects.get(pk=conn.pk)

    page = client.get(back, follow=True)

    assert "already used" in page_text(page)
    unchanged(connected)


def test_an_expired_state_is_refused(client, integration_admin, procore_sb, remote):
    remote(procore_sb)
    conn = make_procore()
    client.force_login(integration_admin)
    back = authorize(procore_sb, start(client, conn))
    OAuthState.objects.update(created_at=timezone.now() - timedelta(minutes=11))

    page = client.get(back, follow=True)

    assert "expired" in page_text(page)
    unchanged(conn)


def test_an_unknown_state_is_refused(client, integration_admin, procore_sb, remote):
    remote(procore_sb)
    conn = make_procore()
    client.force_login(integration_admin)

    page = client.get("/connections/procore/callback?code=abc&state=forged", follow=True)

    assert "does not belong to a connection flow started here" in page_text(page)
    unchanged(conn)


def test_a_state_started_by_another_admin_is_refused(client, integration_admin, procore_sb, remote):
    remote(procore_sb)
    conn = make_procore()
    client.force_login(integration_admin)
    back = authorize(procore_sb, start(client, conn))
    other = UserFactory(username="ia2", roles=["Integration admin"], is_staff=True)
    client.force_login(other)

    page = client.get(back, follow=True)

    assert "started by another user" in page_text(page)
    unchanged(conn)


def test_a_failed_exchange_changes_nothing(client, integration_admin, procore_sb, remote):
    remote(procore_sb)
    conn = make_procore(status=ConnectionStatus.NEEDS_REAUTH, status_reason="revoked")
    client.force_login(integration_admin)
    state = start(client, conn).params["state"]

    page = client.get(
        "/connections/procore/callback", {"code": "not-a-code", "state": state}, follow=True
    )

    assert "Procore refused the credentials" in page_text(page)
    assert "Nothing was changed" in page_text(page)
    unchanged(conn)


def test_the_callback_requires_login(client):
    response = client.get("/connections/procore/callback?code=x&state=y")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_connect_is_post_only(client, integration_admin):
    conn = make_procore()
    client.force_login(integration_admin)
    assert client.get(f"/connections/{conn.pk}/connect/").status_code == 405
    assert not OAuthState.objects.exists()


# -- QuickBooks -----------------------------------------------------------------------------------


def test_connect_quickbooks_captures_the_realm_and_stores_the_token(
    client, integration_admin, qbo_sb, remote
):
    transport = remote(qbo_sb)
    conn = make_quickbooks()
    client.force_login(integration_admin)

    url = start(client, conn)
    assert url.path == "/connect/oauth2"
    assert "code_challenge" not in url.params  # Intuit: no PKCE (connectors/quickbooks/auth.py)
    assert url.params["state"] == OAuthState.objects.get().state
    back = authorize(qbo_sb, url)
    assert parse_qs(urlsplit(back).query)["realmId"] == [DEMO_REALM_ID]
    page = client.get(back, follow=True)

    assert "Connected: QuickBooks is healthy." in page_text(page)
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.settings["realm_id"] == DEMO_REALM_ID
    assert fresh.status == ConnectionStatus.OK and fresh.token["refresh_token"]
    info = connection_client(fresh, transport=transport).company_info()
    assert info.company_name


def test_quickbooks_sign_in_to_another_company_changes_nothing(
    client, integration_admin, qbo_sb, remote
):
    remote(qbo_sb)
    conn = make_quickbooks(realm_id="1111222233334444")
    client.force_login(integration_admin)

    page = client.get(authorize(qbo_sb, start(client, conn)), follow=True)

    assert "belongs to QuickBooks company 1111222233334444" in page_text(page)
    unchanged(conn)


def test_quickbooks_access_denied_and_failed_exchange(client, integration_admin, qbo_sb, remote):
    remote(qbo_sb)
    conn = make_quickbooks()
    client.force_login(integration_admin)
    state = start(client, conn).params["state"]
    page = client.get(
        "/connections/quickbooks/callback", {"error": "access_denied", "state": state}, follow=True
    )
    assert "QuickBooks Online did not grant access (access_denied" in page_text(page)

    state = start(client, conn).params["state"]
    page = client.get(
        "/connections/quickbooks/callback",
        {"code": "AB1-forged", "state": state, "realmId": DEMO_REALM_ID},
        follow=True,
    )
    assert "QuickBooks Online refused the credentials" in page_text(page)
    unchanged(conn)
