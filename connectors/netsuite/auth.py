"""NetSuite authentication: OAuth 2.0 client credentials (M2M) and token-based auth (TBA).

**M2M** (reference §3.1, [ORA:section_162755359851], [ORA:section_162790605110]): the client
posts ``grant_type=client_credentials`` with a JWT client assertion signed by the admin's
private key; header ``kid`` = the certificate id, ``alg`` PS256 (RSA key) or ES256/384/512 (EC
key, by curve); claims ``iss`` = client id, ``scope``, ``aud`` = the token endpoint URL, ``iat``,
``exp`` (< 60 min after ``iat``). Access tokens live 60 minutes; there is no refresh token, so
:class:`connectors.tokens.TokenManager` re-runs the grant (``NetSuiteClient._grant``).

We sign with joserfc (Authlib's JOSE library) rather than Authlib's ``PrivateKeyJWT``: that
class signs a 3600 s assertion (NetSuite wants *less* than 60 minutes), reuses one ``jti`` across
assertions because it writes into the claims dict it was given, and has no ``scope`` claim
(reference/libraries.md). Here every assertion gets fresh claims, a new ``jti`` and 300 s.

**TBA** (reference §3.2): OAuth 1.0a, HMAC-SHA256 (HMAC-SHA1 ended with 2023.1), ``realm`` =
the account id upper-case with ``_SB1`` (not part of the signature). Authlib's OAuth 1 client
has no HMAC-SHA256, so :class:`TbaAuth` adds it to a subclass (not to Authlib's global table).
JSON bodies are not signed (RFC 5849 §3.4.1.3: only form-encoded bodies are parameters).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import httpx
from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from ..errors import AuthError, ConnectorError, Exchange, TransientError
from ..tokens import Token
from .errors import SYSTEM, classify, parse_body

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 - a path, not a secret
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300  # seconds; NetSuite refuses exp - iat >= 3600
DEFAULT_SCOPE = ("rest_webservices",)
ACCESS_TOKEN_SECONDS = 3600  # "The access token is valid for 60 minutes" (reference §3.1)


def realm_for(account_id: str) -> str:
    """``1234567-sb1`` / ``1234567_sb1`` → ``1234567_SB1`` (the TBA realm, reference §1.1)."""
    return account_id.strip().upper().replace("-", "_")


def host_for(account_id: str) -> str:
    """``1234567_SB1`` → ``https://1234567-sb1.suitetalk.api.netsuite.com`` (reference §1.1)."""
    return f"https://{account_id.strip().lower().replace('_', '-')}.suitetalk.api.netsuite.com"


# -- M2M: the client assertion ----------------------------------------------------------------

_EC_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def load_signing_key(private_key_pem: str | bytes) -> tuple[RSAKey | ECKey, str]:
    """The joserfc key and the algorithm NetSuite accepts for it (PS256 or ES256/384/512)."""
    pem = private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
    return _signing_key(pem)


# Parsing a PEM key costs ~100 ms of CPU (cryptography checks an RSA key on load), and every
# sync batch task builds its client afresh: uncached, a 3-worker cluster spent about 15 % of
# its CPU here. The parsed key is kept per process, keyed by the PEM (already in memory).
# A raised AuthError is not cached (lru_cache stores only returns).
@lru_cache(maxsize=8)
def _signing_key(pem: bytes) -> tuple[RSAKey | ECKey, str]:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise AuthError(
            "the private key is not a readable unencrypted PEM key",
            system=SYSTEM,
            code="invalid_private_key",
        ) from exc
    if isinstance(key, rsa.RSAPrivateKey):
        return RSAKey.import_key(key), "PS256"  # RS256 is not on NetSuite's list
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGS:
        return ECKey.import_key(key), _EC_ALGS[key.curve.name]
    raise AuthError(
        "NetSuite accepts RSA or EC (P-256/P-384/P-521) keys only",
        system=SYSTEM,
        code="invalid_private_key",
    )


