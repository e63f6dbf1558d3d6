"""Procore error bodies and the JSON encoder (money leaves as decimal strings).

Error shapes (reference §4 says only that v1.x 4xx bodies "often contain a `message` or `errors`
field"; no exact v1 JSON body is documented). Decisions, kept consistent everywhere:

* 401/403/404/400 on the REST API: ``{"errors": "<message>"}``, the shape Procore's own Ruby SDK
  stubs (`{"errors":"Unauthorized"}`, [RUBY] test/procore/requestable_test.rb).  401 also sends
  ``WWW-Authenticate: Bearer ... error="invalid_token"`` with the documented message
  "The access token is invalid" (§1.3, troubleshooting page).
* 422 (business rule): ``{"errors": {"<field>": ["<message>", ...]}}``, the per-field map the
  documented sync-action errors use (§4 "using_sync_actions").
* /oauth/token: RFC 6749 §5.2 ``{"error": ..., "error_description": ...}`` (Procore's login
  service is a standard OAuth 2 server; the descriptions use the doc's strings).
* 429: plain text "You have surpassed the max number of requests for an hour. Please wait until
  your limit resets." (§3; whether it is JSON is unverified) plus ``Retry-After``.
* 5xx: ``{"errors": "Service Unavailable"}`` plus ``Retry-After`` (§3 "503 with Retry-After").
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import isoformat_z

RATE_LIMIT_TEXT = " ".join(
    [
        "You have surpassed the max number of requests for an hour.",
        "Please wait until your limit resets.",
    ]
)
INVALID_TOKEN = "The access token is invalid"
MISSING_COMPANY = "Missing Procore-Company-Id header!"
NOT_CONNECTED = "App is not connected to this company"


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            # §5: "Money fields in commitment / requisition / payment JSON are decimal strings".
            return str(o)
        if isinstance(o, datetime):
            return isoformat_z(o)
        return super().default(o)


def pdumps(data: Any) -> bytes:
    return json.dumps(data, cls=_Encoder, separators=(",", ":")).encode()


def pjson(status: int, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    hdrs = {"content-type": "application/json; charset=utf-8"}
    if headers:
        hdrs.update(headers)
    return httpx.Response(status, content=pdumps(data), headers=hdrs)


class ApiError(Exception):
    """Raised inside a handler; the route wrapper turns it into the response."""

    def __init__(self, status: int, errors: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> httpx.Response:
        return pjson(self.status, {"errors": self.errors}, self.headers)


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, {field: [message]})


def unauthorized() -> httpx.Response:
    return pjson(
        401,
        {"errors": INVALID_TOKEN},
        {
            "WWW-Authenticate": (
                'Bearer realm="Procore", error="invalid_token", '
                f'error_description="{INVALID_TOKEN}"'
            )
        },
    )


def oauth_error(status: int, error: str, description: str) -> httpx.Response:
    return pjson(status, {"error": error, "error_description": description})
