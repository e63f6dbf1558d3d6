"""OAuth 2.0 (§1): authorization code (+ PKCE when sent), rotating refresh tokens, client
credentials (DMSA), token info and revoke. State lives in Store collections that start with
``_`` so save/load carries it: ``_oauth_apps`` (by client id), ``_codes``, ``_access``,
``_refresh`` (by token string).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx

from sandboxes.core import BadJson, Req

from .errors import oauth_error, pjson

DEMO_CLIENT_ID = "erpbridge-demo-procore"
DEMO_CLIENT_SECRET = "erpbridge-demo-procore-secret"
DEMO_REDIRECT_URI = "http://127.0.0.1:8000/connections/procore/callback"
OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"  # headless apps (§1.2)
DEMO_USER_ID = 5447
DEMO_USER_LOGIN = "pm@summit-builders.example"
ACCESS_TOKEN_TTL = 5400  # §1.3: 90 minutes
CODE_TTL = 600  # §1.2: single use, 10 minutes

_INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
_INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method."
)


class AuthMixin:
    store: Any
    clock: Any
    faults: Any

    def _auth_routes(self) -> None:
        self.api("GET", "/oauth/authorize", self._authorize, write=False)
        self.api("POST", "/oauth/token", self._token, write=False)
        self.api("GET", "/oauth/token/info", self._token_info, write=False)
        self.api("POST", "/oauth/revoke", self._revoke, write=False)

    # -- setup -------------------------------------------------------------------------------

    def add_user(self, name: str, login: str, user_id: int | None = None) -> dict[str, Any]:
        uid = user_id or self.new_id()
        user = {"id": uid, "login": login, "name": name}
        self.store.collection("users")[str(uid)] = user
        return user

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str] | tuple[str, ...] = (),
        *,
        name: str = "erpbridge",
        companies: list[int] | None = None,
    ) -> dict[str, Any]:
        """An app from the Developer Portal. ``companies``: where it is installed (the DMSA
        sees only those, §1.4); None means every company in the sandbox."""
        app_id = self.new_id()
        dmsa = self.add_user(f"{name} (Service Account)", f"{client_id}@dmsa.procore.invalid")
        app = {
            "id": app_id,
            "name": name,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris) + [OOB_REDIRECT_URI],
            "companies": None if companies is None else [int(c) for c in companies],
            "service_account_user_id": dmsa["id"],
        }
        self.store.collection("_oauth_apps")[client_id] = app
        return app

    def install_app(self, client_id: str, company_id: int) -> None:
        app = self.store.get("_oauth_apps", client_id)
        if app["companies"] is not None and int(company_id) not in app["companies"]:
            app["companies"].append(int(company_id))

    def _install_defaults(self) -> None:
        self.add_user("Demo Project Manager", DEMO_USER_LOGIN, DEMO_USER_ID)
        self.register_app(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, [DEMO_REDIRECT_URI])

    # -- tokens ------------------------------------------------------------------------------

    def _issue(self, app: dict[str, Any], user_id: int, grant: str) -> dict[str, Any]:
        now = self.clock.time()
        access = "eyJ" + secrets.token_urlsafe(40)
        refresh = None if grant == "client_credentials" else secrets.token_hex(32)
        self.store.collection("_access")[access] = {
            "token": access,
            "client_id": app["client_id"],
            "user_id": user_id,
            "grant": grant,
            "created_at": now,
            "refresh_token": refresh,
            "revoked": False,
        }
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL,
            "created_at": int(now),
        }
        if refresh:
            self.store.collection("_refresh")[refresh] = {
                "token": refresh,
                "access_token": access,
                "client_id": app["client_id"],
                "user_id": user_id,
                "grant": grant,
                "used": False,
            }
            body["refresh_token"] = refresh
        return body

    def issue_token_for_tests(self, client_id: str = DEMO_CLIENT_ID, *, user: bool = False) -> str:
        """An access token without the HTTP dance: the DMSA's, or the demo user's."""
        app = self.store.get("_oauth_apps", client_id)
        if user:
            return self._issue(app, DEMO_USER_ID, "authorization_code")["access_token"]
        return self._issue(app, app["service_account_user_id"], "client_credentials")[
            "access_token"
        ]

    def check_bearer(self, req: Req) -> dict[str, Any] | None:
        header = req.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        token = self.store.get("_access", header[7:].strip())
        if token is None or token["revoked"] or self.faults.revoke_tokens:
            return None
        if self.clock.time() >= token["created_at"] + ACCESS_TOKEN_TTL:
            return None
        return token

    # -- endpoints ---------------------------------------------------------------------------

    def _authorize(self, req: Req) -> httpx.Response:
        """Login + consent happen at once: the sandbox user (``login=`` picks another) approves."""
        app = self.store.get("_oauth_apps", req.arg("client_id") or "")
        redirect_uri = req.arg("redirect_uri") or ""
        if app is None:
            return oauth_error(401, "invalid_client", _INVALID_CLIENT)
        if redirect_uri not in app["redirect_uris"]:
            return oauth_error(
                400,
                "invalid_redirect_uri",
                "The requested redirect uri is malformed or doesn't match client redirect URI.",
            )
        state = req.arg("state")
        params: dict[str, str] = {}
        if req.arg("response_type") != "code":
            params["error"] = "unsupported_response_type"
        method = req.arg("code_challenge_method") or ("plain" if req.arg("code_challenge") else "")
        if method and method not in ("S256", "plain"):
            params["error"] = "invalid_request"
        if "error" not in params:
            user_id = DEMO_USER_ID
            login = req.arg("login")
            if login:
                match = [u for u in self.store.all("users") if u["login"] == login]
                if match:
                    user_id = match[0]["id"]
            code = secrets.token_hex(32)
            self.store.collection("_codes")[code] = {
                "code": code,
                "client_id": app["client_id"],
                "redirect_uri": redirect_uri,
                "user_id": user_id,
                "expires_at": self.clock.time() + CODE_TTL,
                "challenge": req.arg("code_challenge"),
                "method": method or None,
            }
            params["code"] = code
        if state is not None:
            params["state"] = state
        if redirect_uri == OOB_REDIRECT_URI:
            return pjson(200, params)
        sep = "&" if "?" in redirect_uri else "?"
        return httpx.Response(302, headers={"Location": redirect_uri + sep + urlencode(params)})

    def _client(self, req: Req, form: dict[str, str]) -> dict[str, Any] | None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return None
        app = self.store.get("_oauth_apps", client_id or "")
        if app is None or not hmac.compare_digest(app["client_secret"], secret or ""):
            return None
        return app

    def _form(self, req: Req) -> dict[str, str]:
        # §1.2: form-encoded; the DMSA guide also shows a JSON body.
        if "json" in req.headers.get("content-type", ""):
            try:
                data = req.json() or {}
            except BadJson:
                return {}
            return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        return req.form()

    def _token(self, req: Req) -> httpx.Response:
        form = self._form(req)
        grant = form.get("grant_type")
        if grant not in ("authorization_code", "refresh_token", "client_credentials"):
            return oauth_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        app = self._client(req, form)
        if app is None:
            return oauth_error(401, "invalid_client", _INVALID_CLIENT)
        if grant == "client_credentials":
            user = app["service_account_user_id"]
            return pjson(200, self._issue(app, user, "client_credentials"))
        if grant == "refresh_token":
            rec = self.store.get("_refresh", form.get("refresh_token", ""))
            if rec is None or rec["used"] or rec["client_id"] != app["client_id"]:
                return oauth_error(400, "invalid_grant", "The refresh token is invalid")
            # Single use (§1.3): dead as soon as it is presented, even if this answer is lost.
            # The access token issued with it stays valid until it expires (not documented
            # either way; killing it would make a lost refresh answer even costlier).
            rec["used"] = True
            return pjson(200, self._issue(app, rec["user_id"], rec["grant"]))
        code = self.store.collection("_codes").pop(form.get("code", ""), None)  # single use
        if (
            code is None
            or code["client_id"] != app["client_id"]
            or code["expires_at"] <= self.clock.time()
            or code["redirect_uri"] != form.get("redirect_uri", code["redirect_uri"])
        ):
            return oauth_error(400, "invalid_grant", _INVALID_GRANT)
        if code["challenge"]:
            verifier = form.get("code_verifier", "")
            if code["method"] == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not verifier or not hmac.compare_digest(verifier, code["challenge"]):
                return oauth_error(400, "invalid_grant", _INVALID_GRANT)
        return pjson(200, self._issue(app, code["user_id"], "authorization_code"))

    def _token_info(self, req: Req) -> httpx.Response:
        token = self.check_bearer(req)
        if token is None:
            from .errors import unauthorized

            return unauthorized()
        left = int(token["created_at"] + ACCESS_TOKEN_TTL - self.clock.time())
        return pjson(
            200,
            {
                "resource_owner_id": token["user_id"],
                "scopes": [],
                "expires_in_seconds": left,
                "application": {"uid": token["client_id"]},
                "created_at": int(token["created_at"]),
            },
        )

    def _revoke(self, req: Req) -> httpx.Response:
        """§1.2: 200 even for an unknown token; revokes the access and refresh token together."""
        form = self._form(req)
        value = form.get("token", "")
        access = self.store.get("_access", value)
        refresh = self.store.get("_refresh", value)
        if refresh is not None:
            access = self.store.get("_access", refresh["access_token"])
        if access is not None:
            access["revoked"] = True
            if access.get("refresh_token"):
                refresh = self.store.get("_refresh", access["refresh_token"])
        if refresh is not None:
            refresh["used"] = True
        return pjson(200, {})
