"""The NetSuite client against the NetSuite sandbox in-process: auth, paging, faults, writes."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from connectors.errors import (
    AuthError,
    Conflict,
    Duplicate,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from connectors.http import RetryPolicy
from connectors.limits import Concurrency, NoLimit
from connectors.netsuite import NetSuiteClient, default_limiter, validate_credentials
from connectors.tokens import MemoryTokenStore

ns = pytest.importorskip("sandboxes.netsuite", reason="NetSuite sandbox not importable yet")
keys = pytest.importorskip("sandboxes.netsuite.keys")
from sandboxes.netsuite.schema import RECORD_TYPES  # noqa: E402

BASE = "https://sandbox.invalid"


def m2m_settings(**over):
    return {
        "account_id": keys.DEMO_ACCOUNT_ID,
        "base_url": BASE,
        "auth_method": "m2m",
        "client_id": keys.DEMO_CLIENT_ID,
        "certificate_id": keys.DEMO_CERTIFICATE_ID,
        "private_key_pem": keys.demo_private_key_pem().decode(),
        **over,
    }


def tba_settings(**over):
    return {
        "account_id": keys.DEMO_ACCOUNT_ID,
        "base_url": BASE,
        "auth_method": "tba",
        "consumer_key": keys.DEMO_CONSUMER_KEY,
        "consumer_secret": keys.DEMO_CONSUMER_SECRET,
        "token_id": keys.DEMO_TOKEN_ID,
        "token_secret": keys.DEMO_TOKEN_SECRET,
        **over,
    }


class Recorder:
    """A transport in front of the sandbox that records every request it passes on."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.requests: list[httpx.Request] = []
        self.responses: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        response = self.sandbox.handle(request)
        with self._lock:
            self.responses.append(response.status_code)
        return response

    def count(self, path_part: str) -> int:
        return sum(1 for r in self.requests if path_part in r.url.path)


@pytest.fixture
def sb():
    return ns.NetSuiteSandbox(seed=1)


@pytest.fixture
def wire(sb):
    return Recorder(sb)


def make(sb, wire, settings=None, *, store=None, limiter=None, clock=None, **kw):
    sleeps: list[float] = []
    client = NetSuiteClient.from_settings(
        settings or m2m_settings(),
        token_store=store if store is not None else MemoryTokenStore(),
        transport=httpx.MockTransport(wire),
        limiter=limiter if limiter is not None else NoLimit(),
        sleep=sleeps.append,
        clock=clock or sb.clock.time,
        **kw,
    )
    client.sleeps = sleeps
    return client


@pytest.fixture
def client(sb, wire):
    return make(sb, wire)


@pytest.fixture
def world(client):
    """The setup records every transaction needs, created through the client's upserts."""
    ids = {}
    ids["cur"] = client.upsert("currency", "usd", {"name": "USD", "symbol": "USD"}).id
    ids["sub"] = client.upsert(
        "subsidiary", "sub-1", {"name": "Parent", "currency": {"id": ids["cur"]}}
    ).id
    subs = {"items": [{"id": ids["sub"]}]}
    ids["ap"] = client.upsert(
        "account", "ap", {"acctName": "AP", "acctType": {"id": "AcctPay"}, "subsidiary": subs}
    ).id
    ids["exp"] = client.upsert(
        "account",
        "exp",
        {"acctName": "Materials", "acctType": {"id": "Expense"}, "subsidiary": subs},
    ).id
    ids["ven"] = client.upsert(
        "vendor", "ven-1", {"companyName": "Acme", "subsidiary": {"id": ids["sub"]}}
    ).id
    ids["cust"] = client.upsert(
        "customer", "cust-1", {"companyName": "Owner", "subsidiary": {"id": ids["sub"]}}
    ).id
    ids["job"] = client.upsert(
        "job",
        "job-1",
        {"entityId": "Tower", "subsidiary": {"id": ids["sub"]}, "parent": {"id": ids["cust"]}},
    ).id
    ids["item"] = client.upsert(
        "serviceResaleItem",
        "item-1",
        {"itemId": "Concrete", "expenseAccount": {"id": ids["exp"]}, "subsidiary": subs},
    ).id
    return ids


