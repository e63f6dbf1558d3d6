"""Intuit OAuth 2.0 (authorization code) for QuickBooks Online, with Authlib on httpx.

quickbooks-api.md §2: authorize at ``auth_url`` (appcenter.intuit.com/connect/oauth2) with
``state``; the callback brings ``code``, ``state`` and ``realmId``; the code is exchanged at
``token_url`` with HTTP Basic client auth; refresh tokens rotate ("always persist the latest")
and a dead one answers 400 ``invalid_grant``; revoke is a JSON ``{"token": …}`` POST.

PKCE: not sent. Intuit's discovery document (§2) advertises no
``code_challenge_methods_supported``, Intuit's own client (intuit-oauth ``get_authorization_url``)
sends none, and our app is a confidential client that authenticates the exchange with its
secret; ``state`` (random, compared in constant time) protects the redirect against CSRF.

Settings used: ``auth_url``, ``token_url``, ``revoke_url``, ``client_id``, ``client_secret``,
``redirect_uri`` and optionally ``scope`` (default: the accounting scope).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from authlib.integrations.httpx_client import OAuth2Client, OAuthError

from ..errors import AuthError, ConnectorError, Exchange, TransientError
from ..http import tls_context
from ..tokens import Token
from .errors import SYSTEM, classify

SCOPE_ACCOUNTING = "com.intuit.quickbooks.accounting"
# Intuit's production endpoints (§2 discovery document); a Connection's settings override them
# (the sandbox's in the demo and tests).
DEFAULT_URLS = {
    "auth_url": "https://appcenter.intuit.com/connect/oauth2",
    "token_url": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    "revoke_url": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
}
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def _url(settings: Mapping[str, Any], key: str) -> str:
    return settings.get(key) or DEFAULT_URLS[key]


def oauth_client(
    settings: Mapping[str, Any], transport: httpx.BaseTransport | None = None
) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings["client_id"],
        client_secret=settings.get("client_secret"),
        redirect_uri=settings.get("redirect_uri"),
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name; §2: Basic
        transport=transport,
        timeout=TIMEOUT,
    )


def new_state() -> str:
    return secrets.token_urlsafe(32)


def authorization_url(settings: Mapping[str, Any], state: str) -> str:
    """Where the admin's browser goes to connect a company (the "Connect QuickBooks" page)."""
    with oauth_client(settings) as client:
        url, _ = client.create_authorization_url(
            _url(settings, "auth_url"),
            state=state,
            scope=settings.get("scope") or SCOPE_ACCOUNTING,
        )
    return url


@dataclass(frozen=True)
class Callback:
    code: str
    state: str
    realm_id: str


def parse_callback(url_or_query: str | Mapping[str, str], expected_state: str) -> Callback:
    """Check the redirect back from Intuit; raise :class:`AuthError` when it is not ours."""
    if isinstance(url_or_query, str):
        query = url_or_query.split("?", 1)[1] if "?" in url_or_query else url_or_query
        if "://" in url_or_query:
            query = urlsplit(url_or_query).query
        params = dict(parse_qsl(query, keep_blank_values=True))
    else:
        params = dict(url_or_query)
    state = params.get("state") or ""
    if not expected_state or not secrets.compare_digest(state, expected_state):
        raise AuthError(
            "the callback's state does not match this session", system=SYSTEM, code="state_mismatch"
        )
    if params.get("error"):
        raise AuthError(
            f"authorization refused: {params['error']}", system=SYSTEM, code=params["error"]
        )
    if not params.get("code"):
        raise AuthError("the callback carries no code", system=SYSTEM, code="invalid_request")
    if not params.get("realmId"):
        # §2 step 2: realmId comes only with the accounting/payments scopes.
        raise AuthError("the callback carries no realmId", system=SYSTEM, code="invalid_request")
    return Callback(params["code"], state, params["realmId"])


