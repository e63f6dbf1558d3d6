"""Client-side limits, so we slow down before the remote has to say no.

The remote limits are per account (QuickBooks: 500 requests/minute and 10 concurrent per realm;
NetSuite: one concurrency limit per account; Procore: an hourly and a 10-second window per
token), not per process, so with several ``qcluster`` workers the limiter state must be shared:
:class:`RedisRateWindow` / :class:`RedisConcurrency` when ``REDIS_URL`` is set (the product
provides a database-backed pair otherwise). The in-memory versions serve one process and tests.

A limiter is used as ``with limiter.slot(): send()``; ``pause(seconds)`` makes every holder of
the same key wait (a 429 with ``Retry-After`` seen by one worker slows them all).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from contextvars import ContextVar
from typing import Protocol

Sleep = Callable[[float], None]

# Which waiter a freed shared slot goes to, lowest first (RedisConcurrency). The sync engine
# sets it to when a batch started, so the oldest batch's requests go first.
_priority: ContextVar[float | None] = ContextVar("erpbridge_slot_priority", default=None)


@contextmanager
def slot_priority(value: float | None) -> Iterator[None]:
    """Requests made inside the block wait for a shared concurrency slot with this priority
    (lower goes first; unset, a request's priority is when it asked: first come, first served)."""
    token = _priority.set(value)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> float | None:
    return _priority.get()


class LimitTimeout(Exception):
    """No slot became free within the limiter's patience."""


class Limiter(Protocol):
    def slot(self) -> AbstractContextManager[None]: ...

    def pause(self, seconds: float) -> None: ...


class NoLimit:
    @contextmanager
    def slot(self) -> Iterator[None]:
        yield

    def pause(self, seconds: float) -> None:
        return None


class RateWindow:
    """At most ``limit`` starts in any rolling ``seconds`` window (one process)."""

    def __init__(
        self,
        limit: int,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
        patience: float = 300.0,
    ) -> None:
        self.limit, self.seconds = limit, seconds
        self.clock, self.sleep, self.patience = clock, sleep, patience
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _wait_needed(self) -> float:
        now = self.clock()
        while self._starts and self._starts[0] <= now - self.seconds:
            self._starts.popleft()
        wait = max(0.0, self._paused_until - now)
        if len(self._starts) >= self.limit:
            wait = max(wait, self._starts[0] + self.seconds - now)
        if wait == 0.0:
            self._starts.append(now)
        return wait

    @contextmanager
    def slot(self) -> Iterator[None]:
        waited = 0.0
        while True:
            with self._lock:
                wait = self._wait_needed()
            if wait == 0.0:
                break
            if waited + wait > self.patience:
                raise LimitTimeout(f"no request slot within {self.patience:.0f}s")
            self.sleep(wait)
            waited += wait
        yield

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)


class Concurrency:
    """At most ``limit`` requests in flight (one process)."""

    def __init__(self, limit: int, *, patience: float = 300.0) -> None:
        self.limit = limit
        self.patience = patience
        self._sem = threading.BoundedSemaphore(limit)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._sem.acquire(timeout=self.patience):
            raise LimitTimeout(f"no concurrency slot within {self.patience:.0f}s")
        try:
            yield
        finally:
            self._sem.release()

    def pause(self, seconds: float) -> None:
        return None


class Combined:
    """Several limiters at once (QuickBooks: a rate window and a concurrency cap)."""

    def __init__(self, *limiters: Limiter) -> None:
        self.limiters = limiters

    @contextmanager
    def slot(self) -> Iterator[None]:
        with ExitStack() as stack:
            for limiter in self.limiters:
                stack.enter_context(limiter.slot())
            yield

    def pause(self, seconds: float) -> None:
        for limiter in self.limiters:
            limiter.pause(seconds)


# ---------------------------------------------------------------------------------------------
# Shared between processes through Redis


