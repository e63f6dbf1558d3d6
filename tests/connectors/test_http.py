"""The shared HTTP layer: retries, 401 handling, error families, masking, limits."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import httpx
import pytest

from connectors.errors import (
    AuthError,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
    mask_body,
    mask_headers,
)
from connectors.http import ApiClient, RetryPolicy, parse_retry_after
from connectors.limits import Combined, Concurrency, RateWindow
from connectors.tokens import MemoryTokenStore, TokenManager


def scripted(*steps: int | Exception | Callable[[httpx.Request], httpx.Response]):
    """A transport answering each request with the next step; records what was sent."""
    sent: list[httpx.Request] = []
    queue = list(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        step = queue.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step):
            return step(request)
        headers = {"Retry-After": "2"} if step == 429 else {}
        return httpx.Response(step, json={"ok": step < 400}, headers=headers)

    return httpx.MockTransport(handler), sent


def make(transport, **kwargs) -> tuple[ApiClient, list[float]]:
    sleeps: list[float] = []
    client = ApiClient(
        base_url="https://remote.invalid",
        transport=transport,
        sleep=sleeps.append,
        rng=random.Random(1),
        **kwargs,
    )
    return client, sleeps


def test_reads_retry_transient_faults_with_backoff_then_succeed():
    transport, sent = scripted(503, httpx.ReadTimeout("slow"), 200)
    client, sleeps = make(transport)
    assert client.get("/things").status_code == 200
    assert len(sent) == 3 and len(sleeps) == 2 and client.retries == 2


def test_retries_are_bounded_and_the_last_error_is_raised():
    transport, sent = scripted(*([500] * 10))
    client, sleeps = make(transport, retry=RetryPolicy(attempts=3))
    with pytest.raises(TransientError) as info:
        client.get("/things")
    assert len(sent) == 3 and info.value.status == 500
    assert info.value.exchange.status == 500


def test_429_honours_retry_after():
    transport, sent = scripted(429, 200)
    client, sleeps = make(transport)
    client.get("/things")
    assert 2.0 <= sleeps[0] <= 2.5


def test_a_write_whose_answer_is_lost_is_outcome_unknown_and_not_retried():
    transport, sent = scripted(httpx.ReadError("dropped"), 201)
    client, _ = make(transport)
    with pytest.raises(OutcomeUnknown):
        client.send("POST", "/things", json={"a": 1})
    assert len(sent) == 1


def test_a_write_that_failed_to_connect_is_retried():
    transport, sent = scripted(httpx.ConnectError("refused"), 201)
    client, _ = make(transport)
    assert client.send("POST", "/things", json={}).status_code == 201
    assert len(sent) == 2


def test_an_idempotent_write_is_retried_after_a_lost_answer():
    transport, sent = scripted(httpx.ReadError("dropped"), 204)
    client, _ = make(transport)
    assert client.send("PUT", "/things/eid:x", json={}, idempotent=True).status_code == 204
    assert len(sent) == 2


def test_a_500_on_a_write_is_outcome_unknown_but_a_503_is_retried():
    transport, sent = scripted(500)
    client, _ = make(transport)
    with pytest.raises(OutcomeUnknown):
        client.send("POST", "/things", json={})
    transport, sent = scripted(503, 201)
    client, _ = make(transport)
    assert client.send("POST", "/things", json={}).status_code == 201


@pytest.mark.parametrize(
    ("status", "family"),
    [(400, ValidationFailed), (404, NotFound), (403, PermissionDenied), (422, ValidationFailed)],
)
def test_status_codes_map_to_families_without_retry(status, family):
    transport, sent = scripted(status)
    client, _ = make(transport)
    with pytest.raises(family):
        client.get("/things")
    assert len(sent) == 1


def test_401_refreshes_once_and_retries_then_marks_the_connection():
    store = MemoryTokenStore({"access_token": "old", "refresh_token": "r1", "expires_at": 9e12})
    issued = iter(["new1", "new2"])
    tokens = TokenManager(store, lambda cur: {"access_token": next(issued), "expires_in": 3600})
    transport, sent = scripted(401, 200)
    client, _ = make(transport, tokens=tokens)
    assert client.get("/things").status_code == 200
    assert [r.headers["Authorization"] for r in sent] == ["Bearer old", "Bearer new1"]

    transport, sent = scripted(401, 401, 200)
    client, _ = make(transport, tokens=tokens)
    with pytest.raises(AuthError):
        client.get("/things")
    assert len(sent) == 2 and store.needs_reauth


def test_token_refresh_happens_before_expiry_and_only_once_across_threads():
    clock = [1000.0]
    store = MemoryTokenStore({"access_token": "a0", "refresh_token": "r0", "expires_at": 1030.0})
    calls: list[str] = []
    gate = threading.Barrier(4)

    def fetch(current):
        calls.append(current["refresh_token"])
        n = len(calls)
        return {"access_token": f"a{n}", "refresh_token": f"r{n}", "expires_in": 3600}

    manager = TokenManager(store, fetch, leeway=60, clock=lambda: clock[0])
    results: list[str] = []

    def worker():
        gate.wait()
        results.append(manager.access_token())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["r0"]  # the rotating refresh token was used exactly once
    assert results == ["a1"] * 4 and store.token["refresh_token"] == "r1"


def test_secrets_are_masked_in_captured_exchanges():
    headers = mask_headers({"Authorization": "Bearer abcdefghijklmnop", "Accept": "x"})
    assert headers["Authorization"] == "****mnop" and headers["Accept"] == "x"
    body = mask_body(b'{"client_secret": "s3cr3t-value-long", "name": "ok"}', "application/json")
    assert "s3cr3t" not in body and '"name": "ok"' in body
    form = mask_body(
        b"grant_type=refresh_token&refresh_token=abcdefghijk", "application/x-www-form-urlencoded"
    )
    assert "abcdefghijk" not in form and "grant_type=refresh_token" in form


def test_rate_window_waits_for_the_oldest_start_to_leave():
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    window = RateWindow(2, 10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        with window.slot():
            pass
    assert sleeps == [10.0]
    window.pause(5)
    with window.slot():
        pass
    assert sleeps[-1] == 5.0


def test_combined_limits_cap_concurrency():
    limiter = Combined(Concurrency(2), RateWindow(100, 1.0))
    inside, peak = [0], [0]
    lock = threading.Lock()
    gate = threading.Barrier(5)

    def worker():
        gate.wait()
        with limiter.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            threading.Event().wait(0.02)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_parse_retry_after_accepts_seconds_and_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_rate_limited_surfaces_when_retries_run_out():
    transport, _ = scripted(429, 429)
    client, _ = make(transport, retry=RetryPolicy(attempts=2))
    with pytest.raises(RateLimited) as info:
        client.get("/x")
    assert info.value.retry_after == 2.0


@pytest.fixture
def redis_client():
    import os

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set: the shared limiters run in the PostgreSQL + Redis pass")
    import redis

    client = redis.Redis.from_url(url)
    yield client
    for key in client.scan_iter("erpbridge:*:test-*"):
        client.delete(key)


def test_redis_rate_window_is_shared_between_limiter_instances(redis_client):
    from connectors.limits import RedisRateWindow

    sleeps: list[float] = []
    key = f"test-{random.random()}"
    first = RedisRateWindow(redis_client, key, 2, 30.0, sleep=sleeps.append, patience=0.01)
    second = RedisRateWindow(redis_client, key, 2, 30.0, sleep=sleeps.append, patience=0.01)
    with first.slot(), second.slot():
        pass
    from connectors.limits import LimitTimeout

    with pytest.raises(LimitTimeout), first.slot():
        pass


def test_redis_concurrency_is_shared_and_released(redis_client):
    from connectors.limits import LimitTimeout, RedisConcurrency

    key = f"test-{random.random()}"
    one = RedisConcurrency(redis_client, key, 1, patience=0.01)
    two = RedisConcurrency(redis_client, key, 1, patience=0.01)
    with one.slot(), pytest.raises(LimitTimeout), two.slot():
        pass
    with two.slot():
        pass


def test_redis_concurrency_waiter_is_woken_by_the_release_not_by_its_timeout(redis_client):
    """A waiter blocks on the key's wake-up list; the holder's release hands it the slot at
    once. With a 30 s wake-up timeout, only the release can get it through before the holder
    thread's own 5 s join gives up."""
    import threading

    from connectors.limits import RedisConcurrency

    key = f"test-{random.random()}"
    holder = RedisConcurrency(redis_client, key, 1)
    waiter = RedisConcurrency(redis_client, key, 1, wake=30.0, patience=60.0)
    entered = threading.Event()
    tries: list[str] = []
    enter = waiter._enter

    def counted(*args, **kwargs):
        ok = enter(*args, **kwargs)
        tries.append("in" if ok else "full")
        return ok

    waiter._enter = counted

    def wait_for_slot():
        with waiter.slot():
            entered.set()

    with holder.slot():
        thread = threading.Thread(target=wait_for_slot, daemon=True)
        thread.start()
        for _ in range(200):  # until the waiter has found the slot taken and blocks
            if tries:
                break
            threading.Event().wait(0.01)
        assert tries == ["full"] and not entered.is_set()
    thread.join(timeout=5)
    assert entered.is_set()
    assert tries == ["full", "in"]
    assert redis_client.zcard(f"erpbridge:conc:{key}") == 0
    # No token piles up: the waiter left the waiters, and no wake-up list holds more than one.
    assert redis_client.zcard(f"erpbridge:conc:{key}:waiters") == 0
    wakes = list(redis_client.scan_iter(f"erpbridge:conc:{key}:wake:*"))
    assert all(redis_client.llen(w) <= 1 for w in wakes)


