"""Build a connector client from a Connection: settings, decrypted secrets, the row-locked
token store and limiters shared by every worker (Redis when configured, else the database).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
from django.conf import settings as django_settings

from connectors.errors import AuthError
from connectors.limits import LimitBackend, RedisLimits
from connectors.netsuite import NetSuiteClient
from connectors.netsuite import default_limiter as netsuite_limiter
from connectors.procore import ProcoreClient
from connectors.procore import default_limiter as procore_limiter
from connectors.quickbooks import QuickBooksClient
from sync.limits import DatabaseLimits
from sync.models import Connection, ConnectionStatus, Kind
from sync.services.connections import ConnectionTokenStore

REDIS_CACHE_BACKEND = "django_redis.cache.RedisCache"


class ConnectionNeedsReauth(AuthError):
    """The connection's grant is dead; an admin must reconnect before anything is sent."""


@cache
def _redis_limits() -> RedisLimits:
    from django_redis import get_redis_connection

    return RedisLimits(get_redis_connection("default"))


def limit_backend() -> LimitBackend:
    """Redis when REDIS_URL backs the cache, otherwise the database: never per process."""
    if django_settings.CACHES["default"]["BACKEND"] == REDIS_CACHE_BACKEND:
        return _redis_limits()
    return DatabaseLimits()


def auth_transport() -> httpx.BaseTransport | None:
    """The transport for calls the admin pages make (code exchange, token checks, tests of a
    connection). None in production: httpx's own network transport. Tests replace this
    function with one that returns ``httpx.MockTransport(sandbox.handle)``; views never build
    a transport themselves.
    """
    return None


def connection_client(
    connection: Connection,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    limits: LimitBackend | None = None,
    allow_reauth: bool = False,
) -> Any:
    """The connector client for ``connection``; refuses a connection that needs re-auth.

    ``allow_reauth`` is for the connect flow itself, which is what repairs such a connection.
    """
    if connection.status == ConnectionStatus.NEEDS_REAUTH and not allow_reauth:
        raise ConnectionNeedsReauth(
            f"{connection.name} needs re-authorisation: {connection.status_reason}",
            system=connection.kind,
        )
    client = _client(connection, transport=transport, sleep=sleep, limits=limits)
    if transport is None:  # the network: keep its connections alive from batch to batch
        client.share_connections(("connection", connection.pk))
    return client


def _client(connection: Connection, *, transport, sleep, limits) -> Any:
    values = connection.client_settings()
    store = ConnectionTokenStore(connection.pk)
    limits = limits or limit_backend()
    common: dict[str, Any] = {"token_store": store, "transport": transport, "sleep": sleep}
    if connection.kind == Kind.PROCORE:
        limiter = procore_limiter(values, sleep=sleep, limits=limits)
        return ProcoreClient.from_settings(values, limiter=limiter, **common)
    if connection.kind == Kind.NETSUITE:
        limiter = netsuite_limiter(values, limits=limits)
        return NetSuiteClient.from_settings(values, limiter=limiter, **common)
    if connection.kind == Kind.QUICKBOOKS:
        return QuickBooksClient.from_settings(values, limits=limits, **common)
    raise ValueError(f"unknown connection kind {connection.kind!r}")