# The scripts read the server's clock with TIME, so a slot costs one round trip and every host
# shares one clock. A script may write after TIME because Redis replicates a script's effects
# (the commands it ran), not the script: the default since Redis 5 and the only mode since 7.0
# ("Script replication", https://redis.io/topics/eval-intro).
_RATE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local key, pause_key = KEYS[1], KEYS[2]
local window, limit, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local paused = tonumber(redis.call('GET', pause_key) or '0')
if paused > now then return tostring(paused - now) end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, math.ceil(window * 1000) + 1000)
return '0'
"""

# Concurrency slots: KEYS[1] holds the leases (member -> expiry), KEYS[2] the waiters (member
# -> priority), KEYS[3] the waiters' deadlines (member -> when it stops counting as waiting: a
# waiter asks again at least every ``wake`` seconds, so a dead one is forgotten soon). A caller
# may take a slot when the leases held plus the waiters with a better priority are under the
# limit, so a woken waiter finds its slot kept for it rather than taken by a later caller.
_FORGET_WAITERS = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, w in ipairs(gone) do redis.call('ZREM', KEYS[2], w) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now) end
"""

_ENTER_SCRIPT = (
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, member, lease = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local priority, stale = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
"""
    + _FORGET_WAITERS
    + """
local ahead = redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. ARGV[4])
if redis.call('ZCARD', KEYS[1]) + ahead < limit then
  redis.call('ZADD', KEYS[1], now + lease, member)
  redis.call('PEXPIRE', KEYS[1], math.ceil(lease * 1000) + 1000)
  if redis.call('ZREM', KEYS[2], member) == 1 then redis.call('ZREM', KEYS[3], member) end
  return 1
end
redis.call('ZADD', KEYS[2], priority, member)
redis.call('ZADD', KEYS[3], now + stale, member)
redis.call('PEXPIRE', KEYS[2], math.ceil(stale * 1000) + 1000)
redis.call('PEXPIRE', KEYS[3], math.ceil(stale * 1000) + 1000)
return 0
"""
)

# Leave a slot and wake the best waiters for the slots now free (usually one): a token on each
# one's own list, which it waits on with BLPOP. The wake lists' names are built here from the
# waiter's, so this needs one Redis server, not a Redis Cluster.
_LEAVE_SCRIPT = (
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREM', KEYS[1], ARGV[1])
"""
    + _FORGET_WAITERS
    + """
local free = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
if free < 1 then return 0 end
for _, w in ipairs(redis.call('ZRANGE', KEYS[2], 0, free - 1)) do
  local wake = KEYS[1] .. ':wake:' .. w
  redis.call('LPUSH', wake, '1')
  redis.call('PEXPIRE', wake, 10000)
end
return 1
"""
)


class RedisRateWindow:
    """:class:`RateWindow` whose window lives in Redis, shared by every worker on every host."""

    def __init__(
        self,
        redis,  # a redis.Redis client
        key: str,
        limit: int,
        seconds: float,
        *,
        sleep: Sleep = time.sleep,
        patience: float = 300.0,
    ) -> None:
        self.redis, self.key = redis, f"erpbridge:rate:{key}"
        self.limit, self.seconds, self.sleep, self.patience = limit, seconds, sleep, patience
        self._script = redis.register_script(_RATE_SCRIPT)

    def _now(self) -> float:
        seconds, micros = self.redis.time()
        return seconds + micros / 1_000_000  # the server's clock, as the script reads it

    @contextmanager
    def slot(self) -> Iterator[None]:
        waited = 0.0
        while True:
            member = uuid.uuid4().hex
            wait = float(
                self._script(
                    keys=[self.key, self.key + ":pause"],
                    args=[self.seconds, self.limit, member],
                )
            )
            if wait <= 0:
                break
            if waited + wait > self.patience:
                raise LimitTimeout(f"no request slot within {self.patience:.0f}s")
            self.sleep(wait)
            waited += wait
        yield

    def pause(self, seconds: float) -> None:
        until = self._now() + seconds
        self.redis.set(self.key + ":pause", until, px=int(seconds * 1000) + 1000)