def test_redis_concurrency_gives_a_freed_slot_to_the_best_priority_waiter(redis_client):
    """Two waiters for one slot: the one with the lower priority (the older batch) gets it
    when the holder leaves, although it asked second; the other gets it after that."""
    import threading

    from connectors.limits import RedisConcurrency, slot_priority

    key = f"test-{random.random()}"
    limiter = RedisConcurrency(redis_client, key, 1, wake=30.0, patience=60.0)
    order: list[str] = []
    release = {name: threading.Event() for name in ("old", "new")}

    def wait(name: str, priority: float):
        with slot_priority(priority), limiter.slot():
            order.append(name)
            release[name].wait(10)

    def waiting() -> int:
        return redis_client.zcard(f"erpbridge:conc:{key}:waiters")

    threads = []
    with limiter.slot():
        for name, priority in (("new", 200.0), ("old", 100.0)):  # the newer one asks first
            threads.append(threading.Thread(target=wait, args=(name, priority), daemon=True))
            threads[-1].start()
            for _ in range(500):
                if waiting() == len(threads):
                    break
                threading.Event().wait(0.01)
        assert waiting() == 2 and order == []
    for _ in range(500):
        if order:
            break
        threading.Event().wait(0.01)
    assert order == ["old"]
    release["old"].set()
    release["new"].set()
    for thread in threads:
        thread.join(timeout=5)
    assert order == ["old", "new"]
    assert waiting() == 0


