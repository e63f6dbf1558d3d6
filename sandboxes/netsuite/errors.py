"""NetSuite REST error bodies: ``{type, title, status, o:errorDetails: [...]}``.

Shape from netsuite-api.md §4.2 ([ORA:section_156570709583], [OAS] ``nsError``). Every error the
sandbox emits on ``/services/rest/record`` and ``/services/rest/query`` goes through
:func:`ns_error` so clients only ever see this one envelope, with the error media type of §1.1.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..core import dumps

ERROR_MEDIA_TYPE = "application/vnd.oracle.resource+json; type=error"
_RFC2616 = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"

# (type URI, title). 400 and 401 are exactly as in [ORA:section_156570709583] (the 401 sample
# carries no fragment); the others follow the same RFC 2616 section numbering. 429 is not in
# RFC 2616: RFC 6585 §4 defines it (decision; the REST 429 body is unverified, reference §4.1).
_STATUS: dict[int, tuple[str, str]] = {
    400: (f"{_RFC2616}#sec10.4.1", "Bad Request"),
    401: (_RFC2616, "Unauthorized"),
    403: (f"{_RFC2616}#sec10.4.4", "Forbidden"),
    404: (f"{_RFC2616}#sec10.4.5", "Not Found"),
    405: (f"{_RFC2616}#sec10.4.6", "Method Not Allowed"),
    409: (f"{_RFC2616}#sec10.4.10", "Conflict"),
    415: (f"{_RFC2616}#sec10.4.16", "Unsupported Media Type"),
    429: ("https://tools.ietf.org/html/rfc6585#section-4", "Too Many Requests"),
    500: (f"{_RFC2616}#sec10.5.1", "Internal Server Error"),
    502: (f"{_RFC2616}#sec10.5.3", "Bad Gateway"),
    503: (f"{_RFC2616}#sec10.5.4", "Service Unavailable"),
    504: (f"{_RFC2616}#sec10.5.5", "Gateway Timeout"),
}

# Default o:errorCode per status for errors the shared base injects (faults, unknown routes).
# Sources: INVALID_LOGIN [ORA:section_156570709583]; CONCURRENCY_LIMIT_EXCEEDED is what
# third-party mocks use (reference §4.1, unverified); UNEXPECTED_ERROR is NetSuite's generic
# system-error code (SOAP fault list) - decision for 5xx; NONEXISTENT_ID for unknown paths.
DEFAULT_CODES = {
    400: "INVALID_CONTENT",
    401: "INVALID_LOGIN",
    403: "INSUFFICIENT_PERMISSION",
    404: "NONEXISTENT_ID",
    405: "INVALID_REQUEST",
    429: "CONCURRENCY_LIMIT_EXCEEDED",
}

INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
NONEXISTENT_ID_DETAIL = "The record instance does not exist. Provide a valid record instance ID."
CONCURRENCY_DETAIL = (
    "Concurrent request limit exceeded. Request blocked. The account has reached the maximum "
    "number of concurrent requests allowed; retry the request later."
)


class NSError(Exception):
    """Raised by handlers; turned into the documented error envelope by the app wrapper."""

    def __init__(
        self,
        status: int,
        detail: str,
        code: str | None = None,
        *,
        path: str | None = None,
        query_param: str | None = None,
        header: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or DEFAULT_CODES.get(status, "UNEXPECTED_ERROR")
        self.path = path
        self.query_param = query_param
        self.header = header
        self.headers = headers or {}

    def response(self) -> httpx.Response:
        return ns_error(
            self.status,
            self.detail,
            self.code,
            path=self.path,
            query_param=self.query_param,
            header=self.header,
            headers=self.headers,
        )


def error_document(
    status: int,
    detail: str,
    code: str | None = None,
    *,
    path: str | None = None,
    query_param: str | None = None,
    header: str | None = None,
) -> dict[str, Any]:
    type_uri, title = _STATUS.get(status, (_RFC2616, "Error"))
    item: dict[str, Any] = {
        "detail": detail,
        "o:errorCode": code or DEFAULT_CODES.get(status, "UNEXPECTED_ERROR"),
    }
    if path is not None:
        item["o:errorPath"] = path
    if query_param is not None:
        item["o:errorQueryParam"] = query_param
    if header is not None:
        item["o:errorHeader"] = header
    return {"type": type_uri, "title": title, "status": status, "o:errorDetails": [item]}


def ns_error(
    status: int,
    detail: str,
    code: str | None = None,
    *,
    path: str | None = None,
    query_param: str | None = None,
    header: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = error_document(status, detail, code, path=path, query_param=query_param, header=header)
    hdrs = {"content-type": ERROR_MEDIA_TYPE}
    hdrs.update(headers or {})
    return httpx.Response(status, content=dumps(body), headers=hdrs)


def invalid_login(account_id: str, *, bearer: bool = True) -> NSError:
    """401 for a missing/expired/revoked token or a bad TBA signature.

    Header per [ORA:subsect_158521885412]."""
    headers = {}
    if bearer:
        headers["WWW-Authenticate"] = (
            f'Bearer realm="{account_id}", error="invalid_token", '
            'error_description="Invalid login attempt."'
        )
    return NSError(401, INVALID_LOGIN_DETAIL, "INVALID_LOGIN", headers=headers)


def invalid_field_value(value: Any, field: str, path: str) -> NSError:
    """Unknown reference, verbatim wording of [ORA:section_156570709583]."""
    return NSError(
        400,
        "Error while accessing resource: You have entered an Invalid Field Value "
        f"{value} for the following field: {field}",
        "INVALID_CONTENT",
        path=path,
    )


def user_error(detail: str, path: str | None = None) -> NSError:
    return NSError(400, f"Error while accessing a resource. {detail}", "USER_ERROR", path=path)
