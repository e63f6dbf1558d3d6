"""The shared sandbox machinery: faults, control API, rate windows, outbox, loopback server."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from sandboxes.core import (
    Clock,
    ConcurrencyGate,
    Req,
    Sandbox,
    SlidingWindow,
    client_for,
    json_response,
    loads,
)
from sandboxes.server import SandboxServer


class TinySandbox(Sandbox):
    name = "tiny"

    def setup_routes(self) -> None:
        self.route("GET", "/things/{tid}", self.get_thing)
        self.route("POST", "/things", self.create_thing)

    def get_thing(self, req: Req) -> httpx.Response:
        thing = self.store.get("things", req.params["tid"])
        return json_response(200, thing) if thing else self.error_body(404, "Not found")

    def create_thing(self, req: Req) -> httpx.Response:
        thing = self.store.insert("things", dict(req.json()))
        self.outbox.enqueue("http://hook.invalid/", {"x": "1"}, str(thing["id"]).encode())
        return json_response(201, thing)


@pytest.fixture
def tiny() -> TinySandbox:
    return TinySandbox(seed=7)


def test_money_round_trips_as_decimal_and_leaves_as_a_json_number(tiny):
    client = client_for(tiny)
    created = client.post("/things", content=b'{"amount": 1234.56}')
    assert created.status_code == 201
    assert b'"amount":1234.56' in created.content
    assert tiny.store.get("things", created.json()["id"])["amount"] == Decimal("1234.56")
    assert loads(created.content)["amount"] == Decimal("1234.56")


def test_unknown_path_is_404_and_wrong_method_405(tiny):
    client = client_for(tiny)
    assert client.get("/nothing").status_code == 404
    assert client.delete("/things/1").status_code == 405


def test_malformed_json_is_a_400_not_a_crash(tiny):
    response = client_for(tiny).post("/things", content=b"{not json")
    assert response.status_code == 400
    assert tiny.store.count("things") == 0


def test_commit_then_drop_applies_the_write_and_the_client_sees_a_transport_error(tiny):
    tiny.faults.commit_then_drop_next = 1
    client = client_for(tiny)
    with pytest.raises(httpx.TransportError):
        client.post("/things", json={"name": "a"})
    assert tiny.store.count("things") == 1  # applied despite the lost answer
    assert client.post("/things", json={"name": "b"}).status_code == 201  # only the next one


def test_commit_then_drop_never_touches_reads(tiny):
    tiny.store.insert("things", {"name": "a"})
    tiny.faults.commit_then_drop_next = 1
    assert client_for(tiny).get("/things/1").status_code == 200
    assert tiny.faults.commit_then_drop_next == 1


def test_timeout_loses_the_request_before_it_is_applied(tiny):
    tiny.faults.timeout_next = 1
    with pytest.raises(httpx.TimeoutException):
        client_for(tiny).post("/things", json={"name": "a"})
    assert tiny.store.count("things") == 0


def test_5xx_and_429_bursts_come_with_retry_after(tiny):
    tiny.faults.update({"error_next": 2, "rate_limit_next": 1, "retry_after": 3})
    client = client_for(tiny)
    first = client.get("/things/1")
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert [client.get("/things/1").status_code for _ in range(3)] == [503, 503, 404]


def test_error_rate_is_reproducible_with_a_seed():
    def run() -> list[int]:
        box = TinySandbox(seed=3)
        box.faults.error_rate = 0.5
        client = client_for(box)
        return [client.get("/things/1").status_code for _ in range(40)]

    statuses = run()
    assert statuses == run()
    assert 5 < statuses.count(503) < 35


def test_control_api_sets_faults_resets_and_reads_records(tiny):
    client = client_for(tiny)
    client.post("/things", json={"name": "a"})
    assert client.get("/_sandbox/records/things").json()[0]["name"] == "a"
    assert client.post("/_sandbox/faults", json={"error_next": 1}).json()["error_next"] == 1
    bad = client.post("/_sandbox/faults", json={"nonsense": 1})
    assert bad.status_code == 400 and "nonsense" in bad.json()["error"]
    state = client.get("/_sandbox/state").json()
    assert state["collections"] == {"things": 1}
    client.post("/_sandbox/reset")
    assert tiny.store.count("things") == 0 and tiny.faults.error_next == 0


def test_clock_advance_moves_time(tiny):
    before = tiny.clock.time()
    client_for(tiny).post("/_sandbox/clock/advance", json={"seconds": 5400})
    assert tiny.clock.time() - before >= 5400


def test_sliding_window_rolls_and_scales():
    clock = Clock()
    window = SlidingWindow(limit=2, seconds=60, clock=clock, scale=10)  # 2 per 6 s
    assert window.hit("k")[0] and window.hit("k")[0]
    allowed, remaining, reset = window.hit("k")
    assert not allowed and remaining == 0 and reset > clock.time()
    assert window.hit("other")[0]  # per key
    clock.advance(6.01)
    assert window.hit("k")[0]


def test_concurrency_gate_refuses_past_the_limit():
    gate = ConcurrencyGate(limit=2)
    assert gate.enter("acct") and gate.enter("acct")
    assert not gate.enter("acct")
    gate.leave("acct")
    assert gate.enter("acct") and gate.peak == 2


def test_outbox_is_at_least_once_and_retries_failed_deliveries(tiny):
    client = client_for(tiny)
    client.post("/things", json={"name": "a"})
    calls: list[bytes] = []

    def flaky(url, headers, body):
        calls.append(body)
        if len(calls) == 1:
            raise httpx.ConnectError("down")
        return 204

    assert tiny.deliver(flaky) == []
    assert len(tiny.outbox.pending) == 1
    assert len(tiny.deliver(flaky)) == 1
    assert calls == [b"1", b"1"] and tiny.outbox.pending == []


def test_outbox_faults_drop_duplicate_and_reorder():
    box = TinySandbox(seed=1)
    box.faults.update({"webhook_duplicate_rate": 1.0})
    client_for(box).post("/things", json={})
    assert len(box.outbox.pending) == 2
    box.outbox.pending.clear()
    box.faults.update({"webhook_duplicate_rate": 0.0, "webhook_drop_rate": 1.0})
    client_for(box).post("/things", json={})
    assert box.outbox.pending == [] and len(box.outbox.dropped) == 1
    box.faults.update({"webhook_drop_rate": 0.0, "webhook_reorder": True})
    for _ in range(12):
        client_for(box).post("/things", json={})
    received: list[bytes] = []
    box.deliver(lambda url, headers, body: received.append(body) or 200)
    assert sorted(received, key=int) != received  # shuffled, with a fixed seed
    assert len(received) == 12


def test_state_saves_and_loads(tiny, tmp_path):
    client_for(tiny).post("/things", json={"amount": 10.5})
    tiny.clock.advance(100)
    path = tmp_path / "state.json"
    tiny.save(str(path))
    other = TinySandbox()
    other.load(str(path))
    assert other.store.get("things", "1")["amount"] == Decimal("10.5")
    assert other.clock.offset == pytest.approx(tiny.clock.offset)
    assert other.store.next_id("things") == "2"


def test_loopback_server_serves_the_same_core_and_hangs_up_on_commit_then_drop(tiny):
    server = SandboxServer()
    url = server.add(tiny, 0)
    server.start()
    try:
        with httpx.Client(base_url=url, timeout=5) as client:
            assert client.post("/things", json={"name": "a"}).status_code == 201
            assert client.get("/things/1").json()["name"] == "a"
            tiny.faults.commit_then_drop_next = 1
            with pytest.raises(httpx.TransportError):
                client.post("/things", json={"name": "b"})
        assert tiny.store.count("things") == 2
    finally:
        server.stop()