def test_redis_concurrency_forgets_a_dead_waiter(redis_client):
    """A waiter that died (entered as waiting with a better priority, never asks again) stops
    keeping the slot from the others once its deadline passes."""
    import time

    from connectors.limits import LimitTimeout, RedisConcurrency, slot_priority

    key = f"test-{random.random()}"
    limiter = RedisConcurrency(redis_client, key, 1, wake=0.05, patience=0.01)
    with limiter.slot(), slot_priority(1.0), pytest.raises(LimitTimeout), limiter.slot():
        pass  # full: this waiter is entered with priority 1 (the timeout forgets it)
    # A dead waiter: entered by hand as the script would, with a better priority.
    redis_client.zadd(f"erpbridge:conc:{key}:waiters", {"dead": 0.5})
    redis_client.zadd(f"erpbridge:conc:{key}:deadlines", {"dead": time.time() + 3600})
    with slot_priority(2.0), pytest.raises(LimitTimeout), limiter.slot():
        pass  # the free slot is kept for the better waiter
    # Its deadline passes (the server's clock): it no longer counts.
    redis_client.zadd(f"erpbridge:conc:{key}:deadlines", {"dead": 0})
    with slot_priority(2.0), limiter.slot():
        assert redis_client.zcard(f"erpbridge:conc:{key}:waiters") == 0


