"""One JSON error shape for every API failure:

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"name": ["…"]}}}

``code`` is stable and meant for programs (``not_authenticated``, ``permission_denied``,
``not_found``, ``invalid``, ``refused``, ``throttled``, ``server_error``, …); ``message`` is
for people; ``fields`` appears on validation errors only. Refusals by the services (an item
someone else already decided, an upload that can no longer be applied) are 409 ``refused``.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


class Refused(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "refused"
    default_detail = "The action was refused."


def error_body(status_code: int, code: str, message: str, fields=None) -> dict:
    error = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _translate(exc):
    """Service-layer exceptions to DRF's (the services know nothing of HTTP)."""
    from mappings.files import FileRefused
    from mappings.services import UploadRefused
    from sync.services.review import ActionRefused

    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, ActionRefused | UploadRefused):
        return Refused(str(exc))
    if isinstance(exc, FileRefused):
        return exceptions.ValidationError({"file": [str(exc)]})
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return exc


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc, context):
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("API error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(
            error_body(500, "server_error", "Something went wrong; the error was logged."),
            status=500,
        )
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        message = (
            _first_message(fields.get("non_field_errors"))
            if "non_field_errors" in fields and len(fields) == 1
            else "Some values are not valid; see fields."
        )
        response.data = error_body(response.status_code, "invalid", message, fields)
        return response
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if not isinstance(code, str):
        code = "error"
    response.data = error_body(response.status_code, code, _first_message(exc.detail))
    return response


@csrf_exempt
@login_not_required
def not_found(request, *args, **kwargs):
    """Any /api/ URL that matches no endpoint: the same shape, not an HTML page. CSRF-exempt:
    it changes nothing, and a token client writing to a wrong address (an id that is not a
    number, say) must get this 404, not the CSRF failure page (found by the schema fuzz)."""
    return JsonResponse(
        error_body(404, "not_found", "No API endpoint at this address."), status=404
    )
