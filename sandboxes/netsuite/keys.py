"""Demo credentials for the NetSuite sandbox, and client-side helpers to use them.

The demo integration (client id + certificate id + an RSA key pair) is registered in every
``NetSuiteSandbox`` so the demo and tests can get a token without setup. The RSA key is generated
once per process (3072 bits: the size Oracle's M2M setup accepts, reference §3.1) and cached.
The helpers here play the *client's* part (sign a JWT assertion, sign a TBA request); the sandbox
verifies with its own code in ``auth.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from functools import cache
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

DEMO_ACCOUNT_ID = "1234567_SB1"
DEMO_CLIENT_ID = "9a50685c1d2e4f7a8b3c6d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
DEMO_CERTIFICATE_ID = "x2u8QmC3VbC0aYdQnF0oO5xJm4t7zP1kRZB9cW6sE3A"
DEMO_SCOPES = ("restlets", "rest_webservices")
# Token-based auth (OAuth 1.0a) demo credentials: integration consumer key/secret + access token.
DEMO_CONSUMER_KEY = "5f1d0b6e3c2a4d8f9e7b1a0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e"
DEMO_CONSUMER_SECRET = "c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9"
DEMO_TOKEN_ID = "e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5"
DEMO_TOKEN_SECRET = "a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3"


@cache
def _demo_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


def demo_private_key_pem() -> bytes:
    return _demo_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def demo_public_key_pem() -> bytes:
    return (
        _demo_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def token_url(account_id: str) -> str:
    """The assertion's ``aud``: host from the account id (``_SB1`` -> ``-sb1``), reference §1.1."""
    host = account_id.lower().replace("_", "-")
    return f"https://{host}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_client_assertion(
    private_key_pem: bytes | str,
    *,
    client_id: str = DEMO_CLIENT_ID,
    certificate_id: str = DEMO_CERTIFICATE_ID,
    audience: str | None = None,
    account_id: str = DEMO_ACCOUNT_ID,
    scope: list[str] | str | None = None,
    lifetime: int = 300,
    alg: str = "PS256",
    now: float | None = None,
) -> str:
    """A signed JWT client assertion (reference §3.1 claims), PS256/ES256 via cryptography."""
    scope = list(DEMO_SCOPES) if scope is None else scope
    key = serialization.load_pem_private_key(
        private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem, None
    )
    issued = int(now if now is not None else time.time())
    header = {"typ": "JWT", "alg": alg, "kid": certificate_id}
    claims = {
        "iss": client_id,
        "scope": scope,
        "aud": audience or token_url(account_id),
        "iat": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    if alg.startswith("PS"):
        assert isinstance(key, rsa.RSAPrivateKey)
        sig = key.sign(
            signing_input.encode(), padding.PSS(padding.MGF1(digest), digest.digest_size), digest
        )
    elif alg.startswith("ES"):
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        r, s = utils.decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(digest)))
        size = (key.curve.key_size + 7) // 8
        sig = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:  # RS256 and friends: NetSuite refuses them; signing lets tests prove the refusal
        assert isinstance(key, rsa.RSAPrivateKey)
        sig = key.sign(signing_input.encode(), padding.PKCS1v15(), digest)
    return f"{signing_input}.{_b64(sig)}"


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def tba_header(
    method: str,
    url: str,
    *,
    account_id: str = DEMO_ACCOUNT_ID,
    consumer_key: str = DEMO_CONSUMER_KEY,
    consumer_secret: str = DEMO_CONSUMER_SECRET,
    token_id: str = DEMO_TOKEN_ID,
    token_secret: str = DEMO_TOKEN_SECRET,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> str:
    """An ``Authorization: OAuth realm=...`` header signed with HMAC-SHA256 (RFC 5849 §3.4)."""
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_token": token_id,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_version": "1.0",
    }
    parts = urlsplit(url)
    params = list(oauth.items()) + parse_qsl(parts.query, keep_blank_values=True)
    norm = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    base_url = f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}{port}{parts.path}"
    base = "&".join([method.upper(), _enc(base_url), _enc(norm)])
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
    sig = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest())
    oauth["oauth_signature"] = sig.decode()
    fields = [f'realm="{account_id}"'] + [f'{k}="{_enc(v)}"' for k, v in oauth.items()]
    return "OAuth " + ", ".join(fields)