def bill_body(w, amount="100.25", lines=1):
    return {
        "entity": {"id": w["ven"]},
        "subsidiary": {"id": w["sub"]},
        "currency": {"id": w["cur"]},
        "account": {"id": w["ap"]},
        "tranDate": "2025-01-03",
        "expense": {"items": [{"account": {"id": w["exp"]}, "amount": amount}] * lines},
    }


def bulk_bills(sb, w, n):
    """Many bills straight into the sandbox's books (fast; paging tests only read them)."""
    rt = RECORD_TYPES["vendorBill"]
    with sb.lock:
        for i in range(n):
            sb.books.create(rt, bill_body(w), external_id=f"bulk-{i}")


# -- auth -------------------------------------------------------------------------------------


def test_m2m_gets_a_token_with_the_demo_key_and_reuses_it(client, wire, world):
    assert client.token_calls == 1
    client.record("vendor", world["ven"])
    assert client.token_calls == 1
    api = [r for r in wire.requests if "/record/" in r.url.path]
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in api)
    token_request = next(r for r in wire.requests if r.url.path.endswith("/token"))
    assert b"client_assertion=" in token_request.content


def test_token_expiry_in_the_middle_of_paging_fetches_one_new_token(sb, client, wire, world):
    bulk_bills(sb, world, 5)
    ids = []
    for i, rid in enumerate(client.list_ids("vendorBill", page_size=2)):
        ids.append(rid)
        if i == 1:
            sb.clock.advance(3700)  # past the 60-minute token: the next page needs a new one
    assert len(ids) == 5 and client.token_calls == 2
    assert 401 not in wire.responses  # refreshed before it expired: no refused request


def test_server_side_expiry_unknown_to_the_client_costs_one_refresh_and_one_retry(sb, wire, world):
    # The stored token looks fresh to the client but the account no longer accepts it.
    store = MemoryTokenStore()
    client = make(sb, wire, store=store)
    client.tokens.access_token()
    store.token["expires_at"] = sb.clock.time() + 10 * 3600
    sb.clock.advance(3700)
    ids = list(client.list_ids("vendor"))
    assert ids == [world["ven"]]
    assert wire.responses.count(401) == 1 and client.token_calls == 2
    assert not store.needs_reauth