class RedisConcurrency:
    """:class:`Concurrency` across processes: leases in a sorted set that expire on their own.

    A worker killed while holding a slot leaves a lease that expires after ``lease`` seconds
    (longer than the HTTP timeout), so a crash never shrinks the limit for good.

    Waiting does not poll. A waiter is entered in the key's waiters with its priority
    (``slot_priority``: the sync engine's batch start, else when it asked) and blocks on its own
    wake-up list (BLPOP); a holder that leaves pushes a token to the best waiter, whose slot is
    kept for it. Why both:

    * Polling every 50 ms left a freed slot idle for tens of milliseconds per handoff (200 ms
      NetSuite requests: the cluster kept 64 % of the account's concurrency busy).
    * First come, first served shares the slots evenly between the workers, so their batches
      advance in step and reach their serial parts (the duplicate search, reading the created
      documents' versions) together, with the slots idle meanwhile: measured, a dip to 1-5
      requests in flight every 2.5 s. The oldest batch first keeps them out of step: one batch
      runs at the full limit while the others fill what it leaves.

    A dead waiter stops counting after ``3 * wake`` seconds (a live one asks again every
    ``wake``); a token lost with it, or a lease that expires, is made good by the live waiters'
    own ``wake`` timeout. BLPOP's fractional timeout needs Redis 6.0 or newer; ``wake`` stays
    under the client's socket timeout (2 s, erpbridge/config.py).
    """

    def __init__(
        self,
        redis,
        key: str,
        limit: int,
        *,
        lease: float = 180.0,
        sleep: Sleep = time.sleep,
        patience: float = 300.0,
        wake: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis, self.key = redis, f"erpbridge:conc:{key}"
        self.keys = [self.key, self.key + ":waiters", self.key + ":deadlines"]
        self.limit, self.lease, self.patience, self.wake = limit, lease, patience, wake
        self.clock = clock  # ``sleep`` is the backends' signature: waits block on BLPOP
        self._enter = redis.register_script(_ENTER_SCRIPT)
        self._leave = redis.register_script(_LEAVE_SCRIPT)

    @contextmanager
    def slot(self) -> Iterator[None]:
        member = uuid.uuid4().hex
        priority = current_priority()
        if priority is None:
            priority = time.time()
        args = [self.limit, member, self.lease, repr(float(priority)), 3 * self.wake]
        deadline = self.clock() + self.patience
        while not self._enter(keys=self.keys, args=args):
            left = deadline - self.clock()
            if left <= 0:
                self.redis.zrem(self.keys[1], member)  # no longer waiting
                raise LimitTimeout(f"no concurrency slot within {self.patience:.0f}s")
            wake = f"{self.key}:wake:{member}"
            self.redis.blpop([wake], timeout=max(0.01, min(self.wake, left)))
        try:
            yield
        finally:
            self._leave(keys=self.keys, args=[member, self.limit])

    def pause(self, seconds: float) -> None:
        return None


# ---------------------------------------------------------------------------------------------
# Backends: where a connector's limiters keep their state. A connector's ``default_limiter``
# asks its backend for windows and concurrency caps by key, so the same limits run in memory
# (one process, tests), in Redis, or in the product's database (sync.limits.DatabaseLimits).


class LimitBackend(Protocol):
    def rate_window(
        self, key: str, limit: int, seconds: float, *, sleep: Sleep = ...
    ) -> Limiter: ...

    def concurrency(self, key: str, limit: int, *, sleep: Sleep = ...) -> Limiter: ...


class MemoryLimits:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock

    def rate_window(self, key: str, limit: int, seconds: float, *, sleep: Sleep = time.sleep):
        return RateWindow(limit, seconds, clock=self.clock, sleep=sleep)

    def concurrency(self, key: str, limit: int, *, sleep: Sleep = time.sleep):
        return Concurrency(limit)


class RedisLimits:
    def __init__(self, redis) -> None:
        self.redis = redis

    def rate_window(self, key: str, limit: int, seconds: float, *, sleep: Sleep = time.sleep):
        return RedisRateWindow(self.redis, key, limit, seconds, sleep=sleep)

    def concurrency(self, key: str, limit: int, *, sleep: Sleep = time.sleep):
        return RedisConcurrency(self.redis, key, limit, sleep=sleep)