class ClientAssertion:
    """Signs one fresh client-assertion JWT per token request."""

    def __init__(
        self,
        *,
        client_id: str,
        certificate_id: str,
        private_key_pem: str | bytes,
        token_url: str,
        scope: tuple[str, ...] | list[str] = DEFAULT_SCOPE,
        lifetime: int = ASSERTION_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < lifetime < 3600:
            raise ValueError("NetSuite needs an assertion lifetime under 60 minutes")
        self.client_id = client_id
        self.certificate_id = certificate_id
        self.key, self.alg = load_signing_key(private_key_pem)
        self.token_url = token_url
        self.scope = list(scope)
        self.lifetime = lifetime
        self.clock = clock

    def sign(self) -> str:
        now = int(self.clock())
        header = {"typ": "JWT", "alg": self.alg, "kid": self.certificate_id}
        claims = {  # a new dict every time: no jti is ever reused
            "iss": self.client_id,
            "scope": self.scope,
            "aud": self.token_url,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(header, claims, self.key, algorithms=[self.alg])


def request_token(http: httpx.Client, assertion: ClientAssertion, url: str | None = None) -> Token:
    """One client-credentials grant; raises AuthError (refused) or TransientError (try later).

    ``url`` is where to post (the client's base URL); the assertion's ``aud`` stays the
    account's token URL.
    """
    request = http.build_request(
        "POST",
        url or assertion.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion.sign(),
        },
        headers={"Accept": "application/json"},
    )
    try:
        response = http.send(request)
    except httpx.TransportError as exc:
        raise TransientError(
            f"token endpoint unreachable: {exc}", system=SYSTEM, exchange=Exchange.capture(request)
        ) from exc
    response.read()
    exchange = Exchange.capture(request, response)
    error: ConnectorError | None = classify(response, exchange)
    if error is not None:
        if response.status_code == 400 and not isinstance(error, TransientError):
            # RFC 6749 §5.2: the token endpoint answers 400 for a refused client or grant.
            error = AuthError(
                error.message,
                system=SYSTEM,
                status=400,
                code=error.code,
                exchange=exchange,
                details=error.details,
            )
        raise error
    body = parse_body(response)
    if not isinstance(body, dict) or not body.get("access_token"):
        raise TransientError(
            "token endpoint answered without an access token",
            system=SYSTEM,
            status=response.status_code,
            exchange=exchange,
        )
    token = {k: v for k, v in body.items() if k in ("access_token", "token_type", "expires_in")}
    # expires_in may come as a string or be missing (reference §3.1: type unverified).
    token["expires_in"] = float(body.get("expires_in") or ACCESS_TOKEN_SECONDS)
    return token


# -- TBA: OAuth 1.0a HMAC-SHA256 --------------------------------------------------------------


def sign_hmac_sha256(client: ClientAuth, request: Any) -> str:
    base_string = generate_signature_base_string(request)
    key = f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class _NetSuiteOAuth1(ClientAuth):
    SIGNATURE_METHODS = {**ClientAuth.SIGNATURE_METHODS, "HMAC-SHA256": sign_hmac_sha256}
    clock: Callable[[], float] = time.time

    def get_oauth_params(self, nonce: str, timestamp: str) -> list[tuple[str, str]]:
        # Our clock, not Authlib's time.time(): NetSuite refuses a skewed oauth_timestamp.
        return super().get_oauth_params(nonce, str(int(self.clock())))


class TbaAuth:
    """Signs every request with the TBA consumer and token (a fresh nonce and timestamp each)."""

    def __init__(
        self,
        *,
        account_id: str,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.realm = realm_for(account_id)
        self._auth = _NetSuiteOAuth1(
            client_id=consumer_key,
            client_secret=consumer_secret,
            token=token_id,
            token_secret=token_secret,
            signature_method="HMAC-SHA256",
            realm=self.realm,
        )
        self._auth.clock = clock

    def sign(self, request: httpx.Request) -> None:
        headers = {"Content-Type": request.headers.get("Content-Type", "")}
        # Non-form bodies are left out of the signature (Authlib signs them as b"").
        _, signed, _ = self._auth.prepare(request.method, str(request.url), headers, b"")
        request.headers["Authorization"] = signed["Authorization"]


def tba_from_settings(settings: dict[str, Any], clock: Callable[[], float] = time.time) -> TbaAuth:
    return TbaAuth(
        clock=clock,
        account_id=settings["account_id"],
        consumer_key=settings["consumer_key"],
        consumer_secret=settings["consumer_secret"],
        token_id=settings["token_id"],
        token_secret=settings["token_secret"],
    )