def test_two_clients_sharing_a_store_do_not_grant_twice(sb, wire, world):
    store = MemoryTokenStore()
    first, second = make(sb, wire, store=store), make(sb, wire, store=store)
    first.tokens.access_token()
    sb.clock.advance(3700)
    barrier = threading.Barrier(2)

    def read(c):
        barrier.wait()
        list(c.list_ids("vendor"))

    threads = [threading.Thread(target=read, args=(c,)) for c in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert first.token_calls + second.token_calls == 2  # the first grant + one renewal


def test_revoked_token_is_an_auth_error_and_marks_the_store_without_looping(sb, wire, world):
    store = MemoryTokenStore()
    client = make(sb, wire, store=store)
    client.tokens.access_token()
    sb.faults.revoke_tokens = True
    before = len(wire.requests)
    with pytest.raises(AuthError) as info:
        client.record("vendor", world["ven"])
    assert info.value.code == "INVALID_LOGIN" and info.value.status == 401
    assert store.needs_reauth
    # one refused call, one grant, one refused retry: then stop
    assert len(wire.requests) - before == 3
    assert info.value.exchange.request_headers["authorization"].startswith("****")


def test_tba_signed_requests_are_accepted(sb, wire, world):
    client = make(sb, wire, tba_settings())
    vendor = client.record("vendor", world["ven"])
    rows = list(client.suiteql("SELECT id FROM vendor ORDER BY id"))
    assert vendor.company_name == "Acme" and rows == [{"id": world["ven"]}]
    assert client.token_calls == 0
    assert wire.requests[-1].headers["Authorization"].startswith('OAuth realm="1234567_SB1"')


def test_tba_with_a_bad_secret_is_refused_once_and_marked(sb, wire):
    store = MemoryTokenStore()
    client = make(sb, wire, tba_settings(token_secret="wrong"), store=store)
    with pytest.raises(AuthError) as info:
        list(client.list_ids("vendor"))
    assert info.value.status == 401 and store.needs_reauth
    assert len(wire.requests) == 1


def test_validate_credentials_for_the_admin_form(sb, wire):
    transport = httpx.MockTransport(wire)
    token = validate_credentials(m2m_settings(), transport=transport, clock=sb.clock.time)
    assert token["access_token"] and token["expires_at"] > sb.clock.time()
    assert validate_credentials(tba_settings(), transport=transport, clock=sb.clock.time) is None
    with pytest.raises(AuthError) as info:
        validate_credentials(
            m2m_settings(certificate_id="unknown"), transport=transport, clock=sb.clock.time
        )
    assert info.value.code == "invalid_client"
    with pytest.raises(AuthError):
        validate_credentials(
            tba_settings(consumer_secret="bad"), transport=transport, clock=sb.clock.time
        )


# -- paging -----------------------------------------------------------------------------------


def test_suiteql_paging_makes_the_minimum_number_of_requests(sb, client, wire, world):
    bulk_bills(sb, world, 2500)
    before = wire.count("/suiteql")
    rows = list(
        client.suiteql(
            "SELECT id, foreigntotal FROM transaction WHERE type = 'VendBill' ORDER BY id"
        )
    )
    assert len(rows) == 2500 and wire.count("/suiteql") - before == 3  # ceil(2500 / 1000)
    assert all(r.headers["Prefer"] == "transient" for r in wire.requests if "suiteql" in r.url.path)
    before = wire.count("/suiteql")
    assert (
        sum(1 for _ in client.suiteql("SELECT id FROM transaction ORDER BY id", page_size=400))
        == 2500
    )
    assert wire.count("/suiteql") - before == 7  # ceil(2500 / 400)


def test_record_list_paging_makes_the_minimum_number_of_requests(sb, client, wire, world):
    bulk_bills(sb, world, 2500)
    before = wire.count("/record/v1/vendorBill")
    ids = list(client.list_ids("vendorBill"))
    assert len(ids) == len(set(ids)) == 2500
    assert wire.count("/record/v1/vendorBill") - before == 3


def test_incremental_read_by_lastmodifieddate(sb, client, world):
    first = client.upsert("vendorBill", "b-1", bill_body(world)).id
    sb.clock.advance(10)
    cursor = sb.clock.now()
    sb.clock.advance(10)
    second = client.upsert("vendorBill", "b-2", bill_body(world)).id
    rows = list(client.changed_since("vendorBill", cursor))
    assert [r["id"] for r in rows] == [second]
    everything = list(client.changed_since("vendorBill", None, batch=2))
    assert [r["id"] for r in everything] == [first, second]
    assert rows[0]["last_modified"] > cursor - timedelta(seconds=1)


# -- limits and faults ------------------------------------------------------------------------


def test_the_shared_limiter_keeps_many_threads_under_the_account_limit(sb, wire, world):
    sb.faults.latency_ms = 5
    limiter = default_limiter({"account_id": keys.DEMO_ACCOUNT_ID})
    assert isinstance(limiter, Concurrency) and limiter.limit == 15
    client = make(sb, wire, limiter=limiter)
    errors = []

    def read():
        try:
            for _ in range(3):
                client.record("vendor", world["ven"])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and 429 not in wire.responses and sb.gate.peak <= 15


def test_without_a_limiter_the_account_answers_429_and_reads_back_off(sb, wire, world):
    sb.faults.latency_ms = 20
    client = make(sb, wire, retry=RetryPolicy(attempts=8, base=0.0))
    results, errors = [], []

    def read():
        try:
            results.append(client.record("vendor", world["ven"]).id)
        except RateLimited as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 429 in wire.responses  # past 15 in flight the account refused
    assert client.retries > 0 and all(e.code == "CONCURRENCY_LIMIT_EXCEEDED" for e in errors)


def test_a_429_storm_is_retried_with_exponential_backoff(sb, client, wire, world):
    sb.faults.rate_limit_next = 3
    assert client.record("vendor", world["ven"]).id == world["ven"]
    assert wire.responses[-4:] == [429, 429, 429, 200]
    assert len(client.sleeps) == 3  # no Retry-After: the policy's backoff, not a server value


def test_a_5xx_burst_is_retried_and_a_longer_one_gives_up(sb, client, wire, world):
    sb.faults.error_next = 3
    assert client.record("vendor", world["ven"]).id == world["ven"]
    sb.faults.error_next = 10
    with pytest.raises(TransientError) as info:
        client.record("vendor", world["ven"])
    assert info.value.status == 503 and info.value.code == "UNEXPECTED_ERROR"


# -- writes -----------------------------------------------------------------------------------


def create_cases(w):
    return {
        "currency": {"name": "EUR", "symbol": "EUR"},
        "subsidiary": {"name": "Child", "currency": {"id": w["cur"]}, "parent": {"id": w["sub"]}},
        "account": {"acctName": "WIP", "acctType": {"id": "OthCurrAsset"}},
        "department": {"name": "Field", "subsidiary": {"items": [{"id": w["sub"]}]}},
        "classification": {"name": "Commercial", "subsidiary": {"items": [{"id": w["sub"]}]}},
        "location": {"name": "Yard", "subsidiary": {"id": w["sub"]}},
        "vendor": {"companyName": "Beta", "subsidiary": {"id": w["sub"]}},
        "customer": {"companyName": "Client", "subsidiary": {"id": w["sub"]}},
        "job": {"entityId": "Annex", "subsidiary": {"id": w["sub"]}, "parent": {"id": w["cust"]}},
        "serviceResaleItem": {"itemId": "Rebar", "expenseAccount": {"id": w["exp"]}},
        "purchaseOrder": {
            "entity": {"id": w["ven"]},
            "subsidiary": {"id": w["sub"]},
            "item": {"items": [{"item": {"id": w["item"]}, "quantity": 2, "rate": "10.50"}]},
        },
        "vendorBill": bill_body(w, lines=2),
        "invoice": {
            "entity": {"id": w["job"]},
            "subsidiary": {"id": w["sub"]},
            "item": {"items": [{"item": {"id": w["item"]}, "quantity": 1, "rate": 500}]},
        },
        "journalEntry": {
            "subsidiary": {"id": w["sub"]},
            "line": {
                "items": [
                    {"account": {"id": w["exp"]}, "debit": 10},
                    {"account": {"id": w["ap"]}, "credit": 10},
                ]
            },
        },
    }


CREATE_TYPES = [
    "currency", "subsidiary", "account", "department", "classification", "location", "vendor",
    "customer", "job", "serviceResaleItem", "purchaseOrder", "vendorBill", "invoice",
    "journalEntry", "vendorPayment", "customerPayment",
]  # fmt: skip


def payment_case(client, w, record_type):
    if record_type == "vendorPayment":
        bill = client.upsert("vendorBill", "to-pay", bill_body(w)).id
        return {
            "entity": {"id": w["ven"]},
            "subsidiary": {"id": w["sub"]},
            "apply": {"items": [{"doc": {"id": bill}, "apply": True, "amount": "100.25"}]},
        }
    inv = client.upsert("invoice", "to-pay", create_cases(w)["invoice"]).id
    return {
        "customer": {"id": w["job"]},
        "subsidiary": {"id": w["sub"]},
        "payment": 500,
        "apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": 500}]},
    }


