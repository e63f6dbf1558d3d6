"""The machinery every sandbox shares: routing, clock, faults, rate windows, JSON and state.

A sandbox subclasses :class:`Sandbox`, registers routes with :meth:`Sandbox.route`, keeps its
records in :class:`Store` collections and answers with :func:`json_response`. The base class
applies the configured faults (latency, 5xx, 429 bursts, timeouts, commit-then-drop) around every
request so each system only has to say what its own error bodies look like.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# ---------------------------------------------------------------------------------------------
# JSON: money stays Decimal inside the sandboxes and leaves as a JSON number.


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            # A JSON number, like the real services send. float(Decimal("1234.56")) prints back
            # as 1234.56, exact for the 2-4 decimal amounts ERPs carry.
            return float(o)
        if isinstance(o, datetime):
            return isoformat_z(o)
        if isinstance(o, (set, frozenset)):
            return sorted(o)
        return super().default(o)


def dumps(data: Any) -> bytes:
    return json.dumps(data, cls=_Encoder, separators=(",", ":")).encode()


def loads(raw: bytes | str) -> Any:
    return json.loads(raw, parse_float=Decimal)


def json_response(
    status: int, data: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = b"" if data is None else dumps(data)
    hdrs = {"content-type": "application/json; charset=utf-8"} if data is not None else {}
    hdrs.update(headers or {})
    return httpx.Response(status, content=body, headers=hdrs)


def text_response(status: int, text: str, headers: dict[str, str] | None = None) -> httpx.Response:
    hdrs = {"content-type": "text/plain; charset=utf-8"}
    hdrs.update(headers or {})
    return httpx.Response(status, content=text.encode(), headers=hdrs)


def isoformat_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z and milliseconds, the shape Procore and NetSuite send."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------
# Time: a clock a test can move forward (token expiry, rate windows, lastModifiedDate).


class Clock:
    """Wall-clock time plus an offset that tests and the control API can advance."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


# ---------------------------------------------------------------------------------------------
# Faults


class SandboxDrop(Exception):
    """Raised inside a handler to make the transport fail after state was (or wasn't) changed."""


@dataclass
class Faults:
    """Runtime fault settings. Rates are probabilities per request; ``*_next`` are exact counts.

    The counts make tests deterministic ("the next 3 writes commit and then drop"); the rates
    make the demo and the benchmarks look like a bad day on the real service.
    """

    latency_ms: float = 0.0  # mean added latency
    latency_jitter_ms: float = 0.0  # uniform +/- around the mean
    error_rate: float = 0.0  # 5xx probability
    error_status: int = 503
    error_next: int = 0  # the next N requests get a 5xx
    rate_limit_next: int = 0  # the next N requests get a 429 (a burst)
    retry_after: int = 1  # seconds announced with 429/503
    timeout_rate: float = 0.0  # the request is lost before it is applied
    timeout_next: int = 0
    commit_then_drop_rate: float = 0.0  # writes: applied, then the connection drops
    commit_then_drop_next: int = 0
    revoke_tokens: bool = False  # every access token is refused until cleared
    webhook_drop_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    webhook_reorder: bool = False
    seed: int | None = None

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown fault setting {key!r}")
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.random = random.Random(faults.seed)
        self._lock = threading.Lock()

    def _take(self, counter: str, rate: float) -> bool:
        if not rate and not getattr(self.faults, counter):
            return False  # the common case: no fault configured, no lock taken
        with self._lock:
            left = getattr(self.faults, counter)
            if left > 0:
                setattr(self.faults, counter, left - 1)
                return True
            return rate > 0 and self.random.random() < rate

    def latency(self) -> float:
        f = self.faults
        if f.latency_ms <= 0:
            return 0.0
        jitter = self.random.uniform(-f.latency_jitter_ms, f.latency_jitter_ms)
        return max(0.0, f.latency_ms + jitter) / 1000.0

    def server_error(self) -> bool:
        return self._take("error_next", self.faults.error_rate)

    def rate_limited(self) -> bool:
        return self._take("rate_limit_next", 0.0)

    def timeout(self) -> bool:
        return self._take("timeout_next", self.faults.timeout_rate)

    def commit_then_drop(self) -> bool:
        return self._take("commit_then_drop_next", self.faults.commit_then_drop_rate)