def count_commands(client) -> list[str]:
    """Record the name of every command the client sends (each is one round trip)."""
    sent: list[str] = []
    send = client.execute_command

    def counting(*args, **options):
        sent.append(str(args[0]))
        return send(*args, **options)

    client.execute_command = counting
    return sent


def test_redis_slots_cost_one_round_trip_the_scripts_read_the_clock(redis_client):
    from connectors.limits import RedisConcurrency, RedisRateWindow

    key = f"test-{random.random()}"
    rate = RedisRateWindow(redis_client, key, 10, 30.0)
    conc = RedisConcurrency(redis_client, key, 10)
    with rate.slot(), conc.slot():  # loads the scripts on the server (NOSCRIPT, SCRIPT LOAD)
        pass
    sent = count_commands(redis_client)
    with rate.slot():
        assert sent == ["EVALSHA"]
    sent.clear()
    with conc.slot():
        assert sent == ["EVALSHA"]
    assert sent == ["EVALSHA", "EVALSHA"]  # leaving: ZREM and the waiter's token, one script


def test_redis_leases_expire_and_pause_holds_every_limiter(redis_client):
    import time

    from connectors.limits import LimitTimeout, RedisConcurrency, RedisRateWindow

    key = f"test-{random.random()}"
    crashed = RedisConcurrency(redis_client, key, 1, lease=0.2)
    other = RedisConcurrency(redis_client, key, 1, patience=0.01, wake=0.005)
    with crashed.slot():
        with pytest.raises(LimitTimeout), other.slot():
            pass
        time.sleep(0.3)  # past the lease, on the server's clock
        with other.slot():
            pass

    sleeps: list[float] = []
    first = RedisRateWindow(redis_client, key, 5, 30.0, sleep=sleeps.append, patience=100.0)
    second = RedisRateWindow(redis_client, key, 5, 30.0, sleep=sleeps.append, patience=1.0)
    first.pause(60.0)
    with pytest.raises(LimitTimeout), second.slot():
        pass
    assert sleeps == []  # 60 s to wait is past the patience, so no sleep
    with pytest.raises(LimitTimeout), first.slot():  # the fake sleep never ends the pause
        pass
    assert len(sleeps) == 1 and 59.0 < sleeps[0] <= 60.0  # the rest of the pause, once


def test_clients_share_one_verifying_tls_context(monkeypatch):
    """Building a TLS context parses the CA bundle (~30 ms): built once per process, not per
    client, and still verifying certificates and host names."""
    import ssl

    from connectors.http import tls_context

    built = []
    real = httpx.create_ssl_context
    monkeypatch.setattr(httpx, "create_ssl_context", lambda: built.append(1) or real())
    tls_context.cache_clear()
    try:
        clients = [ApiClient(base_url=f"https://erp{n}.example") for n in range(3)]
        assert len(built) == 1
        shared = tls_context()
        assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname
        for client in clients:  # the context each client's connection pool will use
            assert client.http._transport._pool._ssl_context is shared
            client.close()
    finally:
        tls_context.cache_clear()


def test_clients_sharing_connections_reuse_the_kept_alive_connection():
    """Three clients in turn for one owner open one TCP connection; another owner its own."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    accepted = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self):
            got = super().get_request()
            accepted.append(got[1])
            return got

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for _ in range(3):
            client = ApiClient(base_url=url)
            client.share_connections(("test-owner", url))
            assert client.get("/ping").json() == {}
            client.close()
        assert len(accepted) == 1
        other = ApiClient(base_url=url)
        other.share_connections(("another-owner", url))
        other.get("/ping")
        assert len(accepted) == 2
        alone = ApiClient(base_url=url)  # not shared: its own connection, as before
        alone.get("/ping")
        alone.close()
        assert len(accepted) == 3
    finally:
        server.shutdown()
        server.server_close()