@pytest.mark.parametrize("record_type", CREATE_TYPES)
def test_commit_then_drop_on_every_create_path_leaves_exactly_one_record(
    sb, client, wire, world, record_type
):
    if record_type in ("vendorPayment", "customerPayment"):
        payload = payment_case(client, world, record_type)
    else:
        payload = create_cases(world)[record_type]
    sb.faults.commit_then_drop_next = 1
    written = client.upsert(record_type, "proc-42", payload)
    assert sb.faults.commit_then_drop_next == 0  # the drop did happen
    stored = [r for r in sb.store.all(record_type) if r.get("externalId") == "proc-42"]
    assert len(stored) == 1 and stored[0]["id"] == written.id
    for sublist in ("item", "expense", "line", "apply"):
        if sublist in payload:  # the retried PUT replaced the lines, it did not append them
            assert len(stored[0][sublist]["items"]) == len(payload[sublist]["items"])
    puts = [r for r in wire.requests if r.method == "PUT" and "proc-42" in r.url.path]
    assert len(puts) == 2


def test_commit_then_drop_on_update_does_not_double_the_lines(sb, client, world):
    bill = client.upsert("vendorBill", "b-1", bill_body(world, lines=2)).id
    sb.faults.commit_then_drop_next = 1
    client.update("vendorBill", bill, {"expense": bill_body(world, "7.00", lines=3)["expense"]})
    lines = sb.store.get("vendorBill", bill)["expense"]["items"]
    assert [Decimal(str(x["amount"])) for x in lines] == [Decimal("7.00")] * 3