def _token_call(call: Callable[[], Any]) -> Any:
    """Run one token-endpoint call; translate its failures into the families."""
    try:
        return call()
    except OAuthError as exc:
        # 400 invalid_grant: the code or refresh token is used, expired, revoked or rotated
        # away; 401 invalid_client: wrong app credentials. Either way a person must reconnect.
        raise AuthError(
            f"token endpoint refused: {exc.error}", system=SYSTEM, code=str(exc.error)
        ) from exc
    except httpx.HTTPStatusError as exc:
        error = classify(exc.response, Exchange.capture(exc.request, exc.response))
        raise (error or TransientError(str(exc), system=SYSTEM)) from exc
    except httpx.TransportError as exc:
        raise TransientError(
            f"token endpoint unreachable ({type(exc).__name__})", system=SYSTEM
        ) from exc
    except ValueError as exc:  # a body that is not a JSON object with a 2xx/4xx status
        raise TransientError(f"token endpoint answered garbage: {exc}", system=SYSTEM) from exc


def _plain(token: Mapping[str, Any]) -> Token:
    keep = (
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "x_refresh_token_expires_in",
        "expires_at",
        "id_token",
        "realm_id",
    )
    return {k: token[k] for k in keep if k in token and token[k] is not None}


def exchange_code(
    settings: Mapping[str, Any],
    callback: Callback,
    transport: httpx.BaseTransport | None = None,
) -> Token:
    """Trade the callback's code for tokens; the result also carries ``realm_id``."""
    with oauth_client(settings, transport) as client:
        token = _token_call(
            lambda: client.fetch_token(
                _url(settings, "token_url"),
                grant_type="authorization_code",
                code=callback.code,
                redirect_uri=settings.get("redirect_uri"),
            )
        )
    result = _plain(token)
    result["realm_id"] = callback.realm_id
    return result


def refresher(
    settings: Mapping[str, Any], transport: httpx.BaseTransport | None = None
) -> Callable[[Token | None], Token]:
    """The ``fetch`` for :class:`connectors.tokens.TokenManager`: a refresh-token grant.

    QBO's refresh answer carries a new refresh token whenever Intuit rotated it; the manager
    saves whatever comes back (and keeps the old value only if none came), under the store's
    lock, so the newest value is always the one persisted.
    """

    def fetch(current: Token | None) -> Token:
        refresh_token = (current or {}).get("refresh_token")
        if not refresh_token:
            raise AuthError(
                "no refresh token: connect QuickBooks again", system=SYSTEM, code="no_refresh_token"
            )
        with oauth_client(settings, transport) as client:
            token = _token_call(
                lambda: client.refresh_token(
                    _url(settings, "token_url"), refresh_token=refresh_token
                )
            )
        result = _plain(token)
        result.pop("expires_at", None)  # the manager stamps it from expires_in, on its clock
        if current and current.get("realm_id"):
            result["realm_id"] = current["realm_id"]
        return result

    return fetch


def revoke(
    settings: Mapping[str, Any], token: str, transport: httpx.BaseTransport | None = None
) -> None:
    """Disconnect: revoke a refresh (or access) token. Intuit wants a JSON body (§2 step 5),
    not RFC 7009's form body that Authlib's ``revoke_token`` sends, so this posts it directly
    with Basic auth."""
    auth = httpx.BasicAuth(settings["client_id"], settings.get("client_secret") or "")
    with httpx.Client(transport=transport, timeout=TIMEOUT, verify=tls_context()) as client:
        request = client.build_request(
            "POST",
            _url(settings, "revoke_url"),
            json={"token": token},
            headers={"Accept": "application/json"},
        )
        try:
            response = client.send(request, auth=auth)
        except httpx.TransportError as exc:
            raise TransientError(f"revoke endpoint unreachable ({exc})", system=SYSTEM) from exc
        if response.status_code >= 400:
            exchange = Exchange.capture(response.request, response)
            error: ConnectorError | None = classify(response, exchange)
            if response.status_code in (400, 401):
                error = AuthError(
                    "revoke refused", system=SYSTEM, status=response.status_code, exchange=exchange
                )
            raise error or TransientError("revoke failed", system=SYSTEM)
