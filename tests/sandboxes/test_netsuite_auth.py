"""NetSuite sandbox: OAuth 2.0 M2M (JWT client assertion) and token-based auth (OAuth 1.0a)."""

from __future__ import annotations

import time

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from sandboxes.netsuite import (
    DEMO_CERTIFICATE_ID,
    DEMO_CLIENT_ID,
    NetSuiteSandbox,
    demo_private_key_pem,
    make_client_assertion,
    tba_header,
    token_url,
)
from tests.sandboxes.test_netsuite_support import HOST, REC, client

TOKEN = "/services/rest/auth/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def grant(c: httpx.Client, assertion: str) -> httpx.Response:
    return c.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )


def joserfc_assertion(key: object, alg: str, kid: str = DEMO_CERTIFICATE_ID, **claims: object):
    now = int(time.time())
    body = {
        "iss": DEMO_CLIENT_ID,
        "scope": ["restlets", "rest_webservices"],
        "aud": token_url("1234567_SB1"),
        "iat": now,
        "exp": now + 300,
    }
    body.update(claims)
    return jwt.encode({"typ": "JWT", "alg": alg, "kid": kid}, body, key, algorithms=[alg])


@pytest.fixture
def sb() -> NetSuiteSandbox:
    return NetSuiteSandbox()


def test_m2m_token_with_ps256_assertion_signed_by_joserfc(sb):
    c = client(sb, token=False)
    key = RSAKey.import_key(demo_private_key_pem())
    resp = grant(c, joserfc_assertion(key, "PS256"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == "3600"
    assert "refresh_token" not in body
    api = client(sb, token=body["access_token"])
    assert api.get(f"{REC}/vendor").status_code == 200


def test_m2m_es256_certificate(sb):
    private = ec.generate_private_key(ec.SECP256R1())
    pub = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sb.register_integration("ec-client")
    sb.register_certificate("ec-client", "ec-cert", pub)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = ECKey.import_key(pem)
    resp = grant(
        client(sb, token=False), joserfc_assertion(key, "ES256", kid="ec-cert", iss="ec-client")
    )
    assert resp.status_code == 200, resp.text
    # our own client-side helper agrees with the verifier too
    own = make_client_assertion(pem, client_id="ec-client", certificate_id="ec-cert", alg="ES256")
    assert grant(client(sb, token=False), own).status_code == 200


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"alg": "RS256"}, "invalid_client"),
        ({"audience": "https://example.com/token"}, "invalid_client"),
        ({"lifetime": 3600}, "invalid_client"),
        ({"now": time.time() - 7200, "lifetime": 600}, "invalid_client"),
        ({"certificate_id": "unknown-cert"}, "invalid_client"),
        ({"client_id": "unknown-client"}, "invalid_client"),
        ({"scope": ["rest_webservices", "admin"]}, "invalid_scope"),
    ],
)
def test_bad_assertions_are_refused(sb, kwargs, error):
    resp = grant(client(sb, token=False), make_client_assertion(demo_private_key_pem(), **kwargs))
    assert resp.status_code == 400
    assert resp.json()["error"] == error
    assert resp.json()["error_description"]


def test_assertion_lifetime_just_under_an_hour_is_accepted(sb):
    assertion = make_client_assertion(demo_private_key_pem(), lifetime=3599)
    assert grant(client(sb, token=False), assertion).status_code == 200


def test_signature_by_another_key_is_refused(sb):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    resp = grant(client(sb, token=False), make_client_assertion(pem))
    assert resp.json() == {
        "error": "invalid_client",
        "error_description": "Invalid signature of the client assertion",
    }


def test_token_request_without_grant_or_with_other_grant(sb):
    c = client(sb, token=False)
    assert c.post(TOKEN, data={}).json()["error"] == "invalid_request"
    other = c.post(TOKEN, data={"grant_type": "authorization_code", "code": "x"})
    assert other.json()["error"] == "unsupported_grant_type"
    wrong_type = c.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "x",
            "client_assertion": "a.b.c",
        },
    )
    assert wrong_type.json()["error"] == "invalid_request"


