"""Who is asking, for the audit log: the current request's id, client IP and channel.

Set by ``audit.middleware.RequestContextMiddleware`` for the length of a request (a
ContextVar, so threads and async tasks each see their own); jobs and commands have none and
their entries say ``system``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    source: str = "system"
    # The signed-in user, read when an entry is written (authentication runs after us).
    user: Callable[[], Any] = field(default=lambda: None, compare=False)


_current: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


def current() -> RequestContext:
    return _current.get() or RequestContext()


def bind(context: RequestContext):
    return _current.set(context)


def reset(token) -> None:
    _current.reset(token)