def test_update_if_unchanged_raises_conflict_with_the_current_copy(sb, client, world):
    bill = client.upsert("vendorBill", "b-1", bill_body(world)).id
    synced = client.record("vendorBill", bill).last_modified
    sb.clock.advance(60)
    sb.books.update(
        RECORD_TYPES["vendorBill"], sb.store.get("vendorBill", bill), {"memo": "by hand"}
    )
    with pytest.raises(Conflict) as info:
        client.update_if_unchanged("vendorBill", bill, {"memo": "from Procore"}, synced)
    assert info.value.current["memo"] == "by hand"
    assert info.value.code == "RCRD_HAS_BEEN_CHANGED"
    assert sb.store.get("vendorBill", bill)["memo"] == "by hand"  # nothing overwritten
    current = info.value.current["lastModifiedDate"]
    sb.clock.advance(60)
    written = client.update_if_unchanged("vendorBill", bill, {"memo": "approved"}, current)
    assert sb.store.get("vendorBill", bill)["memo"] == "approved"
    assert written.last_modified > synced


def test_validation_errors_carry_netsuite_codes_and_paths(client, world):
    with pytest.raises(ValidationFailed) as info:
        client.upsert("vendorBill", "bad-1", {"memo": "no vendor"})
    assert info.value.code == "USER_ERROR" and info.value.details[0]["path"] == "entity"
    bad_ref = dict(bill_body(world), entity={"id": "99999"})
    with pytest.raises(ValidationFailed) as info:
        client.upsert("vendorBill", "bad-2", bad_ref)
    assert info.value.code and info.value.details[0].get("path") == "entity"
    assert info.value.exchange.status == 400
    assert info.value.exchange.request_headers["authorization"].startswith("****")
    with pytest.raises(ValueError):
        client.upsert("vendorBill", "has|pipe", bill_body(world))


def test_changing_an_external_id_to_a_taken_one_is_a_duplicate(client, world):
    client.upsert("vendor", "ven-2", {"companyName": "Two", "subsidiary": {"id": world["sub"]}})
    with pytest.raises(Duplicate):
        client.update("vendor", world["ven"], {"externalId": "ven-2"})


def test_delete_is_safe_to_repeat(client, world):
    bill = client.upsert("vendorBill", "b-del", bill_body(world)).id
    assert client.delete("vendorBill", bill) is True
    assert client.delete("vendorBill", bill) is False
    assert client.find_by_external_id("vendorBill", "b-del") is None


def test_default_limiter_is_shared_through_redis_per_account():
    from connectors.limits import RedisConcurrency

    class FakeRedis:
        def register_script(self, script):
            return lambda **kw: 1

    limiter = default_limiter(
        {"account_id": "1234567-sb1", "concurrency_limit": 5}, redis=FakeRedis()
    )
    assert isinstance(limiter, RedisConcurrency)
    assert limiter.limit == 5 and limiter.key == "erpbridge:conc:netsuite:1234567_SB1"
