"""QuickBooks sandbox: OAuth 2.0 authorization code, rotation, expiry, revocation, auth faults."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from sandboxes.core import Clock
from sandboxes.quickbooks import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REALM_ID,
    DEMO_REDIRECT_URI,
    QuickBooksSandbox,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "quickbooks"
BASIC = "Basic " + base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
API = f"/v3/company/{DEMO_REALM_ID}"


@pytest.fixture
def sb():
    return QuickBooksSandbox(clock=Clock())


@pytest.fixture
def http(sb):
    return httpx.Client(base_url="https://qb.test", transport=httpx.MockTransport(sb.handle))


def _connect(http) -> dict:
    r = http.get(
        "/connect/oauth2",
        params={
            "client_id": DEMO_CLIENT_ID,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": DEMO_REDIRECT_URI,
            "state": "csrf-123",
        },
    )
    assert r.status_code == 302
    location = urlparse(r.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == DEMO_REDIRECT_URI
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["state"] == "csrf-123"
    assert query["realmId"] == DEMO_REALM_ID
    r = http.post(
        "/oauth2/v1/tokens/bearer",
        headers={"Authorization": BASIC, "Accept": "application/json"},
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": DEMO_REDIRECT_URI,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def _company(http, token):
    return http.get(
        f"{API}/companyinfo/{DEMO_REALM_ID}", headers={"Authorization": f"Bearer {token}"}
    )


def test_authorization_code_flow_issues_3600s_bearer_tokens(http):
    tokens = _connect(http)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 100 * 86400
    r = _company(http, tokens["access_token"])
    assert r.status_code == 200
    assert r.json()["CompanyInfo"]["CompanyName"]


def test_code_is_single_use_and_bound_to_redirect_uri(sb, http):
    code = sb.authorization_code_for_tests(DEMO_CLIENT_ID, DEMO_REDIRECT_URI)
    bad = http.post(
        "/oauth2/v1/tokens/bearer",
        headers={"Authorization": BASIC},
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": "https://evil"},
    )
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_grant"}
    code = sb.authorization_code_for_tests(DEMO_CLIENT_ID, DEMO_REDIRECT_URI)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": DEMO_REDIRECT_URI}
    assert (
        http.post(
            "/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form
        ).status_code
        == 200
    )
    again = http.post("/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form)
    assert again.json() == {"error": "invalid_grant"}


def test_client_authentication_is_checked(http):
    wrong = "Basic " + base64.b64encode(f"{DEMO_CLIENT_ID}:nope".encode()).decode()
    r = http.post(
        "/oauth2/v1/tokens/bearer",
        headers={"Authorization": wrong},
        data={"grant_type": "refresh_token"},
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_authorize_rejects_unregistered_redirect_uri(http):
    r = http.get(
        "/connect/oauth2",
        params={
            "client_id": DEMO_CLIENT_ID,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": "https://elsewhere.example/cb",
            "state": "s",
        },
    )
    assert r.status_code == 400


def test_expired_access_token_gets_the_gateway_401(sb, http):
    tokens = _connect(http)
    sb.clock.advance(3601)
    r = _company(http, tokens["access_token"])
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    body = r.json()
    err = body["fault"]["error"][0]
    assert err["code"] == "3200"
    assert err["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert err["detail"].startswith("Token expired: ")
    assert body["fault"]["type"] == "AUTHENTICATION"
    assert isinstance(body["time"], int)  # epoch millis, unlike data-service faults
    documented = json.loads((FIXTURES / "auth__token_expired_401.json").read_text())
    assert set(body) == set(documented) - {"_source"}


def test_refresh_rotates_and_the_old_refresh_token_dies(sb, http):
    tokens = _connect(http)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    r = http.post("/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form)
    assert r.status_code == 200
    fresh = r.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert _company(http, fresh["access_token"]).status_code == 200
    again = http.post("/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_refresh_value_can_rotate_daily_like_the_faq():
    sb = QuickBooksSandbox(clock=Clock(), refresh_rotation_seconds=86400)
    http = httpx.Client(base_url="https://qb.test", transport=httpx.MockTransport(sb.handle))
    tokens = sb.issue_token_for_tests()
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    same = http.post("/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form).json()
    assert same["refresh_token"] == tokens["refresh_token"]
    sb.clock.advance(86400)
    rotated = http.post(
        "/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form
    ).json()
    assert rotated["refresh_token"] != tokens["refresh_token"]


def test_refresh_token_expires_after_100_idle_days(sb, http):
    tokens = sb.issue_token_for_tests()
    sb.clock.advance(100 * 86400 + 1)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    r = http.post("/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form)
    assert r.json()["error"] == "invalid_grant"


def test_revoke_kills_refresh_and_access_tokens(sb, http):
    tokens = sb.issue_token_for_tests()
    r = http.post(
        "/v2/oauth2/tokens/revoke",
        headers={"Authorization": BASIC},
        json={"token": tokens["refresh_token"]},
    )
    assert r.status_code == 200
    assert _company(http, tokens["access_token"]).status_code == 401
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert (
        http.post(
            "/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form
        ).status_code
        == 400
    )


def test_fault_revoke_tokens_makes_every_token_fail(sb, http):
    tokens = sb.issue_token_for_tests()
    sb.faults.revoke_tokens = True
    assert _company(http, tokens["access_token"]).status_code == 401
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert (
        http.post(
            "/oauth2/v1/tokens/bearer", headers={"Authorization": BASIC}, data=form
        ).status_code
        == 400
    )
    sb.faults.revoke_tokens = False
    assert _company(http, tokens["access_token"]).status_code == 200


def test_missing_or_malformed_bearer_is_401(http):
    assert http.get(f"{API}/companyinfo/{DEMO_REALM_ID}").status_code == 401
    r = _company(http, "short")
    assert r.status_code == 401
    assert "Malformed bearer token" in r.json()["fault"]["error"][0]["detail"]


def test_token_for_another_company_is_403_3100(sb, http):
    sb.add_company("4620816365000000001", "Other Co")
    tokens = sb.issue_token_for_tests(realm_id="4620816365000000001")
    r = _company(http, tokens["access_token"])
    assert r.status_code == 403
    err = r.json()["fault"]["error"][0]
    assert err["code"] == "3100"
    assert "ApplicationAuthorizationFailed" in err["message"]
