"""QuickBooks Online's two fault families (quickbooks-api.md §3.2) and the throttle fault.

* Data-service faults: ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}],
  "type": "ValidationFault"}, "time": "<company-local ISO>"}`` with HTTP 400 (§3.2 a, §3.3).
* Gateway faults (auth): lower-case ``fault.error[]`` inside a bigger envelope with an epoch-millis
  ``time``; 401 ``AuthenticationFailed`` (3200) and 403 ``ApplicationAuthorizationFailed``
  (3100) (§3.2 b, real recording ``error/401.yml``).
* Throttle: HTTP 429, code 3001 ``ThrottleExceeded`` (§3.2 c). Real responses were XML; the JSON
  rendering is the reference's inferred one. ``throttle_format="xml"`` on the sandbox sends the
  recorded XML instead, so clients can be tested for tolerating it.
"""

from __future__ import annotations

import httpx

from ..core import dumps, json_response

STALE_DETAIL = (
    "Stale Object Error : You and {user} were working on this at the same time. {user} finished "
    "before you did, so your work was not saved."
)
NOT_FOUND_DETAIL = (
    "Object Not Found : Something you're trying to use has been made inactive. Check the fields "
    "with accounts, customers, items, vendors or employees."
)
INVALID_REF_DETAIL = (
    "Invalid Reference Id: Something you're trying to use has been made inactive. Check the "
    "fields with accounts, customers, items, vendors or employees."
)

MESSAGES = {
    "500": "Unsupported Operation",
    "610": "Object Not Found",
    "2010": "Request has invalid or unsupported property",
    "2020": "Required Param Missing",
    "2030": "Invalid ID",
    "2500": "Invalid Reference Id",
    "4001": "Invalid query",
    "5010": "Stale Object Error",
    "6000": "A business validation error has occurred while processing your request",
    "6140": "Duplicate Document Number Error",
    "6240": "Duplicate Name Exists Error",
    "10000": "An application error has occurred while processing your request",
}


class QBOError(Exception):
    """A data-service fault; handlers raise it, the app renders it (alone or inside a batch)."""

    def __init__(
        self,
        code: str,
        detail: str,
        element: str = "",
        *,
        status: int = 400,
        type_: str = "ValidationFault",
        message: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.element = element
        self.status = status
        self.type = type_
        self.message = message or MESSAGES.get(code, "Validation Error")

    def fault(self) -> dict:
        return {
            "Error": [
                {
                    "Message": self.message,
                    "Detail": self.detail,
                    "code": self.code,
                    "element": self.element,
                }
            ],
            "type": self.type,
        }


def required(field: str, entity: str = "") -> QBOError:
    where = f" for {entity}" if entity else ""
    return QBOError("2020", f"Required parameter {field} is missing in the request{where}", field)


def stale(user: str = "Sandbox User") -> QBOError:
    return QBOError("5010", STALE_DETAIL.format(user=user))


def not_found() -> QBOError:
    return QBOError("610", NOT_FOUND_DETAIL)


def invalid_ref(element: str, value: str) -> QBOError:
    return QBOError("2500", f"{INVALID_REF_DETAIL} : {element}={value}", element)


def business(reason: str) -> QBOError:
    return QBOError("6000", f"Business Validation Error: {reason}")


def unsupported(detail: str) -> QBOError:
    return QBOError("500", f"Operation {detail}")


def query_error(detail: str) -> QBOError:
    return QBOError("4001", f"QueryValidationError: {detail}")


def fault_response(err: QBOError, time: str) -> httpx.Response:
    return json_response(err.status, {"Fault": err.fault(), "time": time})


# -- gateway (auth) faults ----------------------------------------------------------------------


def gateway_fault(status: int, detail: str | None, epoch_ms: int) -> httpx.Response:
    if status == 401:
        message = "message=AuthenticationFailed; errorCode=003200; statusCode=401"
        code, type_ = "3200", "AUTHENTICATION"
        headers = {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'}
    else:
        message = "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
        code, type_ = "3100", "SERVICE"
        headers = {}
    body = {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [{"message": message, "detail": detail, "code": code, "element": None}],
            "type": type_,
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": epoch_ms,
        "status": None,
        "cdcresponse": [],
    }
    return json_response(status, body, headers)


# -- throttle -----------------------------------------------------------------------------------

THROTTLE_MESSAGE = "message=ThrottleExceeded; errorCode=003001; statusCode=429"
THROTTLE_DETAIL = "The request limit was reached.  Try again later"


def throttle_response(time: str, retry_after: int, fmt: str = "json") -> httpx.Response:
    headers = {"Retry-After": str(retry_after)}
    if fmt == "xml":
        xml = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<IntuitResponse time="{time}" xmlns="http://schema.intuit.com/finance/v3">'
            f'<Fault type="SERVICE"><Error code="3001"><Message>{THROTTLE_MESSAGE}</Message>'
            f"<Detail>{THROTTLE_DETAIL}</Detail></Error></Fault></IntuitResponse>"
        )
        headers["content-type"] = "application/xml"
        return httpx.Response(429, content=xml.encode(), headers=headers)
    body = {
        "Fault": {
            "Error": [{"Message": THROTTLE_MESSAGE, "Detail": THROTTLE_DETAIL, "code": "3001"}],
            "type": "SERVICE",
        },
        "time": time,
    }
    return httpx.Response(
        429,
        content=dumps(body),
        headers={**headers, "content-type": "application/json;charset=utf-8"},
    )