def test_audience_may_be_the_url_actually_posted_to(sb):
    c = httpx.Client(base_url="http://127.0.0.1:8101", transport=httpx.MockTransport(sb.handle))
    assertion = make_client_assertion(
        demo_private_key_pem(), audience=f"http://127.0.0.1:8101{TOKEN}"
    )
    assert grant(c, assertion).status_code == 200


def test_access_token_expires_after_3600_seconds(sb):
    resp = grant(client(sb, token=False), make_client_assertion(demo_private_key_pem()))
    api = client(sb, token=resp.json()["access_token"])
    sb.clock.advance(3599)
    assert api.get(f"{REC}/vendor").status_code == 200
    sb.clock.advance(2)
    expired = api.get(f"{REC}/vendor")
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    assert 'realm="1234567_SB1"' in expired.headers["www-authenticate"]


def test_missing_or_unknown_token_gets_invalid_login_body(sb):
    for c in (client(sb, token=False), client(sb, token="nope")):
        resp = c.get(f"{REC}/vendor/1")
        assert resp.status_code == 401
        assert resp.headers["content-type"].startswith("application/vnd.oracle.resource+json")
        body = resp.json()
        assert body["title"] == "Unauthorized" and body["status"] == 401
        assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
        assert body["o:errorDetails"][0]["detail"].startswith("Invalid login attempt.")


def test_revoke_tokens_fault_refuses_every_token(sb):
    api = client(sb)
    sb.faults.update({"revoke_tokens": True})
    assert api.get(f"{REC}/vendor").status_code == 401
    tba = client(sb, token=False)
    url = f"{HOST}{REC}/vendor"
    assert tba.get(url, headers={"Authorization": tba_header("GET", url)}).status_code == 401
    sb.faults.update({"revoke_tokens": False})
    assert api.get(f"{REC}/vendor").status_code == 200


def test_tba_hmac_sha256_signature_and_query_params(sb):
    c = client(sb, token=False)
    url = f"{HOST}{REC}/vendor?limit=5&q=companyName%20START_WITH%20a"
    resp = c.get(url, headers={"Authorization": tba_header("GET", url)})
    assert resp.status_code == 200, resp.text


def test_tba_signed_by_authlib_is_accepted(sb):
    from authlib.integrations.httpx_client import OAuth1Auth
    from authlib.oauth1.rfc5849 import signature
    from authlib.oauth1.rfc5849.client_auth import ClientAuth

    def hmac_sha256(client_auth, request):
        import base64
        import hashlib
        import hmac

        base = signature.generate_signature_base_string(request)
        key = "&".join(
            [
                signature.escape(client_auth.client_secret or ""),
                signature.escape(client_auth.token_secret or ""),
            ]
        )
        digest = hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    ClientAuth.register_signature_method("HMAC-SHA256", hmac_sha256)
    from sandboxes.netsuite import (
        DEMO_CONSUMER_KEY,
        DEMO_CONSUMER_SECRET,
        DEMO_TOKEN_ID,
        DEMO_TOKEN_SECRET,
    )

    auth = OAuth1Auth(
        client_id=DEMO_CONSUMER_KEY,
        client_secret=DEMO_CONSUMER_SECRET,
        token=DEMO_TOKEN_ID,
        token_secret=DEMO_TOKEN_SECRET,
        signature_method="HMAC-SHA256",
        realm="1234567_SB1",
    )
    c = httpx.Client(base_url=HOST, transport=httpx.MockTransport(sb.handle), auth=auth)
    resp = c.get(f"{REC}/vendor", params={"limit": "3"})
    assert resp.status_code == 200, resp.text


def test_tba_nonce_replay_timestamp_window_and_realm(sb):
    c = client(sb, token=False)
    url = f"{HOST}{REC}/vendor"
    header = tba_header("GET", url, nonce="n-1")
    assert c.get(url, headers={"Authorization": header}).status_code == 200
    replay = c.get(url, headers={"Authorization": header})
    assert replay.status_code == 401
    assert replay.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    stale = tba_header("GET", url, timestamp=int(time.time()) - 3600)
    assert c.get(url, headers={"Authorization": stale}).status_code == 401
    other_realm = tba_header("GET", url, account_id="7654321")
    assert c.get(url, headers={"Authorization": other_realm}).status_code == 401
    wrong_secret = tba_header("GET", url, token_secret="x")
    assert c.get(url, headers={"Authorization": wrong_secret}).status_code == 401
