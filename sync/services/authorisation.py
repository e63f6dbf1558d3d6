"""Remote calls made on an admin's behalf: the connect flows (Procore, QuickBooks), NetSuite
credentials validated before they are saved, and "Test connection".

Every remote call goes through :mod:`sync.clients` (``clients.auth_transport()`` and
``clients.connection_client``) so tests put the sandboxes behind them. Failures surface as
:class:`ConnectFailed` with a message in plain words; a failure changes nothing.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from connectors.errors import AuthError, ConnectorError, PermissionDenied, TransientError
from connectors.netsuite import validate_credentials
from connectors.procore import auth as procore_auth
from connectors.quickbooks import auth as qbo_auth
from connectors.tokens import with_expiry
from sync import clients
from sync.models import Connection, Kind
from sync.services.connections import _merged_secrets, connection_authorised, connection_save
from sync.services.oauth import oauth_state_consume, oauth_state_start

LABELS = dict(Kind.choices)
# Which NetSuite secrets each authentication method uses; the other method's are dropped.
NETSUITE_METHOD_SECRETS = {
    "m2m": ("private_key_pem",),
    "tba": ("consumer_key", "consumer_secret", "token_id", "token_secret"),
}
PROVIDER_REFUSALS = {
    "access_denied": "the person signing in declined the access request",
    "invalid_scope": "the app asked for a permission the provider does not offer",
    "unsupported_response_type": "the provider does not support this sign-in",
}


class ConnectFailed(Exception):
    def __init__(self, message: str, connection: Connection | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.connection = connection


def plain_error(exc: ConnectorError, kind: str) -> str:
    """A remote failure as a sentence an admin can act on (the system's own words kept)."""
    system = LABELS.get(kind, kind)
    said = exc.message + (f" (code {exc.code})" if exc.code else "")
    if isinstance(exc, AuthError):
        return f"{system} refused the credentials: {said}."
    if isinstance(exc, PermissionDenied):
        return f"{system} accepted the credentials, but the role lacks a permission: {said}."
    if isinstance(exc, TransientError):
        return (
            f"{system} could not be reached or answered with a temporary error: {said}. "
            "Try again in a minute."
        )
    return f"{system} answered with an error: {said}."


# -- the authorisation-code flows ----------------------------------------------------------------


def _values(connection: Connection, site_callback: str) -> dict[str, Any]:
    """Client settings with the redirect URI: the app's registered one, else this site's
    callback. Authorize and exchange must send exactly the same value."""
    values = connection.client_settings()
    values["redirect_uri"] = values.get("redirect_uri") or site_callback
    return values


def connect_start(*, connection: Connection, user, site_callback: str) -> str:
    """Record a new state (and PKCE verifier for Procore); return the provider's authorize URL."""
    values = _values(connection, site_callback)
    if connection.kind == Kind.PROCORE:
        # PKCE S256: the verifier stays server-side (encrypted) until the code comes back.
        verifier = secrets.token_urlsafe(48) if values.get("pkce", True) else ""
        pending = oauth_state_start(connection=connection, user=user, code_verifier=verifier)
        return procore_auth.authorization_url(
            values, state=pending.state, code_verifier=verifier or None
        ).url
    if connection.kind == Kind.QUICKBOOKS:
        # No PKCE: see connectors/quickbooks/auth.py (Intuit advertises none; confidential app).
        pending = oauth_state_start(connection=connection, user=user)
        return qbo_auth.authorization_url(values, pending.state)
    raise ConnectFailed(f"{LABELS[connection.kind]} connections have no sign-in flow.", connection)


def _provider_refusal(params: Mapping[str, str], kind: str, connection: Connection) -> None:
    error = params.get("error")
    if error:
        why = PROVIDER_REFUSALS.get(error, params.get("error_description") or "no reason given")
        raise ConnectFailed(
            f"{LABELS[kind]} did not grant access ({error}: {why}). Nothing was changed.",
            connection,
        )


def connect_finish(*, kind: str, user, params: Mapping[str, str], site_callback: str) -> Connection:
    """The provider sent the browser back: check the state, exchange the code, store the token."""
    pending = oauth_state_consume(state=params.get("state") or "", user=user, kind=kind)
    connection = pending.connection
    _provider_refusal(params, kind, connection)
    values = _values(connection, site_callback)
    transport = clients.auth_transport()
    settings_update: dict[str, Any] = {}
    try:
        if kind == Kind.PROCORE:
            if not params.get("code"):
                raise ConnectFailed("Procore sent no authorisation code. Nothing was changed.")
            token = procore_auth.exchange_code(
                values,
                params["code"],
                code_verifier=pending.code_verifier or None,
                transport=transport,
            )
        else:
            callback = qbo_auth.parse_callback(params, expected_state=pending.state)
            known = connection.settings.get("realm_id")
            if known and known != callback.realm_id:
                raise ConnectFailed(
                    f"This connection belongs to QuickBooks company {known}, but the sign-in "
                    f"chose company {callback.realm_id}. Nothing was changed; sign in again "
                    "and pick the same company, or create a new connection for the other one.",
                    connection,
                )
            token = qbo_auth.exchange_code(values, callback, transport=transport)
            settings_update["realm_id"] = callback.realm_id
    except ConnectorError as exc:
        raise ConnectFailed(
            f"{plain_error(exc, kind)} Nothing was changed; start the connection again.",
            connection,
        ) from exc
    connection_authorised(connection_id=connection.pk, token=token, settings_update=settings_update)
    connection.refresh_from_db()
    return connection


# -- NetSuite: credentials validated before anything is saved ------------------------------------


def netsuite_connection_save(
    *,
    connection: Connection | None,
    name: str,
    settings: dict[str, Any],
    secrets: dict[str, Any],
    procore_connection: Connection | None = None,
) -> Connection:
    """Fetch a token with the credentials as they would be saved; save only if it works."""
    method = settings.get("auth_method") or "m2m"
    stored = connection.secrets if connection else {}
    wanted = NETSUITE_METHOD_SECRETS.get(method, ())
    merged = {
        k: v for k, v in _merged_secrets(Kind.NETSUITE, stored, secrets).items() if k in wanted
    }
    values = {**{k: v for k, v in settings.items() if v not in (None, "")}, **merged}
    try:
        token = validate_credentials(values, transport=clients.auth_transport())
    except ConnectorError as exc:
        raise ConnectFailed(f"{plain_error(exc, Kind.NETSUITE)} Nothing was saved.") from exc
    with transaction.atomic():
        if connection is not None:
            # Drop the other method's secrets, then apply the form's (blank keeps).
            connection.secrets_encrypted = ""
        saved = connection_save(
            connection=connection,
            kind=Kind.NETSUITE,
            name=name,
            settings=settings,
            secrets=merged,
            procore_connection=procore_connection,
        )
        if token is not None:
            token = with_expiry(token, time.time())
        connection_authorised(connection_id=saved.pk, token=token)
    saved.refresh_from_db()
    return saved


# -- Test connection ----------------------------------------------------------------------------


def connection_test(*, connection: Connection) -> str:
    """Prove the stored credentials work; mark the connection healthy and say what was seen."""
    transport = clients.auth_transport()
    values = connection.client_settings()
    try:
        if connection.kind == Kind.NETSUITE:
            token = validate_credentials(values, transport=transport)
            if token is not None:
                token = with_expiry(token, time.time())
            connection_authorised(connection_id=connection.pk, token=token)
            return "NetSuite accepted the credentials."
        if connection.kind == Kind.PROCORE and values.get("grant") == "client_credentials":
            # A fresh grant proves the client id and secret, whatever token is stored.
            token = with_expiry(
                procore_auth.client_credentials(values, transport=transport), time.time()
            )
            Connection.objects.filter(pk=connection.pk).update(token_encrypted=json.dumps(token))
        client = clients.connection_client(connection, transport=transport, allow_reauth=True)
        with client:
            if connection.kind == Kind.PROCORE:
                seen = [f"{c.name} ({c.id})" for c in client.companies()]
                summary = "Procore answered; the service account sees " + (
                    ", ".join(seen) if seen else "no company yet (install the app in one)"
                )
            else:
                info = client.company_info()
                summary = f"QuickBooks answered for {info.company_name}"
    except ConnectorError as exc:
        raise ConnectFailed(plain_error(exc, connection.kind), connection) from exc
    connection_authorised(connection_id=connection.pk, token=None)
    return summary + "."
