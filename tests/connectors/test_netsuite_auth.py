"""NetSuite auth pieces without the sandbox: the client assertion and the TBA signature."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import unquote

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectors.errors import AuthError
from connectors.netsuite.auth import ClientAssertion, TbaAuth, host_for, realm_for

AUD = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"


def pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def rsa_pem() -> bytes:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def decode(jwt: str) -> tuple[dict, dict]:
    head, body, _ = jwt.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(head))),
        json.loads(base64.urlsafe_b64decode(pad(body))),
    )


def test_assertion_is_ps256_for_rsa_with_kid_short_lifetime_and_fresh_jti(rsa_pem):
    now = [1_700_000_000.0]
    signer = ClientAssertion(
        client_id="cid",
        certificate_id="cert-1",
        private_key_pem=rsa_pem,
        token_url=AUD,
        clock=lambda: now[0],
    )
    first_header, first = decode(signer.sign())
    now[0] += 10
    _, second = decode(signer.sign())
    assert first_header == {"typ": "JWT", "alg": "PS256", "kid": "cert-1"}
    assert first["iss"] == "cid" and first["aud"] == AUD
    assert first["scope"] == ["rest_webservices"]
    assert first["exp"] - first["iat"] == 300  # NetSuite needs < 3600; Authlib's default is 3600
    assert first["jti"] != second["jti"]  # Authlib's PrivateKeyJWT would reuse it
    assert second["iat"] == first["iat"] + 10


@pytest.mark.parametrize(("curve", "alg"), [(ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384")])
def test_assertion_alg_follows_the_ec_curve(curve, alg):
    signer = ClientAssertion(
        client_id="cid",
        certificate_id="k",
        private_key_pem=pem(ec.generate_private_key(curve)),
        token_url=AUD,
    )
    assert decode(signer.sign())[0]["alg"] == alg


def test_unreadable_key_is_an_auth_error_for_the_admin_form():
    with pytest.raises(AuthError) as info:
        ClientAssertion(client_id="c", certificate_id="k", private_key_pem="nope", token_url=AUD)
    assert info.value.code == "invalid_private_key"


def test_a_key_is_parsed_once_per_process_and_a_bad_one_is_refused_every_time(rsa_pem):
    # Every sync batch task builds its client afresh; parsing the PEM each time cost a cluster
    # about 15 % of its CPU. The same PEM gives the same parsed key; a bad one is not cached.
    def make(key):
        return ClientAssertion(
            client_id="c", certificate_id="k", private_key_pem=key, token_url=AUD
        )

    first, second = make(rsa_pem), make(rsa_pem.decode())  # bytes or text, one key
    other = make(pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))

    assert first.key is second.key
    assert other.key is not first.key
    for _ in range(2):
        with pytest.raises(AuthError):
            make("nope")


def test_lifetime_of_an_hour_is_refused(rsa_pem):
    with pytest.raises(ValueError):
        ClientAssertion(
            client_id="c", certificate_id="k", private_key_pem=rsa_pem, token_url=AUD, lifetime=3600
        )


def test_account_id_forms():
    assert realm_for("1234567-sb1") == "1234567_SB1"
    assert host_for("1234567_SB1") == "https://1234567-sb1.suitetalk.api.netsuite.com"


def test_tba_header_matches_an_independent_hmac_sha256_implementation():
    from sandboxes.netsuite import keys

    tba = TbaAuth(
        account_id="1234567_sb1",
        consumer_key=keys.DEMO_CONSUMER_KEY,
        consumer_secret=keys.DEMO_CONSUMER_SECRET,
        token_id=keys.DEMO_TOKEN_ID,
        token_secret=keys.DEMO_TOKEN_SECRET,
        clock=lambda: 1_700_000_000.5,
    )
    request = httpx.Request(
        "POST",
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql",
        params={"limit": 1000, "offset": 0},
        json={"q": "SELECT id FROM vendor"},
    )
    tba.sign(request)
    header = request.headers["Authorization"]
    params = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}
    assert params["realm"] == "1234567_SB1"
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["oauth_timestamp"] == "1700000000"
    assert "oauth_body_hash" not in params  # a JSON body is not part of the signature
    expected = keys.tba_header(
        "POST",
        str(request.url),
        timestamp=1_700_000_000,
        nonce=params["oauth_nonce"],
    )
    expected_sig = unquote(re.search(r'oauth_signature="([^"]*)"', expected).group(1))
    assert params["oauth_signature"] == expected_sig
