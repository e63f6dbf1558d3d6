"""Gives every request an id (kept from a well-formed ``X-Request-ID`` a proxy set, or made
here), answers it in the response header, and binds it with the client IP and the channel
(web pages, API, admin) for the audit log."""

from __future__ import annotations

import re
import uuid

from audit import context
from erpbridge.security import client_ip

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def channel(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.bind(
            context.RequestContext(
                request_id=request_id,
                ip=client_ip(request),
                source=channel(request.path),
                user=lambda: _user(request),
            )
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
