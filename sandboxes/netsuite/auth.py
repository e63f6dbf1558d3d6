"""OAuth 2.0 client credentials (M2M, JWT assertion) and token-based auth (OAuth 1.0a).

Reference §3. The token endpoint answers RFC 6749 §5.2 bodies (``{"error", "error_description"}``):
every defect of the client assertion is ``invalid_client`` as RFC 7523 §3.2 prescribes, a scope
the integration does not have is ``invalid_scope``, a missing parameter ``invalid_request``, any
other grant ``unsupported_grant_type`` (NetSuite's exact token-error bodies are not in the
reference: decision). API calls with a bad token get 401 ``INVALID_LOGIN`` in the
``o:errorDetails`` envelope plus ``WWW-Authenticate: Bearer realm=...``
([ORA:subsect_158521885412]).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from ..core import Req, json_response
from .errors import invalid_login
from .keys import token_url

if TYPE_CHECKING:
    import httpx

    from .app import NetSuiteSandbox

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_LIFETIME = 3600  # "The access token is valid for 60 minutes" [ORA:section_162755359851]
KNOWN_SCOPES = frozenset({"restlets", "rest_webservices", "suite_analytics"})
ALGS = {"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
TBA_WINDOW = 300  # seconds of clock skew accepted on oauth_timestamp (decision)
_HASH = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


class TokenError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def load_public_key(pem: bytes | str) -> Any:
    data = pem.encode() if isinstance(pem, str) else pem
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


def _verify(key: Any, alg: str, signing_input: bytes, sig: bytes) -> bool:
    digest = _HASH[alg[2:]]()
    try:
        if alg.startswith("PS"):
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            # RFC 7518 §3.5: salt length = hash length.
            key.verify(
                sig, signing_input, padding.PSS(padding.MGF1(digest), digest.digest_size), digest
            )
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return False
            size = (key.curve.key_size + 7) // 8
            if len(sig) != 2 * size:
                return False
            der = utils.encode_dss_signature(
                int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big")
            )
            key.verify(der, signing_input, ec.ECDSA(digest))
    except InvalidSignature:
        return False
    return True


class Auth:
    def __init__(self, sandbox: NetSuiteSandbox) -> None:
        self.sb = sandbox
        self.integrations: dict[str, dict[str, Any]] = {}  # client id -> {scopes, certificates}
        self.tokens: dict[str, dict[str, Any]] = {}  # access token -> {client_id, exp, scope}
        self.tba_consumers: dict[str, str] = {}  # consumer key -> secret
        self.tba_tokens: dict[str, dict[str, str]] = {}  # token id -> {secret, consumer_key}
        self.nonces: dict[str, float] = {}
        self._keys: dict[tuple[str, str], Any] = {}

    # -- registration -------------------------------------------------------------------------

    def register_integration(
        self,
        client_id: str,
        scopes: tuple[str, ...] | list[str] = ("restlets", "rest_webservices"),
        name: str = "",
    ) -> None:
        entry = self.integrations.setdefault(client_id, {"certificates": {}})
        entry.update({"scopes": sorted(scopes), "name": name or client_id})

    def register_certificate(
        self, client_id: str, certificate_id: str, public_key_pem: bytes | str
    ) -> None:
        if client_id not in self.integrations:
            self.register_integration(client_id)
        pem = public_key_pem.decode() if isinstance(public_key_pem, bytes) else public_key_pem
        self._keys[(client_id, certificate_id)] = load_public_key(pem)
        self.integrations[client_id]["certificates"][certificate_id] = pem

    def register_tba(
        self, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str
    ) -> None:
        self.tba_consumers[consumer_key] = consumer_secret
        self.tba_tokens[token_id] = {"secret": token_secret, "consumer_key": consumer_key}

    # -- token endpoint -----------------------------------------------------------------------

    def token_endpoint(self, req: Req) -> httpx.Response:
        try:
            form = req.form()
            if form.get("grant_type") != "client_credentials":
                if not form.get("grant_type"):
                    raise TokenError("invalid_request", "grant_type is missing")
                raise TokenError("unsupported_grant_type", "Only client_credentials is enabled")
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise TokenError(
                    "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}"
                )
            if not form.get("client_assertion"):
                raise TokenError("invalid_request", "client_assertion is missing")
            claims = self._check_assertion(form["client_assertion"], req)
        except TokenError as exc:
            return json_response(
                exc.status,
                {"error": exc.error, "error_description": exc.description},
                {"Cache-Control": "no-store"},
            )
        return json_response(
            200,
            self.issue(claims["iss"], claims["_scopes"]),
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def issue(self, client_id: str, scopes: list[str]) -> dict[str, Any]:
        now = int(self.sb.clock.time())
        header = {"kid": "s.SYSTEM.2020_1", "typ": "JWT", "alg": "RS256"}
        payload = {
            "sub": f"{self.sb.account_id};{client_id[:8]}",
            "aud": [client_id],
            "scope": scopes,
            "iss": "https://system.netsuite.com",
            "oit": now,
            "exp": now + TOKEN_LIFETIME,
            "iat": now,
            "jti": secrets.token_hex(16),
        }
        token = ".".join(
            [
                base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode(),
                base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode(),
                secrets.token_urlsafe(32),
            ]
        )
        self.tokens[token] = {"client_id": client_id, "exp": now + TOKEN_LIFETIME, "scope": scopes}
        # expires_in as a string: the constant in Oracle's sample (reference §3.1 leaves string
        # vs number unverified); clients should accept both.
        return {"access_token": token, "expires_in": str(TOKEN_LIFETIME), "token_type": "Bearer"}

    def _check_assertion(self, assertion: str, req: Req) -> dict[str, Any]:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise TokenError("invalid_client", "The client assertion is not a signed JWT")
        try:
            header = json.loads(_b64decode(parts[0]))
            claims = json.loads(_b64decode(parts[1]))
            sig = _b64decode(parts[2])
        except (ValueError, binascii.Error):
            raise TokenError("invalid_client", "The client assertion cannot be decoded") from None
        alg = header.get("alg")
        if alg not in ALGS:
            raise TokenError(
                "invalid_client",
                f"Unsupported signing algorithm {alg!r}; use PS256/384/512 or ES256/384/512",
            )
        client_id = claims.get("iss")
        integration = self.integrations.get(client_id or "")
        if integration is None:
            raise TokenError("invalid_client", "Unknown client (iss)")
        key = self._keys.get((client_id, header.get("kid") or ""))
        if key is None:
            raise TokenError(
                "invalid_client", "No certificate with this kid is mapped to the integration"
            )
        if not _verify(key, alg, f"{parts[0]}.{parts[1]}".encode(), sig):
            raise TokenError("invalid_client", "Invalid signature of the client assertion")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        # The real audience is the account's token URL; behind the loopback server the URL the
        # client actually posted to is accepted as well (only the base URL differs).
        seen = f"{req.request.url.scheme}://{req.request.url.netloc.decode()}{req.path}"
        if not ({token_url(self.sb.account_id), seen} & set(map(str, auds))):
            raise TokenError("invalid_client", "Invalid audience (aud)")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            raise TokenError("invalid_client", "iat and exp are required integers")
        now = self.sb.clock.time()
        if exp - iat >= 3600:  # "must be less than 60 minutes after iat" (reference §3.1)
            raise TokenError(
                "invalid_client", "The assertion lifetime (exp - iat) must be less than 60 minutes"
            )
        if exp <= now:
            raise TokenError("invalid_client", "The client assertion has expired")
        if iat > now + 300:
            raise TokenError("invalid_client", "The client assertion is issued in the future")
        scope = claims.get("scope")
        scopes = scope if isinstance(scope, list) else re.split(r"[,\s]+", str(scope or ""))
        scopes = [s for s in scopes if s]
        if not scopes or not set(scopes) <= KNOWN_SCOPES:
            raise TokenError("invalid_scope", f"Invalid scope {scope!r}")
        if not set(scopes) <= set(integration["scopes"]):
            raise TokenError("invalid_scope", "The integration is not enabled for the scope")
        claims["_scopes"] = sorted(scopes)
        return claims

    # -- per request --------------------------------------------------------------------------

    def check(self, req: Req) -> None:
        header = req.headers.get("authorization", "")
        if self.sb.faults.revoke_tokens:
            raise invalid_login(self.sb.account_id, bearer=not header.startswith("OAuth "))
        if header.startswith("Bearer "):
            token = self.tokens.get(header[7:].strip())
            if (
                token is None
                or token["exp"] <= self.sb.clock.time()
                or "rest_webservices" not in token["scope"]
            ):
                raise invalid_login(self.sb.account_id)
            return
        if header.startswith("OAuth "):
            if not self._check_tba(req, header[6:]):
                raise invalid_login(self.sb.account_id, bearer=False)
            return
        raise invalid_login(self.sb.account_id)

    def _check_tba(self, req: Req, raw: str) -> bool:
        params: dict[str, str] = {}
        for key, value in re.findall(r'([\w]+)="([^"]*)"', raw):
            params[key] = unquote(value)
        if (
            params.get("realm", "").upper() != self.sb.account_id.upper()
            or params.get("oauth_signature_method") != "HMAC-SHA256"
            or params.get("oauth_version", "1.0") != "1.0"
        ):
            return False
        consumer_secret = self.tba_consumers.get(params.get("oauth_consumer_key", ""))
        token = self.tba_tokens.get(params.get("oauth_token", ""))
        if consumer_secret is None or token is None:
            return False
        if token["consumer_key"] != params["oauth_consumer_key"]:
            return False
        try:
            stamp = int(params.get("oauth_timestamp", ""))
        except ValueError:
            return False
        now = self.sb.clock.time()
        if abs(now - stamp) > TBA_WINDOW:
            return False
        nonce_key = f"{params['oauth_token']}:{params.get('oauth_nonce', '')}"
        if not params.get("oauth_nonce") or nonce_key in self.nonces:
            return False
        url = req.request.url
        pairs = [(k, v) for k, v in params.items() if k not in ("realm", "oauth_signature")]
        pairs += parse_qsl(url.query.decode(), keep_blank_values=True)
        if req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            pairs += parse_qsl(req.body.decode(), keep_blank_values=True)

        def enc(v: str) -> str:
            return quote(v, safe="~-._")

        norm = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in pairs))
        port = url.port
        default = {"http": 80, "https": 443}.get(url.scheme)
        host = url.host.lower() + (f":{port}" if port and port != default else "")
        base = "&".join([req.method.upper(), enc(f"{url.scheme}://{host}{url.path}"), enc(norm)])
        key = f"{enc(consumer_secret)}&{enc(token['secret'])}"
        expected = base64.b64encode(
            hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
            return False
        self.nonces[nonce_key] = now
        if len(self.nonces) > 10000:
            horizon = now - TBA_WINDOW
            self.nonces = {k: t for k, t in self.nonces.items() if t > horizon}
        return True

    # -- persistence --------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        return {
            "integrations": self.integrations,
            "tokens": self.tokens,
            "tba_consumers": self.tba_consumers,
            "tba_tokens": self.tba_tokens,
            "nonces": self.nonces,
        }

    def load(self, data: dict[str, Any]) -> None:
        self.integrations = {}
        self._keys = {}
        for client_id, entry in data.get("integrations", {}).items():
            self.register_integration(client_id, entry.get("scopes", ()), entry.get("name", ""))
            for cert_id, pem in entry.get("certificates", {}).items():
                self.register_certificate(client_id, cert_id, pem)
        self.tokens = {k: {**v, "exp": int(v["exp"])} for k, v in data.get("tokens", {}).items()}
        self.tba_consumers = dict(data.get("tba_consumers", {}))
        self.tba_tokens = dict(data.get("tba_tokens", {}))
        self.nonces = {k: float(v) for k, v in data.get("nonces", {}).items()}
