"""The three error families every connector raises (DESIGN.md rule 5).

* :class:`TransientError` — timeouts, connection errors, 5xx, 429: worth retrying later.
* :class:`PermanentError` — 401/403, revoked or unrefreshable tokens: the connection needs a
  person (re-authorise, fix a role); retrying will not help.
* :class:`DataError` — the remote refused *this* record (validation, duplicate, conflict, not
  found): it becomes an exception item for a controller.

Each carries the system's own error code and message and the exchange (request and response,
secrets masked), so a controller can later see exactly what was sent and what came back.
Nothing matches on message text: classification is by status and by the system's error code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"}
_SECRET_KEY = re.compile(
    r"(token|secret|password|assertion|private_key|client_secret|signature|code_verifier|^code$"
    # ^authorization$: header values inside JSON bodies, e.g. a Procore webhook hook's
    # destination_headers.Authorization (the secret our endpoint checks on deliveries).
    r"|^authorization$)",
    re.IGNORECASE,
)
BODY_LIMIT = 20_000  # characters kept of a request/response body


def mask_value(value: str) -> str:
    """Keep a hint of which secret it was (the last 4 characters), never the secret."""
    value = str(value)
    if len(value) <= 8:
        return "****"
    return f"****{value[-4:]}"


def mask_headers(headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
    return {k: (mask_value(v) if k.lower() in SECRET_HEADERS else v) for k, v in items}


def mask_data(data: Any) -> Any:
    """Mask secret-looking keys anywhere in a JSON-like structure."""
    if isinstance(data, dict):
        return {
            k: (
                mask_value(v)
                if _SECRET_KEY.search(str(k)) and v not in (None, "")
                else mask_data(v)
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [mask_data(v) for v in data]
    return data


def mask_body(raw: bytes | str, content_type: str = "") -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not text:
        return ""
    if "json" in content_type or text[:1] in "{[":
        try:
            return json.dumps(mask_data(json.loads(text)))[:BODY_LIMIT]
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        parts = []
        for pair in text.split("&"):
            key, _, value = pair.partition("=")
            parts.append(f"{key}={mask_value(value)}" if _SECRET_KEY.search(key) else pair)
        return "&".join(parts)[:BODY_LIMIT]
    return text[:BODY_LIMIT]


@dataclass
class Exchange:
    """One request and (when there was one) its response, secrets masked, JSON-serialisable."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""

    @classmethod
    def capture(
        cls, request: httpx.Request | None, response: httpx.Response | None = None
    ) -> Exchange | None:
        if request is None:
            return None
        try:
            req_body = request.content
        except httpx.RequestNotRead:
            req_body = b""
        exchange = cls(
            method=request.method,
            url=str(request.url),
            request_headers=mask_headers(request.headers),
            request_body=mask_body(req_body, request.headers.get("content-type", "")),
        )
        if response is not None:
            exchange.status = response.status_code
            exchange.response_headers = mask_headers(response.headers)
            try:
                body = response.content
            except httpx.ResponseNotRead:
                body = b""
            exchange.response_body = mask_body(body, response.headers.get("content-type", ""))
        return exchange

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class ConnectorError(Exception):
    family = "unknown"

    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        code: str | None = None,
        status: int | None = None,
        exchange: Exchange | None = None,
        retry_after: float | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.code = code
        self.status = status
        self.exchange = exchange
        self.retry_after = retry_after
        self.details = details or []

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "type": type(self).__name__,
            "system": self.system,
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "details": self.details,
            "exchange": self.exchange.as_dict() if self.exchange else None,
        }

    def __str__(self) -> str:
        bits = [self.system, str(self.status) if self.status else "", self.code or ""]
        prefix = " ".join(b for b in bits if b)
        return f"[{prefix}] {self.message}" if prefix else self.message


class TransientError(ConnectorError):
    family = "transient"


class RateLimited(TransientError):
    """429 or the system's throttle fault; ``retry_after`` says how long to wait, when known."""


class OutcomeUnknown(TransientError):
    """A write was sent and no answer came back: it may or may not have been applied.

    The caller must find out (QuickBooks: look the document up by its marker; NetSuite: the
    ``eid:`` upsert makes a blind retry safe) before writing again.
    """


class PermanentError(ConnectorError):
    family = "permanent"


class AuthError(PermanentError):
    """Credentials or tokens are no longer accepted: the connection needs re-authorisation."""


class PermissionDenied(PermanentError):
    """Authenticated, but the role or app lacks a permission (403)."""


class DataError(ConnectorError):
    family = "data"


class ValidationFailed(DataError):
    pass


class NotFound(DataError):
    pass


class Duplicate(DataError):
    pass


class Conflict(DataError):
    """The remote copy changed since we read it (stale SyncToken, newer lastModifiedDate)."""

    def __init__(self, message: str, *, current: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.current = current
