"""The HTTP layer every connector client stands on: limits, retries, 401 handling, errors.

Retries live here and nowhere else (DESIGN.md rule 5): transient faults are retried with
exponential backoff and full jitter, honouring ``Retry-After``, a bounded number of times. What
is safe to retry is decided per call: reads always; writes only when the caller made them
idempotent (NetSuite ``eid:`` upsert, QuickBooks ``requestid``). A non-idempotent write whose
answer was lost raises :class:`OutcomeUnknown` so the caller can look before writing again.
"""

from __future__ import annotations

import email.utils
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

from .errors import (
    AuthError,
    Conflict,
    ConnectorError,
    Exchange,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from .limits import Limiter, LimitTimeout, NoLimit
from .tokens import TokenManager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@cache
def tls_context() -> ssl.SSLContext:
    """The process's verifying TLS context, built as httpx builds its default (certifi's CA
    bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``). Building one parses the whole bundle:
    about 30 ms of CPU, which every ``httpx.Client`` left to build its own pays, and a sync
    batch builds a client per system (measured 2026-12-05: 0.6 ms of CPU per record at 100
    records a batch). An SSLContext may be shared by clients and threads."""
    return httpx.create_ssl_context()


# The process's pooled HTTP clients (``ApiClient.share_connections``), by owner and remote.
_SHARED: dict[tuple, httpx.Client] = {}
_SHARED_LOCK = threading.Lock()


@dataclass
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    base: float = 0.5  # seconds; the n-th retry waits up to base * 2**n
    cap: float = 30.0
    max_retry_after: float = 120.0  # never sleep longer than this on a server's say-so

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0, min(self.cap, self.base * (2**retry)))
        if retry_after is not None:
            # Wait what the server asked, plus a little jitter so workers don't stampede.
            return min(self.max_retry_after, retry_after + rng.uniform(0, self.base))
        return backoff


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class ApiClient:
    """Base client: subclasses set ``system`` and override :meth:`classify` and friends."""

    system = "remote"

    def __init__(
        self,
        *,
        base_url: str,
        tokens: TokenManager | None = None,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.limiter = limiter or NoLimit()
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            verify=tls_context(),
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={
                "Accept": "application/json",
                "User-Agent": "erpbridge/1.0",
                **(headers or {}),
            },
        )
        self.calls = 0  # HTTP requests actually sent (benchmarks compare it with the minimum)
        self.retries = 0
        self.shared = False

    def share_connections(self, owner: Hashable) -> None:
        """Send through the process's pooled client for ``owner`` (one connection's remote)
        and this client's base URL and headers, so that its kept-alive connections serve the
        next client built for the same owner: a sync batch builds its clients afresh, and each
        batch opened its own TCP and TLS connections, one per request in flight (15 to
        NetSuite, each handshake a round trip or two on the slot it holds). Per owner, so no
        cookie a remote sets reaches another company's requests; per process, as a forked
        worker must not use its parent's sockets. ``close`` leaves a shared client open."""
        key = (
            os.getpid(),
            owner,
            str(self.http.base_url),
            repr(self.http.timeout),
            tuple(sorted(self.http.headers.items())),
        )
        with _SHARED_LOCK:
            pooled = _SHARED.get(key)
            if pooled is None or pooled.is_closed:
                _SHARED[key] = self.http
                self.shared = True
                return
        own, self.http, self.shared = self.http, pooled, True
        own.close()

    def close(self) -> None:
        if not self.shared:
            self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- hooks --------------------------------------------------------------------------------

    def authorize(self, request: httpx.Request) -> str | None:
        """Add credentials to ``request``; return the access token used (for 401 handling)."""
        if self.tokens is None:
            return None
        token = self.tokens.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        return token

    def classify(
        self, response: httpx.Response, exchange: Exchange | None
    ) -> ConnectorError | None:
        """Turn a non-success response into the right error family; ``None`` means success."""
        status = response.status_code
        if status < 400:
            return None
        kwargs: dict[str, Any] = {"system": self.system, "status": status, "exchange": exchange}
        message = response.reason_phrase or f"HTTP {status}"
        if status == 401:
            return AuthError(message, **kwargs)
        if status == 403:
            return PermissionDenied(message, **kwargs)
        if status == 404:
            return NotFound(message, **kwargs)
        if status == 409:
            return Conflict(message, **kwargs)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimited(message, retry_after=retry_after, **kwargs)
        if status >= 500 or status == 408:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return TransientError(message, retry_after=retry_after, **kwargs)
        return ValidationFailed(message, **kwargs)

    def observe(self, response: httpx.Response) -> None:
        """Look at every response (rate-limit headers) before it is classified."""

    # -- sending ------------------------------------------------------------------------------

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one logical request, retrying what is safe to retry; raise a family error."""
        safe = method in SAFE_METHODS if idempotent is None else idempotent
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            request = self.http.build_request(
                method, url, params=params, json=json, data=data, content=content, headers=headers
            )
            token = self.authorize(request)
            try:
                with self.limiter.slot():
                    self.calls += 1
                    response = self.http.send(request)
            except LimitTimeout as exc:
                raise RateLimited(str(exc), system=self.system) from exc
            except httpx.ConnectError as exc:
                # Nothing reached the server: retrying is safe even for a write.
                error: ConnectorError = TransientError(
                    f"cannot connect: {exc}", system=self.system, exchange=Exchange.capture(request)
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                cls = TransientError if safe else OutcomeUnknown
                error = cls(
                    f"no answer ({type(exc).__name__}): {exc}",
                    system=self.system,
                    exchange=Exchange.capture(request),
                )
            else:
                self.observe(response)
                response.read()
                # Masking a body means parsing and re-serialising it: only do it for failures
                # (a 1000-row query page made every successful read ~5x slower).
                failed = response.status_code >= 400
                exchange = Exchange.capture(request, response) if failed else None
                error = self.classify(response, exchange)  # type: ignore[assignment]
                if error is None:
                    return response
                if error.exchange is None:  # a subclass refused a 2xx/3xx: keep the evidence
                    error.exchange = Exchange.capture(request, response)
                if isinstance(error, AuthError) and self.tokens is not None and not refreshed:
                    # One refresh and one retry; a second 401 means the grant is dead.
                    refreshed = True
                    self.tokens.refresh(rejected=token)
                    attempt -= 1
                    continue
                if isinstance(error, AuthError) and self.tokens is not None:
                    self.tokens.store.mark_needs_reauth(str(error))
                if isinstance(error, RateLimited) and error.retry_after:
                    self.limiter.pause(error.retry_after)
                if isinstance(error, TransientError) and not safe and not self._not_applied(error):
                    error = OutcomeUnknown(
                        error.message,
                        system=self.system,
                        status=error.status,
                        code=error.code,
                        exchange=error.exchange,
                    )
            if not isinstance(error, TransientError) or attempt >= self.retry.attempts:
                raise error
            if isinstance(error, OutcomeUnknown):
                raise error  # the caller must look before it writes again
            self.retries += 1
            self.sleep(self.retry.delay(attempt - 1, error.retry_after, self.rng))

    def _not_applied(self, error: TransientError) -> bool:
        """A refusal that proves the write was not applied (throttled before processing)."""
        # 503 "service unavailable" is answered before the request is processed; 500/502/504 may
        # come after the remote committed, so they count as "outcome unknown".
        return isinstance(error, RateLimited) or error.status == 503

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.send("GET", url, **kwargs)
