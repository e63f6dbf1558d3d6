"""OAuth 2.0 authorization-code flow, Intuit style (quickbooks-api.md §2).

* ``GET /connect/oauth2`` (appcenter.intuit.com) redirects back to the registered redirect URI with
  ``code``, ``state`` and ``realmId``.
* ``POST /oauth2/v1/tokens/bearer`` (oauth.platform.intuit.com): ``authorization_code`` and
  ``refresh_token`` grants; client auth by HTTP Basic (``client_secret_post`` is accepted too, the
  discovery document lists both). Access tokens live 3600 s; refresh tokens 100 days, rolling.
* ``POST /v2/oauth2/tokens/revoke`` (developer.api.intuit.com): JSON ``{"token": ...}``, Basic auth.
* Token-endpoint failures: 400 ``{"error": "invalid_grant"}`` for an expired, revoked or
  rotated-away refresh token or a used/expired code; 401 ``{"error": "invalid_client"}``.

Rotation (the reference: "the refresh response can return a new refresh token value; always
persist the latest", the FAQ says the value changes about every 24 h, and a rotated-away token
gets ``invalid_grant``): a refresh returns a new value once the current one is
``refresh_rotation_seconds`` old and the old value dies at once. The default 0 rotates on every
refresh, the strictest case a client must handle; 86400 reproduces the FAQ's cadence.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx

from ..core import Req, json_response, text_response
from .constants import DEMO_CLIENT_ID
from .errors import gateway_fault

ACCESS_TTL = 3600  # §2: access token 60 minutes
REFRESH_TTL = 100 * 86400  # §2: 100 days rolling
CODE_TTL = 300  # reference silent; 5 minutes, typical of authorization codes
SCOPE_ACCOUNTING = "com.intuit.quickbooks.accounting"
KNOWN_SCOPES = {
    SCOPE_ACCOUNTING,
    "com.intuit.quickbooks.payment",
    "openid",
    "profile",
    "email",
    "phone",
    "address",
}


def _oauth_error(status: int, error: str, description: str | None = None) -> httpx.Response:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(status, body)


class AuthMixin:
    """Apps, authorization codes, grants (one per connected company) and tokens."""

    refresh_rotation_seconds: float = 0.0

    def _init_auth(self) -> None:
        self.apps: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.grants: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, str] = {}  # live refresh token -> grant id

    def _auth_routes(self) -> None:
        self.route("GET", "/connect/oauth2", self._authorize, write=False)
        self.route("POST", "/oauth2/v1/tokens/bearer", self._token, write=False)
        self.route("POST", "/v2/oauth2/tokens/revoke", self._revoke, write=False)

    # -- public helpers --------------------------------------------------------------------------

    def register_app(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.apps[client_id] = {"secret": client_secret, "redirect_uris": list(redirect_uris)}

    def issue_token_for_tests(
        self, client_id: str | None = None, realm_id: str | None = None
    ) -> dict[str, Any]:
        """A token response as the token endpoint would give it, without the browser dance."""
        client_id = client_id or DEMO_CLIENT_ID
        realm = realm_id or self.default_realm
        return self._new_grant(client_id, realm, SCOPE_ACCOUNTING)

    def authorization_code_for_tests(
        self, client_id: str, redirect_uri: str, realm_id: str | None = None
    ) -> str:
        return self._new_code(client_id, redirect_uri, SCOPE_ACCOUNTING, realm_id)

    # -- internals -------------------------------------------------------------------------------

    def _new_code(self, client_id: str, redirect_uri: str, scope: str, realm: str | None) -> str:
        code = "AB1" + secrets.token_urlsafe(36)
        self.codes[code] = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "realm": realm or self.default_realm,
            "exp": self.clock.time() + CODE_TTL,
        }
        return code

    def _new_grant(self, client_id: str, realm: str, scope: str) -> dict[str, Any]:
        gid = secrets.token_hex(8)
        now = self.clock.time()
        refresh = "AB11" + secrets.token_urlsafe(36)
        self.grants[gid] = {
            "client_id": client_id,
            "realm": realm,
            "scope": scope,
            "refresh": refresh,
            "refresh_issued": now,
            "refresh_exp": now + REFRESH_TTL,
        }
        self.refresh_tokens[refresh] = gid
        return self._token_body(gid)

    def _token_body(self, gid: str) -> dict[str, Any]:
        grant = self.grants[gid]
        now = self.clock.time()
        access = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.." + secrets.token_urlsafe(48)
        self.access_tokens[access] = {"grant": gid, "exp": now + ACCESS_TTL}
        return {
            "token_type": "bearer",
            "expires_in": ACCESS_TTL,
            "refresh_token": grant["refresh"],
            "x_refresh_token_expires_in": round(grant["refresh_exp"] - now),
            "access_token": access,
        }

    def _client_auth(self, req: Req, form: dict[str, str]) -> str | None:
        header = req.headers.get("authorization", "")
        client_id = secret = None
        if header.lower().startswith("basic "):
            try:
                raw = base64.b64decode(header[6:].strip()).decode()
                client_id, _, secret = raw.partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
        elif "client_id" in form:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        app = self.apps.get(client_id or "")
        if app is None or not secrets.compare_digest(app["secret"], secret or ""):
            return None
        return client_id

    def _authorize(self, req: Req) -> httpx.Response:
        client_id = req.arg("client_id", "")
        redirect_uri = req.arg("redirect_uri", "")
        app = self.apps.get(client_id)
        if app is None:
            return text_response(400, "invalid client_id")
        if redirect_uri not in app["redirect_uris"]:
            return text_response(400, "The redirect_uri is not registered for this app")
        state = req.arg("state")
        extra = {"state": state} if state is not None else {}
        scope = req.arg("scope", "")
        scopes = set(scope.split())
        if req.arg("response_type") != "code":
            qs = urlencode({"error": "unsupported_response_type", **extra})
            return httpx.Response(302, headers={"Location": f"{redirect_uri}?{qs}"})
        if not scopes or not scopes <= KNOWN_SCOPES:
            qs = urlencode({"error": "invalid_scope", **extra})
            return httpx.Response(302, headers={"Location": f"{redirect_uri}?{qs}"})
        # The user picks a company on Intuit's consent page; the sandbox takes ``realmId`` as a
        # hint (non-standard) or the default company.
        realm = req.arg("realmId") or self.default_realm
        if realm not in self.companies:
            return text_response(400, "unknown company")
        code = self._new_code(client_id, redirect_uri, scope, realm)
        params = {"code": code, **extra}
        if scopes & {SCOPE_ACCOUNTING, "com.intuit.quickbooks.payment"}:
            params["realmId"] = realm  # §2 step 2: realmId only for accounting/payments scopes
        return httpx.Response(302, headers={"Location": f"{redirect_uri}?{urlencode(params)}"})

    def _token(self, req: Req) -> httpx.Response:
        form = req.form()
        client_id = self._client_auth(req, form)
        if client_id is None:
            return _oauth_error(401, "invalid_client")
        grant_type = form.get("grant_type")
        now = self.clock.time()
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if (
                code is None
                or code["exp"] < now
                or code["client_id"] != client_id
                or code["redirect_uri"] != form.get("redirect_uri")
            ):
                return _oauth_error(400, "invalid_grant")
            return json_response(200, self._new_grant(client_id, code["realm"], code["scope"]))
        if grant_type == "refresh_token":
            old = form.get("refresh_token", "")
            gid = self.refresh_tokens.get(old)
            grant = self.grants.get(gid or "")
            if (
                grant is None
                or grant["client_id"] != client_id
                or grant["refresh_exp"] < now
                or self.faults.revoke_tokens
            ):
                return _oauth_error(400, "invalid_grant")
            if now - grant["refresh_issued"] >= self.refresh_rotation_seconds:
                del self.refresh_tokens[old]  # the rotated-away value dies (§2: invalid_grant)
                grant["refresh"] = "AB11" + secrets.token_urlsafe(36)
                grant["refresh_issued"] = now
                self.refresh_tokens[grant["refresh"]] = gid
            grant["refresh_exp"] = now + REFRESH_TTL  # 100 days, rolling
            return json_response(200, self._token_body(gid))
        return _oauth_error(400, "unsupported_grant_type")

    def _revoke(self, req: Req) -> httpx.Response:
        client_id = self._client_auth(req, {})
        if client_id is None:
            return _oauth_error(401, "invalid_client")
        try:
            token = (req.json() or {}).get("token", "")
        except ValueError:
            return _oauth_error(400, "invalid_request")
        gid = self.refresh_tokens.get(token) or (self.access_tokens.get(token) or {}).get("grant")
        if gid and self.grants.get(gid, {}).get("client_id") == client_id:
            self.revoke_grant(gid)
        return httpx.Response(200)

    def revoke_grant(self, gid: str) -> None:
        """Disconnect: the grant's refresh token and every access token it issued die."""
        grant = self.grants.pop(gid, None)
        if grant:
            self.refresh_tokens.pop(grant["refresh"], None)
        for token in [t for t, info in self.access_tokens.items() if info["grant"] == gid]:
            del self.access_tokens[token]

    def authenticate(self, req: Req, realm: str) -> tuple[dict | None, httpx.Response | None]:
        """Check the bearer token for ``realm``; returns (grant, None) or (None, 401/403)."""
        epoch_ms = int(self.clock.time() * 1000)
        header = req.headers.get("authorization", "")
        if header[:7].lower() != "bearer ":
            return None, gateway_fault(401, "Authorization header missing or not Bearer", epoch_ms)
        token = header[7:].strip()
        info = self.access_tokens.get(token)
        if info is None or self.faults.revoke_tokens:
            if len(token) < 20:
                return None, gateway_fault(
                    401, "Malformed bearer token: too short or too long", epoch_ms
                )
            return None, gateway_fault(401, f"Token revoked or invalid: {token[:24]}", epoch_ms)
        if info["exp"] <= self.clock.time():
            return None, gateway_fault(401, f"Token expired: {token[:24]}", epoch_ms)
        grant = self.grants.get(info["grant"])
        if grant is None:
            return None, gateway_fault(401, f"Token revoked or invalid: {token[:24]}", epoch_ms)
        if grant["realm"] != realm or SCOPE_ACCOUNTING not in grant["scope"].split():
            return None, gateway_fault(403, None, epoch_ms)
        return grant, None

    def _auth_state(self) -> dict[str, Any]:
        return {
            "apps": self.apps,
            "codes": self.codes,
            "grants": self.grants,
            "access_tokens": self.access_tokens,
            "refresh_tokens": self.refresh_tokens,
        }

    def _load_auth_state(self, data: dict[str, Any]) -> None:
        # JSON state parses numbers as Decimal: times go back to float for clock arithmetic.
        self.apps = data.get("apps", self.apps)
        self.codes = {k: {**v, "exp": float(v["exp"])} for k, v in data.get("codes", {}).items()}
        self.grants = {
            k: {
                **v,
                "refresh_issued": float(v["refresh_issued"]),
                "refresh_exp": float(v["refresh_exp"]),
            }
            for k, v in data.get("grants", {}).items()
        }
        self.access_tokens = {
            k: {**v, "exp": float(v["exp"])} for k, v in data.get("access_tokens", {}).items()
        }
        self.refresh_tokens = data.get("refresh_tokens", {})
