"""Database-backed limiters: the per-account remote limits, shared by every qcluster worker
when no REDIS_URL is configured (SQLite demo, or PostgreSQL without Redis).

Each key has a :class:`~sync.models.LimiterWindow` row; its row lock serialises the bookkeeping
(``SELECT … FOR UPDATE`` on PostgreSQL, IMMEDIATE transactions on SQLite). Leases expire on
their own, so a worker killed while holding a slot never shrinks the limit for good.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import transaction

from connectors.limits import LimitTimeout
from sync.models import LimiterLease, LimiterWindow

Sleep = Callable[[float], None]


def _window(key: str) -> LimiterWindow:
    window, _ = LimiterWindow.objects.get_or_create(key=key)
    return window


class DbRateWindow:
    """At most ``limit`` request starts in any rolling ``seconds`` window, across processes."""

    def __init__(
        self,
        key: str,
        limit: int,
        seconds: float,
        *,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
        patience: float = 300.0,
    ) -> None:
        self.key, self.limit, self.seconds = key, limit, seconds
        self.sleep, self.clock, self.patience = sleep, clock, patience
        self._window_id: int | None = None

    def _try(self) -> float:
        if self._window_id is None:
            self._window_id = _window(self.key).pk
        with transaction.atomic():
            window = LimiterWindow.objects.select_for_update().get(pk=self._window_id)
            now = self.clock()
            if window.paused_until > now:
                return window.paused_until - now
            leases = LimiterLease.objects.filter(window=window, kind="rate")
            leases.filter(started_at__lte=now - self.seconds).delete()
            starts = list(leases.order_by("started_at").values_list("started_at", flat=True)[:1])
            if starts and leases.count() >= self.limit:
                return max(0.001, starts[0] + self.seconds - now)
            LimiterLease.objects.create(
                window=window, kind="rate", started_at=now, expires_at=now + self.seconds
            )
            return 0.0

    @contextmanager
    def slot(self) -> Iterator[None]:
        waited = 0.0
        while (wait := self._try()) > 0:
            if waited + wait > self.patience:
                raise LimitTimeout(f"no request slot for {self.key} within {self.patience:.0f}s")
            self.sleep(wait)
            waited += wait
        yield

    def pause(self, seconds: float) -> None:
        until = self.clock() + seconds
        window = _window(self.key)
        LimiterWindow.objects.filter(pk=window.pk, paused_until__lt=until).update(
            paused_until=until
        )


class DbConcurrency:
    """At most ``limit`` requests in flight for ``key``, across processes."""

    def __init__(
        self,
        key: str,
        limit: int,
        *,
        lease: float = 180.0,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
        patience: float = 300.0,
        poll: float = 0.05,
    ) -> None:
        self.key, self.limit, self.lease = key, limit, lease
        self.sleep, self.clock, self.patience, self.poll = sleep, clock, patience, poll
        self._window_id: int | None = None

    def _enter(self) -> int | None:
        if self._window_id is None:
            self._window_id = _window(self.key).pk
        with transaction.atomic():
            window = LimiterWindow.objects.select_for_update().get(pk=self._window_id)
            now = self.clock()
            leases = LimiterLease.objects.filter(window=window, kind="conc")
            leases.filter(expires_at__lte=now).delete()
            if leases.count() >= self.limit:
                return None
            return LimiterLease.objects.create(
                window=window, kind="conc", started_at=now, expires_at=now + self.lease
            ).pk

    @contextmanager
    def slot(self) -> Iterator[None]:
        waited = 0.0
        while (lease_id := self._enter()) is None:
            if waited > self.patience:
                raise LimitTimeout(
                    f"no concurrency slot for {self.key} within {self.patience:.0f}s"
                )
            self.sleep(self.poll)
            waited += self.poll
        try:
            yield
        finally:
            LimiterLease.objects.filter(pk=lease_id).delete()

    def pause(self, seconds: float) -> None:
        return None


class DatabaseLimits:
    """The database counterpart of ``connectors.limits.RedisLimits``."""

    def rate_window(self, key: str, limit: int, seconds: float, *, sleep: Sleep = time.sleep):
        return DbRateWindow(key, limit, seconds, sleep=sleep)

    def concurrency(self, key: str, limit: int, *, sleep: Sleep = time.sleep):
        return DbConcurrency(key, limit, sleep=sleep)