# ---------------------------------------------------------------------------------------------
# Rate windows


class SlidingWindow:
    """At most ``limit`` events in any ``seconds`` window (rolling), per key.

    ``scale`` shrinks the window so a benchmark sees the real ratios in seconds: QuickBooks'
    500/minute at scale 10 becomes 500 per 6 s.
    """

    def __init__(self, limit: int, seconds: float, clock: Clock, scale: float = 1.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self.scale = scale
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @property
    def window(self) -> float:
        return self.seconds / self.scale

    def _trim(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        horizon = now - self.window
        while events and events[0] <= horizon:
            events.popleft()
        return events

    def hit(self, key: str) -> tuple[bool, int, float]:
        """Record one request. Returns (allowed, remaining, reset_epoch_seconds)."""
        with self._lock:
            now = self.clock.time()
            events = self._trim(key, now)
            if len(events) >= self.limit:
                return False, 0, events[0] + self.window
            events.append(now)
            reset = events[0] + self.window
            return True, self.limit - len(events), reset

    def peek(self, key: str) -> tuple[int, float]:
        with self._lock:
            now = self.clock.time()
            events = self._trim(key, now)
            reset = (events[0] + self.window) if events else now + self.window
            return self.limit - len(events), reset

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


class ConcurrencyGate:
    """Counts requests in flight per key; refuses the one past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._inflight: dict[str, int] = {}
        self._lock = threading.Lock()
        self.peak = 0

    def enter(self, key: str) -> bool:
        with self._lock:
            current = self._inflight.get(key, 0)
            if current >= self.limit:
                return False
            self._inflight[key] = current + 1
            self.peak = max(self.peak, current + 1)
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            self._inflight[key] = max(0, self._inflight.get(key, 0) - 1)


# ---------------------------------------------------------------------------------------------
# Records


class Store:
    """Named collections of JSON-shaped records, keyed by string id, with per-collection counters.

    Records are kept in the shape the API returns them, so a GET is a copy of what is stored.
    Everything here is JSON-serialisable (Decimal and datetime via :func:`dumps`) so the state
    can be saved to a file and loaded back.
    """

    def __init__(self, first_id: int = 1) -> None:
        self.first_id = first_id
        self.collections: dict[str, dict[str, dict[str, Any]]] = {}
        self.counters: dict[str, int] = {}

    def collection(self, name: str) -> dict[str, dict[str, Any]]:
        return self.collections.setdefault(name, {})

    def next_id(self, name: str) -> str:
        value = self.counters.get(name, self.first_id - 1) + 1
        self.counters[name] = value
        return str(value)

    def insert(self, name: str, record: dict[str, Any], id_field: str = "id") -> dict[str, Any]:
        if record.get(id_field) in (None, ""):
            record[id_field] = self.next_id(name)
        else:
            rid = str(record[id_field])
            # Keep the counter ahead of explicitly chosen ids.
            if rid.isdigit():
                self.counters[name] = max(self.counters.get(name, 0), int(rid))
        self.collection(name)[str(record[id_field])] = record
        return record

    def get(self, name: str, rid: Any) -> dict[str, Any] | None:
        return self.collections.get(name, {}).get(str(rid))

    def all(self, name: str) -> list[dict[str, Any]]:
        return list(self.collections.get(name, {}).values())

    def delete(self, name: str, rid: Any) -> dict[str, Any] | None:
        return self.collections.get(name, {}).pop(str(rid), None)

    def count(self, name: str) -> int:
        return len(self.collections.get(name, {}))

    def dump(self) -> dict[str, Any]:
        return {"collections": self.collections, "counters": self.counters}

    def load(self, data: dict[str, Any]) -> None:
        self.collections = data.get("collections", {})
        self.counters = {k: int(v) for k, v in data.get("counters", {}).items()}


# ---------------------------------------------------------------------------------------------
# Requests and routing


class Req:
    """What a handler gets: the httpx request plus parsed path params, query and JSON body."""

    __slots__ = ("request", "params", "_query", "_json", "method", "path")

    def __init__(self, request: httpx.Request, params: dict[str, str]) -> None:
        self.request = request
        self.params = params
        self.method = request.method
        self.path = request.url.path
        self._query: list[tuple[str, str]] | None = None  # parsed on first use
        self._json: Any = _UNSET

    @property
    def query(self) -> list[tuple[str, str]]:
        if self._query is None:
            raw = self.request.url.query
            text = raw.decode() if isinstance(raw, bytes) else raw
            self._query = parse_qsl(text, keep_blank_values=True) if text else []
        return self._query

    @property
    def headers(self) -> httpx.Headers:
        return self.request.headers

    @property
    def body(self) -> bytes:
        return self.request.content

    def arg(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def args(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]

    def json(self) -> Any:
        """The JSON body; raises :class:`BadJson` when it does not parse."""
        if self._json is _UNSET:
            raw = self.request.content
            if not raw:
                self._json = None
            else:
                try:
                    self._json = loads(raw)
                except ValueError as exc:
                    raise BadJson(str(exc)) from exc
        return self._json

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.request.content.decode(), keep_blank_values=True))


_UNSET = object()


class BadJson(ValueError):
    pass


Handler = Callable[[Req], httpx.Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    write: bool
    name: str = ""


def compile_path(path: str) -> re.Pattern[str]:
    """``/rest/v1.0/projects/{project_id}`` -> a regex with named groups (no slashes in params)."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return re.compile(f"^{regex}/?$")


# ---------------------------------------------------------------------------------------------
# Webhook outbox


@dataclass
class Delivery:
    url: str
    headers: dict[str, str]
    body: bytes
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    delivered_at: float | None = None
    id: int = 0


Sender = Callable[[str, dict[str, str], bytes], int]


class Outbox:
    """Deliveries waiting to be POSTed; at-least-once, with drop/duplicate/reorder faults.

    ``flush(sender)`` sends what is due with ``sender(url, headers, body) -> status``. A failed
    delivery (exception or non-2xx) stays queued with its attempt count, like the real senders
    that retry with backoff; the sandbox does not wait the backoff out, the next flush retries.
    """

    def __init__(self, injector: FaultInjector, max_attempts: int = 10) -> None:
        self.injector = injector
        self.max_attempts = max_attempts
        self.pending: list[Delivery] = []
        self.sent: list[Delivery] = []
        self.dropped: list[Delivery] = []
        self.discarded: list[Delivery] = []
        self._lock = threading.Lock()
        self._ids = 0

    def enqueue(self, url: str, headers: dict[str, str], body: bytes) -> Delivery:
        with self._lock:
            self._ids += 1
            delivery = Delivery(url=url, headers=dict(headers), body=body, id=self._ids)
            faults = self.injector.faults
            rnd = self.injector.random
            if faults.webhook_drop_rate and rnd.random() < faults.webhook_drop_rate:
                self.dropped.append(delivery)
                return delivery
            self.pending.append(delivery)
            if faults.webhook_duplicate_rate and rnd.random() < faults.webhook_duplicate_rate:
                self.pending.append(
                    Delivery(url=url, headers=dict(headers), body=body, id=self._ids)
                )
            return delivery

    def flush(self, sender: Sender) -> list[Delivery]:
        with self._lock:
            batch, self.pending = self.pending, []
            if self.injector.faults.webhook_reorder:
                self.injector.random.shuffle(batch)
        done: list[Delivery] = []
        retry: list[Delivery] = []
        for delivery in batch:
            delivery.attempts += 1
            try:
                delivery.status = sender(delivery.url, delivery.headers, delivery.body)
                delivery.error = None
            except Exception as exc:  # noqa: BLE001 - any transport failure means "retry later"
                delivery.status, delivery.error = None, f"{type(exc).__name__}: {exc}"
            if delivery.status is not None and 200 <= delivery.status < 300:
                delivery.delivered_at = time.time()
                done.append(delivery)
            elif delivery.attempts >= self.max_attempts:
                self.discarded.append(delivery)
            else:
                retry.append(delivery)
        with self._lock:
            self.sent.extend(done)
            self.pending = retry + self.pending
        return done


def httpx_sender(timeout: float = 5.0) -> Sender:
    client = httpx.Client(timeout=timeout)

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        return client.post(url, headers=headers, content=body).status_code

    return send


# ---------------------------------------------------------------------------------------------
# The base class


class Sandbox:
    """Base for a simulated remote system. Subclasses register routes in ``setup_routes``."""

    name = "sandbox"

    def __init__(self, *, seed: int | None = None, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.faults = Faults(seed=seed)
        self.injector = FaultInjector(self.faults)
        self.outbox = Outbox(self.injector)
        self.store = Store()
        self.lock = threading.RLock()
        self.routes: list[Route] = []
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=1000)
        self.request_count = 0
        self._control_routes()
        self.setup_routes()

    # -- to override --------------------------------------------------------------------------

    def setup_routes(self) -> None:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> httpx.Response:
        """The system's own body for a fault the base injects (5xx, 429, 400 for bad JSON)."""
        return json_response(status, {"error": message})

    def throttle(self, req: Req) -> httpx.Response | None:
        """Rate and concurrency limits; return a response to refuse the request."""
        return None

    def release(self, req: Req) -> None:
        """Called after every request that passed :meth:`throttle` (concurrency bookkeeping)."""

    def decorate(self, req: Req, response: httpx.Response) -> httpx.Response:
        """Add headers every response carries (rate-limit headers, request ids)."""
        return response

    def reset_state(self) -> None:
        """Forget every record (the control API's reset); subclasses re-create fixed data."""
        self.store = Store()

    # -- routing ------------------------------------------------------------------------------

    def route(self, method: str, path: str, handler: Handler, *, write: bool | None = None) -> None:
        is_write = method in WRITE_METHODS if write is None else write
        self.routes.append(Route(method, compile_path(path), handler, is_write, path))

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_seen = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                path_seen = True
                if route.method == method:
                    return route, found.groupdict(), True
        return None, {}, path_seen

    # -- the entry point ----------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.request_count += 1
        route, params, path_seen = self._match(request.method, path)
        if route is None:
            status = 405 if path_seen else 404
            return self.error_body(status, "Method not allowed" if path_seen else "Not found")
        req = Req(request, params)
        if path.startswith("/_sandbox/"):
            with self.lock:
                return route.handler(req)
        response = self._handle_api(route, req)
        self.request_log.append((request.method, path, response.status_code))
        return response

    def _handle_api(self, route: Route, req: Req) -> httpx.Response:
        inj = self.injector
        if inj.timeout():
            delay = self.latency_or_default()
            if delay:
                time.sleep(delay)
            raise httpx.ReadTimeout("sandbox: simulated timeout", request=req.request)
        refused = self.throttle(req)
        if refused is not None:
            return refused
        try:
            delay = inj.latency()
            if delay:
                time.sleep(delay)
            if inj.rate_limited():
                return self.decorate(req, self.rate_limited_response(req))
            if inj.server_error():
                return self.decorate(
                    req, self.error_body(self.faults.error_status, "Service unavailable")
                )
            drop_after = route.write and inj.commit_then_drop()
            with self.lock:
                try:
                    response = route.handler(req)
                except BadJson as exc:
                    response = self.error_body(400, f"Malformed JSON: {exc}")
            if drop_after and response.status_code < 400:
                # The write is applied; the client never hears back (DESIGN.md rule 1).
                raise httpx.ReadError(
                    "sandbox: connection dropped after commit", request=req.request
                )
            return self.decorate(req, response)
        finally:
            self.release(req)

    def latency_or_default(self) -> float:
        return self.injector.latency()

    def rate_limited_response(self, req: Req) -> httpx.Response:
        response = self.error_body(429, "Too many requests")
        response.headers["Retry-After"] = str(self.faults.retry_after)
        return response

    # -- state --------------------------------------------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        return {"store": self.store.dump(), "clock_offset": self.clock.offset}

    def load_state(self, data: dict[str, Any]) -> None:
        self.store.load(data.get("store", {}))
        self.clock.offset = float(data.get("clock_offset", 0.0))

    def save(self, path: str) -> None:
        with self.lock, open(path, "wb") as fh:
            fh.write(dumps(self.dump_state()))

    def load(self, path: str) -> None:
        with open(path, "rb") as fh, self.lock:
            self.load_state(loads(fh.read()))

    # -- webhooks -----------------------------------------------------------------------------

    def deliver(self, sender: Sender | None = None) -> list[Delivery]:
        """Send queued webhook deliveries (in-process tests pass a sender that calls Django)."""
        return self.outbox.flush(sender or httpx_sender())

    # -- control API (/_sandbox/...) ----------------------------------------------------------

    def _control_routes(self) -> None:
        self.route("GET", "/_sandbox/faults", self._ctl_get_faults, write=False)
        self.route("POST", "/_sandbox/faults", self._ctl_set_faults, write=False)
        self.route("POST", "/_sandbox/reset", self._ctl_reset, write=False)
        self.route("POST", "/_sandbox/clock/advance", self._ctl_advance, write=False)
        self.route("GET", "/_sandbox/state", self._ctl_state, write=False)
        self.route("GET", "/_sandbox/records/{collection}", self._ctl_records, write=False)
        self.route("GET", "/_sandbox/records/{collection}/{rid}", self._ctl_record, write=False)
        self.route("GET", "/_sandbox/webhooks", self._ctl_webhooks, write=False)
        self.route("POST", "/_sandbox/webhooks/flush", self._ctl_flush, write=False)

    def _ctl_get_faults(self, req: Req) -> httpx.Response:
        return json_response(200, self.faults.as_dict())

    def _ctl_set_faults(self, req: Req) -> httpx.Response:
        try:
            self.faults.update(req.json() or {})
        except (ValueError, BadJson) as exc:
            return json_response(400, {"error": str(exc)})
        return json_response(200, self.faults.as_dict())

    def _ctl_reset(self, req: Req) -> httpx.Response:
        self.reset_state()
        self.faults.__init__(seed=self.faults.seed)  # type: ignore[misc]
        return json_response(200, {"reset": True})

    def _ctl_advance(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        self.clock.advance(float(body.get("seconds", 0)))
        return json_response(200, {"now": isoformat_z(self.clock.now())})

    def _ctl_state(self, req: Req) -> httpx.Response:
        counts = {name: len(rows) for name, rows in self.store.collections.items()}
        return json_response(
            200,
            {
                "name": self.name,
                "now": isoformat_z(self.clock.now()),
                "requests": self.request_count,
                "collections": counts,
                "webhooks": {
                    "pending": len(self.outbox.pending),
                    "sent": len(self.outbox.sent),
                    "dropped": len(self.outbox.dropped),
                },
            },
        )

    def _ctl_records(self, req: Req) -> httpx.Response:
        return json_response(200, self.store.all(req.params["collection"]))

    def _ctl_record(self, req: Req) -> httpx.Response:
        record = self.store.get(req.params["collection"], req.params["rid"])
        if record is None:
            return json_response(404, {"error": "no such record"})
        return json_response(200, record)

    def _ctl_webhooks(self, req: Req) -> httpx.Response:
        def view(items: Iterable[Delivery]) -> list[dict[str, Any]]:
            return [
                {
                    "id": d.id,
                    "url": d.url,
                    "attempts": d.attempts,
                    "status": d.status,
                    "error": d.error,
                }
                for d in items
            ]

        return json_response(
            200,
            {
                "pending": view(self.outbox.pending),
                "sent": view(self.outbox.sent),
                "dropped": view(self.outbox.dropped),
                "discarded": view(self.outbox.discarded),
            },
        )

    def _ctl_flush(self, req: Req) -> httpx.Response:
        done = self.deliver()
        return json_response(200, {"delivered": len(done), "pending": len(self.outbox.pending)})


def client_for(
    sandbox: Sandbox, base_url: str = "https://sandbox.invalid", **kwargs: Any
) -> httpx.Client:
    """An httpx client wired to a sandbox in-process (tests and benchmarks)."""
    return httpx.Client(base_url=base_url, transport=httpx.MockTransport(sandbox.handle), **kwargs)
