"""Procore error bodies -> the three error families (DESIGN.md rule 5).

Procore documents statuses and their meaning but not one exact v1 JSON error body
(reference §4): "The response body for 4xx errors often contains a `message` or `errors`
field". We therefore read every shape the reference names, and classify on the *status* and
on structured keys only, never on message text:

* v1.x ``{"errors": "<text>"}`` (Procore's Ruby SDK stubs) or ``{"message": "<text>"}``;
* v1.x business rules ``{"errors": {"<field>": ["<text>", ...]}}`` (the sync-action error map);
* v2.0 ``{"error": {"code": "BAD_REQUEST", "message": ..., "details": [{"reason_code": ...}]}}``;
* OAuth (login host) RFC 6749 §5.2 ``{"error": "invalid_grant", "error_description": ...}``;
* 429 may be plain text (§3), with ``Retry-After`` and/or ``X-Rate-Limit-Reset``.

Status -> family: 401 AuthError; 403 PermissionDenied (app not connected to the company, tool
disabled, project not permitted to the DMSA: all need a person); 404 NotFound ("not found or no
read access", §4); 409 Duplicate; 422 ValidationFailed, or Duplicate when the refusal is keyed on
``origin_id`` (the one documented business rule on that field is its uniqueness per company
and object type, §5 / §4 "duplicate origin_id"); 400/406 ValidationFailed; 408/5xx Transient;
429 RateLimited.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from connectors.errors import (
    AuthError,
    ConnectorError,
    Duplicate,
    Exchange,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from connectors.http import parse_retry_after

SYSTEM = "procore"
# Field keys whose 422 means "another record already holds this integration id".
_UNIQUE_FIELDS = frozenset({"origin_id"})


def _body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return (response.content or b"").decode("utf-8", "replace").strip() or None


def _www_authenticate_error(response: httpx.Response) -> str | None:
    """``WWW-Authenticate: Bearer ..., error="invalid_token"`` (RFC 6750 §3) -> the code."""
    header = response.headers.get("WWW-Authenticate", "")
    for part in header.replace("Bearer ", "", 1).split(","):
        key, _, value = part.strip().partition("=")
        if key == "error":
            return value.strip('"') or None
    return None


def parse_error(response: httpx.Response) -> tuple[str | None, str, list[dict[str, Any]]]:
    """(code, message, details) from any Procore error body; details are per-field entries."""
    body = _body(response)
    status = response.status_code
    code: str | None = None
    message = ""
    details: list[dict[str, Any]] = []
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # v2.0 standard error
            code = error.get("code")
            message = str(error.get("message") or "")
            for item in error.get("details") or []:
                if isinstance(item, dict):
                    details.append(
                        {
                            "field": item.get("field"),
                            "code": item.get("reason_code"),
                            "message": item.get("message"),
                        }
                    )
            if details and details[0].get("code"):
                code = details[0]["code"] if code in (None, "BAD_REQUEST") else code
        elif isinstance(error, str):  # OAuth error
            code = error
            message = str(body.get("error_description") or error)
        errors = body.get("errors")
        if isinstance(errors, dict):  # per-field business-rule map
            for field, texts in errors.items():
                for text in texts if isinstance(texts, list) else [texts]:
                    details.append({"field": field, "code": None, "message": str(text)})
            message = message or "; ".join(f"{d['field']} {d['message']}" for d in details)
        elif isinstance(errors, list):
            for text in errors:
                details.append({"field": None, "code": None, "message": str(text)})
            message = message or "; ".join(d["message"] for d in details)
        elif isinstance(errors, str):
            message = message or errors
        if not message and body.get("message"):
            message = str(body["message"])
        if code is None and isinstance(body.get("code"), (str, int)):
            code = str(body["code"])
    elif isinstance(body, str):
        message = body[:500]
    if status == 401 and code is None:
        code = _www_authenticate_error(response) or "invalid_token"
    if code is None:
        code = _DEFAULT_CODES.get(status, f"http_{status}")
    return code, message or response.reason_phrase or f"HTTP {status}", details


_DEFAULT_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    422: "unprocessable_entity",
    429: "rate_limited",
}


def rate_limit_wait(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait after a 429/503: ``Retry-After`` first, else ``X-Rate-Limit-Reset``."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if retry_after is not None:
        return retry_after
    reset = response.headers.get("X-Rate-Limit-Reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - now())
    return None


def classify(
    response: httpx.Response,
    exchange: Exchange | None = None,
    *,
    now: Callable[[], float] = time.time,
) -> ConnectorError | None:
    """A Procore response -> ``None`` (success) or the family error to raise."""
    status = response.status_code
    if status < 400:
        return None
    code, message, details = parse_error(response)
    kwargs: dict[str, Any] = {
        "system": SYSTEM,
        "status": status,
        "code": code,
        "exchange": exchange,
        "details": details,
    }
    if status == 401:
        return AuthError(message, **kwargs)
    if status == 403:
        return PermissionDenied(message, **kwargs)
    if status == 404:
        return NotFound(message, **kwargs)
    if status == 409:
        return Duplicate(message, **kwargs)
    if status == 422:
        if any(d.get("field") in _UNIQUE_FIELDS for d in details):
            kwargs["code"] = "duplicate_origin_id"
            return Duplicate(message, **kwargs)
        return ValidationFailed(message, **kwargs)
    if status == 429:
        return RateLimited(message, retry_after=rate_limit_wait(response, now), **kwargs)
    if status >= 500 or status == 408:
        return TransientError(message, retry_after=rate_limit_wait(response, now), **kwargs)
    return ValidationFailed(message, **kwargs)


def classify_oauth(response: httpx.Response, exchange: Exchange | None = None) -> ConnectorError:
    """A refused call to the login host's /oauth/token or /oauth/revoke.

    ``invalid_grant`` (a used, revoked or expired refresh token / code), ``invalid_client`` and
    ``unauthorized_client`` mean the grant is dead: AuthError, the connection needs a person.
    ``invalid_request`` etc. are our bug: ValidationFailed. 429/5xx stay transient.
    """
    code, message, details = parse_error(response)
    kwargs: dict[str, Any] = {
        "system": SYSTEM,
        "status": response.status_code,
        "code": code,
        "exchange": exchange,
        "details": details,
    }
    status = response.status_code
    if status == 429:
        return RateLimited(message, retry_after=rate_limit_wait(response), **kwargs)
    if status >= 500:
        return TransientError(message, retry_after=rate_limit_wait(response), **kwargs)
    if code in ("invalid_request", "unsupported_grant_type", "invalid_scope") and status == 400:
        return ValidationFailed(message, **kwargs)
    return AuthError(message, **kwargs)
