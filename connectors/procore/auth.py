"""Procore OAuth 2.0 (reference §1) with Authlib on httpx.

Two grants, chosen by ``settings["grant"]``:

* ``authorization_code`` — a user-installed app. The admin's "Connect Procore" page calls
  :func:`authorization_url` (``state`` + PKCE S256) and, on the callback, :func:`exchange_code`.
  Refresh tokens are **single-use and rotating** ("invalid as soon as it is used, even if the
  response is lost", §1.3), so a refresh only ever runs inside ``TokenManager.refresh`` (lock,
  re-read, refresh only if still needed, save) and is never retried blindly.
* ``client_credentials`` — a DMSA service account (§1.4; required for ERP integrators). The
  documented response has no refresh token, so an expired token is replaced by running the
  grant again (safe to repeat).

PKCE: the reference is silent on whether Procore's login host supports it. RFC 6749 §3.1 says an
authorization server "MUST ignore unrecognized request parameters", so sending
``code_challenge``/``code_verifier`` is harmless where unsupported and protects the code where it
is; ``settings["pkce"] = False`` turns it off.

Token requests are form-encoded with the client credentials in the body (``client_secret_post``),
the shape of every example in the reference (§1.2 "curl -F" / x-www-form-urlencoded).
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.errors import (
    AuthError,
    ConnectorError,
    Exchange,
    OutcomeUnknown,
    TransientError,
)
from connectors.tokens import Token, with_expiry

from .errors import SYSTEM, classify_oauth

with warnings.catch_warnings():
    # Authlib >= 1.8 warns that it prefers the httpx2 fork; we pin httpx (libraries.md).
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

GRANTS = ("authorization_code", "client_credentials")
DEFAULT_AUTH_BASE = "https://login.procore.com"


@dataclass(frozen=True)
class AuthorizationRequest:
    """What the Connect page keeps in the session until the callback comes back."""

    url: str
    state: str
    code_verifier: str | None


def _auth_base(settings: Mapping[str, Any]) -> str:
    return str(settings.get("auth_base_url") or DEFAULT_AUTH_BASE).rstrip("/")


def _oauth_client(
    settings: Mapping[str, Any],
    transport: httpx.BaseTransport | None,
    *,
    timeout: float = 30.0,
) -> OAuth2Client:
    pkce = settings.get("pkce", True)
    client = OAuth2Client(
        client_id=settings["client_id"],
        client_secret=settings.get("client_secret"),
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        redirect_uri=settings.get("redirect_uri"),
        code_challenge_method="S256" if pkce else None,
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=10.0),
        headers={"Accept": "application/json", "User-Agent": "erpbridge/1.0"},
    )

    def check(response: httpx.Response) -> httpx.Response:
        # Classify refusals ourselves (status + OAuth error code) before Authlib parses the body.
        response.read()
        if response.status_code >= 400:
            raise classify_oauth(response, Exchange.capture(response.request, response))
        return response

    client.register_compliance_hook("access_token_response", check)
    client.register_compliance_hook("refresh_token_response", check)
    return client


def authorization_url(
    settings: Mapping[str, Any],
    *,
    state: str | None = None,
    code_verifier: str | None = None,
) -> AuthorizationRequest:
    """The login host's ``/oauth/authorize`` URL for the admin's browser (§1.2)."""
    pkce = settings.get("pkce", True)
    state = state or secrets.token_urlsafe(24)
    verifier = (code_verifier or secrets.token_urlsafe(48)) if pkce else None
    with _oauth_client(settings, None) as client:
        url, _ = client.create_authorization_url(
            f"{_auth_base(settings)}/oauth/authorize",
            state=state,
            code_verifier=verifier,
        )
    return AuthorizationRequest(url=url, state=state, code_verifier=verifier)


def pkce_challenge(code_verifier: str) -> str:
    return create_s256_code_challenge(code_verifier)


def _call(
    settings: Mapping[str, Any],
    transport: httpx.BaseTransport | None,
    action: Callable[[OAuth2Client], dict[str, Any]],
    *,
    repeatable: bool,
) -> dict[str, Any]:
    """Run one token-endpoint call; transport failures become family errors.

    ``repeatable`` is False for a refresh-token or code exchange: if the answer was lost the
    single-use credential may already be spent, so the caller hears :class:`OutcomeUnknown`
    (the next attempt will learn the truth from the server) instead of a silent retry here.
    """
    with _oauth_client(settings, transport) as client:
        try:
            token = action(client)
        except ConnectorError:
            raise
        except httpx.ConnectError as exc:
            raise TransientError(
                f"cannot reach the Procore login host: {exc}", system=SYSTEM
            ) from exc
        except httpx.TransportError as exc:
            cls = TransientError if repeatable else OutcomeUnknown
            raise cls(
                f"no answer from the Procore login host ({type(exc).__name__})", system=SYSTEM
            ) from exc
        except Exception as exc:  # Authlib's OAuthError or a non-JSON body on a 2xx
            raise AuthError(f"token endpoint answer not understood: {exc}", system=SYSTEM) from exc
    if not isinstance(token, Mapping) or not token.get("access_token"):
        raise AuthError("token endpoint returned no access_token", system=SYSTEM)
    return dict(token)


def exchange_code(
    settings: Mapping[str, Any],
    code: str,
    *,
    code_verifier: str | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> Token:
    """The callback's ``code`` -> the first token (save it in the connection's store)."""
    url = f"{_auth_base(settings)}/oauth/token"
    extra: dict[str, Any] = {}
    if code_verifier:
        extra["code_verifier"] = code_verifier

    def action(client: OAuth2Client) -> dict[str, Any]:
        return client.fetch_token(
            url,
            grant_type="authorization_code",
            code=code,
            redirect_uri=settings.get("redirect_uri"),
            **extra,
        )

    return with_expiry(_call(settings, transport, action, repeatable=False), clock())


def client_credentials(
    settings: Mapping[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
) -> Token:
    url = f"{_auth_base(settings)}/oauth/token"
    return _call(
        settings,
        transport,
        lambda client: client.fetch_token(url, grant_type="client_credentials"),
        repeatable=True,
    )


def refresh(
    settings: Mapping[str, Any],
    refresh_token: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Token:
    url = f"{_auth_base(settings)}/oauth/token"
    return _call(
        settings,
        transport,
        lambda client: client.refresh_token(url, refresh_token=refresh_token),
        repeatable=False,
    )


def token_fetcher(
    settings: Mapping[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
) -> Callable[[Token | None], Token]:
    """The ``fetch`` callable for :class:`connectors.tokens.TokenManager`.

    It is only ever called under the store's lock with the token re-read under that lock.
    """
    grant = settings.get("grant") or "authorization_code"
    if grant not in GRANTS:
        raise ValueError(f"unknown Procore grant {grant!r}; expected one of {GRANTS}")

    def fetch(current: Token | None) -> Token:
        if grant == "client_credentials":
            # No refresh token documented for DMSA tokens: run the grant again.
            return client_credentials(settings, transport=transport)
        refresh_token = (current or {}).get("refresh_token")
        if not refresh_token:
            raise AuthError(
                "no refresh token saved: reconnect Procore", system=SYSTEM, code="no_refresh_token"
            )
        return refresh(settings, refresh_token, transport=transport)

    return fetch


def revoke(
    settings: Mapping[str, Any],
    token: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """POST /oauth/revoke (§1.2): kills the access *and* refresh token; 200 even if invalid."""
    url = f"{_auth_base(settings)}/oauth/revoke"
    data = {
        "token": token,
        "client_id": settings["client_id"],
        "client_secret": settings.get("client_secret") or "",
    }
    with _oauth_client(settings, transport) as client:
        try:
            response = client.request("POST", url, withhold_token=True, data=data)
        except httpx.TransportError as exc:
            raise TransientError(
                f"revoke not confirmed ({type(exc).__name__})", system=SYSTEM
            ) from exc
        if response.status_code >= 400:
            raise classify_oauth(response, Exchange.capture(response.request, response))
