"""QuickBooks Online error bodies → the three families (quickbooks-api.md §3.2, §3.3).

QBO answers failures in two envelopes, and throttles in a third shape:

* data-service faults: ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}],
  "type": "ValidationFault"|"SystemFault"|…}, "time": …}`` (HTTP 400, 500; also per batch item);
* gateway faults: ``{"fault": {"error": [{"message", "detail", "code"}], "type":
  "AUTHENTICATION"|"SERVICE"}, …}`` with lower-case keys (401 → 3200, 403 → 3100);
* throttle: HTTP 429 and/or code 3001, often as an XML ``IntuitResponse`` even when JSON was
  asked for (§3.2 c) — so the body is parsed leniently and the status alone is enough.

Classification is by HTTP status and QBO's ``code`` only, never by message text. The error's
``code`` is QBO's code string as sent (``"6240"``; the gateway sometimes pads: ``"003001"``);
``details`` keeps every ``Error[]`` entry (QBO can return several).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # noqa: S405 - parses a response body, no entities expanded
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
from ..http import parse_retry_after

SYSTEM = "quickbooks"
THROTTLE_WAIT = 60.0  # §3.1: "On 429: wait 60 s before retrying" when no Retry-After is given

# QBO codes (normalised: leading zeros dropped) → family error (§3.3).
_AUTH = {"100", "120", "130", "3200"}  # 120/130 come back as 401 AuthenticationFault
_PERMISSION = {"3100", "6190"}  # 403 scope/app/role; 6190 "Invalid Company Status" (subscription)
_THROTTLE = {"3001"}
_NOT_FOUND = {"610"}
_CONFLICT = {"5010"}
_DUPLICATE = {"6140", "6240"}
_TRANSIENT = {"10000"}  # SystemFault: "An application error has occurred"


def norm_code(code: Any) -> str:
    text = str(code or "").strip()
    return text.lstrip("0") or text


def _xml_errors(text: str) -> tuple[list[dict[str, Any]], str]:
    try:
        root = ET.fromstring(text)  # noqa: S314 - ElementTree does not resolve external entities
    except ET.ParseError:
        return [], ""
    errors, ftype = [], ""
    for node in root.iter():
        tag = node.tag.rsplit("}", 1)[-1]
        if tag == "Fault":
            ftype = node.get("type", "")
        if tag == "Error":
            entry: dict[str, Any] = {"code": node.get("code", ""), "element": node.get("element")}
            for child in node:
                entry[child.tag.rsplit("}", 1)[-1]] = (child.text or "").strip()
            errors.append(entry)
    return errors, ftype


def fault_entries(body: Any) -> tuple[list[dict[str, Any]], str]:
    """``(errors, fault_type)`` from a parsed JSON body in either envelope; keys normalised to
    ``code``/``Message``/``Detail``/``element``."""
    if not isinstance(body, dict):
        return [], ""
    fault = body.get("Fault")
    if isinstance(fault, dict):
        return [e for e in fault.get("Error") or [] if isinstance(e, dict)], fault.get("type", "")
    fault = body.get("fault")
    if isinstance(fault, dict):
        errors = []
        for e in fault.get("error") or []:
            if isinstance(e, dict):
                errors.append(
                    {
                        "code": e.get("code"),
                        "Message": e.get("message"),
                        "Detail": e.get("detail"),
                        "element": e.get("element"),
                    }
                )
        return errors, fault.get("type", "")
    return [], ""


def parse_body(response: httpx.Response) -> tuple[list[dict[str, Any]], str]:
    text = response.text
    ctype = response.headers.get("content-type", "")
    if "xml" in ctype or text.lstrip().startswith("<"):
        return _xml_errors(text)
    try:
        return fault_entries(json.loads(text))
    except ValueError:
        return [], ""


def error_for(
    errors: list[dict[str, Any]],
    fault_type: str = "",
    *,
    status: int | None = None,
    exchange: Exchange | None = None,
    retry_after: float | None = None,
) -> ConnectorError | None:
    """The family error for a list of QBO ``Error`` entries (a whole response or a batch item)."""
    first = errors[0] if errors else {}
    code = str(first.get("code") or "") or None
    ncode = norm_code(code)
    message = first.get("Message") or first.get("message") or ""
    detail = first.get("Detail") or first.get("detail")
    text = f"{message}: {detail}" if detail and detail != message else (message or "")
    kwargs: dict[str, Any] = {
        "system": SYSTEM,
        "code": code,
        "status": status,
        "exchange": exchange,
        "details": errors,
    }
    ftype = (fault_type or "").lower()
    if status == 429 or ncode in _THROTTLE:
        wait = retry_after if retry_after is not None else THROTTLE_WAIT
        return RateLimited(text or "throttled", retry_after=wait, **kwargs)
    if ncode in _AUTH or status == 401 or ftype in {"authentication", "authenticationfault"}:
        return AuthError(text or "authentication failed", **kwargs)
    if ncode in _PERMISSION or status == 403 or ftype == "authorizatonfault":  # sic, XSD
        return PermissionDenied(text or "not authorised", **kwargs)
    if ncode in _NOT_FOUND:
        return NotFound(text, **kwargs)
    if ncode in _CONFLICT:
        return Conflict(text, **kwargs)
    if ncode in _DUPLICATE:
        return Duplicate(text, **kwargs)
    if ncode in _TRANSIENT or ftype == "systemfault" or (status is not None and status >= 500):
        return TransientError(text or f"HTTP {status}", retry_after=retry_after, **kwargs)
    if errors or (status is not None and status >= 400):
        # 2010/2020/2030/2170/2500/4001/6000/6210/… and any other validation/business fault:
        # the record (or our query) is wrong, a person must look.
        return ValidationFailed(text or f"HTTP {status}", **kwargs)
    return None


def classify(response: httpx.Response, exchange: Exchange | None = None) -> ConnectorError | None:
    """``None`` for a success; otherwise the family error for this response."""
    status = response.status_code
    if status < 400:
        return None
    errors, ftype = parse_body(response)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    error = error_for(errors, ftype, status=status, exchange=exchange, retry_after=retry_after)
    if status == 404 and not errors:
        # A path QBO does not know (wrong entity name, realm) answers 404 without a Fault.
        return NotFound(
            response.reason_phrase or "HTTP 404", system=SYSTEM, status=status, exchange=exchange
        )
    return error
