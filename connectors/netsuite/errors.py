"""NetSuite error bodies → the three families (DESIGN.md rule 5), by status and ``o:errorCode``.

REST errors come as ``{type, title, status, o:errorDetails: [{detail, o:errorCode, o:errorPath?}]}``
(netsuite-api.md §4.2, [ORA:section_156570709583]); the token endpoint answers OAuth 2.0 errors
(``{"error": "invalid_client"}``, RFC 6749 §5.2). Nothing here looks at message text: the family
comes from the HTTP status and the error code, and the code travels on the error as ``code``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from ..errors import (
    AuthError,
    Conflict,
    ConnectorError,
    Duplicate,
    Exchange,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
)

SYSTEM = "netsuite"

# Codes whose meaning beats the status they came with.
AUTH_CODES = frozenset({"INVALID_LOGIN", "INVALID_LOGIN_ATTEMPT", "INVALID_LOGIN_CREDENTIALS"})
PERMISSION_CODES = frozenset({"INSUFFICIENT_PERMISSION", "PERMISSION_VIOLATION"})
# REST answers 429 (reference §4.1; the body code is unverified, mocks use the first one).
# RESTlets say SSS_REQUEST_LIMIT_EXCEEDED with a 400 and SOAP WS_REQUEST_BLOCKED: same meaning.
LIMIT_CODES = frozenset(
    {"CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED", "WS_REQUEST_BLOCKED"}
)
# A record with this externalId / key already exists (SOAP names: DUP_RCRD, DUP_ENTITY ...), and a
# repeated async idempotency key (reference §1.9).
DUPLICATE_CODES = frozenset(
    {
        "DUP_RCRD",
        "DUP_ENTITY",
        "DUP_ITEM",
        "DUPLICATE_EXTERNAL_ID",
        "DUP_EXTERNALID",
        "IDEMPOTENCY_ERROR",
        "UNIQUE_CUST_ID_REQD",
    }
)
NOT_FOUND_CODES = frozenset({"NONEXISTENT_ID", "RCRD_DSNT_EXIST", "INVALID_RCRD_TYPE"})
# SuiteScript's "record changed between load and save" (reference §6; REST surfacing unverified).
CONFLICT_CODES = frozenset({"RCRD_HAS_BEEN_CHANGED"})

# OAuth 2.0 token-endpoint errors that mean "the credentials are wrong or revoked".
OAUTH_AUTH_ERRORS = frozenset(
    {
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "invalid_token",
        "access_denied",
        "invalid_scope",
    }
)


def parse_body(response: httpx.Response) -> Any:
    """The JSON body with numbers as ``Decimal`` (money must never pass through float)."""
    raw = response.content
    if not raw:
        return None
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError:
        return None


def error_details(body: Any) -> list[dict[str, Any]]:
    """``o:errorDetails`` normalised to ``[{code, detail, path, query_param, header}]``."""
    if not isinstance(body, dict):
        return []
    out = []
    for item in body.get("o:errorDetails") or []:
        if not isinstance(item, dict):
            continue
        entry = {
            "code": item.get("o:errorCode"),
            "detail": item.get("detail", ""),
        }
        for key, name in (
            ("o:errorPath", "path"),
            ("o:errorQueryParam", "query_param"),
            ("o:errorHeader", "header"),
            ("o:errorUrl", "url"),
        ):
            if item.get(key) is not None:
                entry[name] = item[key]
        out.append(entry)
    return out


def classify(response: httpx.Response, exchange: Exchange | None = None) -> ConnectorError | None:
    """Turn a NetSuite response into a family error; ``None`` for success."""
    status = response.status_code
    if status < 400:
        return None
    body = parse_body(response)
    details = error_details(body)
    code = details[0]["code"] if details else None
    message = (details[0]["detail"] if details else "") or _title(body) or response.reason_phrase
    if not code and isinstance(body, dict) and isinstance(body.get("error"), str):
        # Token endpoint (RFC 6749 §5.2).
        code = body["error"]
        message = body.get("error_description") or code
    kwargs: dict[str, Any] = {
        "system": SYSTEM,
        "status": status,
        "code": code,
        "exchange": exchange,
        "details": details,
    }
    message = message or f"HTTP {status}"

    if status == 429 or code in LIMIT_CODES:
        # NetSuite sends no Retry-After (reference §4.1): retry_after stays None so the HTTP
        # layer backs off exponentially with jitter instead.
        return RateLimited(message, **kwargs)
    if status >= 500 or status == 408:
        return TransientError(message, **kwargs)
    if status == 401 or code in AUTH_CODES or code in OAUTH_AUTH_ERRORS:
        return AuthError(message, **kwargs)
    if status == 403 or code in PERMISSION_CODES:
        return PermissionDenied(message, **kwargs)
    if code in CONFLICT_CODES or (status == 409 and code not in DUPLICATE_CODES):
        return Conflict(message, **kwargs)
    if code in DUPLICATE_CODES:
        return Duplicate(message, **kwargs)
    if status == 404 or code in NOT_FOUND_CODES:
        return NotFound(message, **kwargs)
    # USER_ERROR, INVALID_KEY_OR_REF, INVALID_CONTENT, INVALID_PARAMETER, NONEXISTENT_FIELD, ...
    return ValidationFailed(message, **kwargs)


def _title(body: Any) -> str:
    return body.get("title", "") if isinstance(body, dict) else ""
