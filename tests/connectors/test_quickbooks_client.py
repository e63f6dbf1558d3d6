"""The QuickBooks client against the sandbox: paging, faults, idempotent writes, conflicts,
batch and CDC (issue 4)."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from connectors.errors import (
    Conflict,
    Duplicate,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from connectors.http import RetryPolicy
from connectors.quickbooks import BatchOp
from connectors.quickbooks.schemas import Bill, Deleted, PurchaseOrder, Vendor
from tests.connectors.qbo_support import (
    DEMO_REALM_ID,
    SANDBOX_ERROR,
    Books,
    QuickBooksSandbox,
    Recorder,
    bill_payload,
    make_client,
    seed_books,
)

pytestmark = pytest.mark.skipif(SANDBOX_ERROR is not None, reason=f"sandbox: {SANDBOX_ERROR}")
REALM = DEMO_REALM_ID


@pytest.fixture
def sandbox():
    return QuickBooksSandbox(seed=3)


@pytest.fixture
def books(sandbox) -> Books:
    return seed_books(sandbox)


# -- reads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 999, 1000, 2500])
def test_paging_makes_the_fewest_requests_the_page_size_allows(sandbox, books, count):
    for n in range(count):
        sandbox.create(REALM, "Bill", bill_payload(books, amount=f"{n + 1}.25"))
    client, recorder, _ = make_client(sandbox)
    bills = list(client.iter_query("Bill"))
    assert len(bills) == count and len({b.id for b in bills}) == count
    assert all(isinstance(b, Bill) and isinstance(b.total_amt, Decimal) for b in bills)
    # Without a totalCount in the page, a full last page costs one more (empty) request.
    assert len(recorder.api_calls()) == math.ceil((count + 1) / 1000)
    assert "MAXRESULTS 1000" in recorder.api_calls()[0].url.params["query"]


def test_read_one_and_typed_fields(sandbox, books):
    client, _, _ = make_client(sandbox)
    created = client.create("Bill", bill_payload(books, doc="INV-7"), request_id="c-1")
    bill = client.read("Bill", created.id)
    assert bill.doc_number == "INV-7" and bill.vendor.value == books.vendor
    assert bill.total_amt == Decimal("103.55") and bill.sync_token == "0"
    assert bill.updated_at.utcoffset() == timedelta(0)
    line = bill.lines[0]
    assert line.account.value == books.expense_account and line.customer.value == books.job
    assert line.class_ref.value == books.klass
    with pytest.raises(NotFound) as info:
        client.read("Bill", "999999")
    assert info.value.code == "610"


def test_query_values_with_quotes_and_backslashes_are_escaped(sandbox, books):
    client, _, _ = make_client(sandbox)
    for name in ("Amy's Bird Sanctuary", "Back\\slash\\", "O'Brien & Sons' \\'x"):
        sandbox.create(REALM, "Vendor", {"DisplayName": name})
        found = client.find_by_name("Vendor", name)
        assert found is not None and found.name == name
    assert client.find_by_name("Vendor", "x' OR DisplayName = 'Norton Lumber") is None


def test_inactive_list_rows_are_found_when_asked(sandbox, books):
    client, _, _ = make_client(sandbox)
    vendor = client.read("Vendor", books.vendor)
    client.deactivate("Vendor", vendor.id, sync_token=vendor.sync_token, request_id="deact-1")
    assert [v.id for v in client.iter_query("Vendor")] == []
    assert [v.active for v in client.iter_query("Vendor", include_inactive=True)] == [False]


def test_cdc_returns_changes_and_deleted_stubs(sandbox, books):
    client, _, _ = make_client(sandbox)
    sandbox.clock.advance(5)  # changedSince goes out at second precision, rounded down
    since = sandbox.clock.now()
    sandbox.clock.advance(5)
    keep = client.create("Bill", bill_payload(books, doc="K-1"), request_id="cdc-1")
    gone = client.create("Bill", bill_payload(books, doc="G-1"), request_id="cdc-2")
    client.delete("Bill", gone.id, sync_token=gone.sync_token, request_id="cdc-3")
    vendor = client.create("Vendor", {"DisplayName": "New Sub"}, request_id="cdc-4")
    result = client.cdc(["Bill", "vendor"], since)
    bills = result.changes["Bill"]
    assert [b.id for b in bills if isinstance(b, Bill)] == [keep.id]
    stubs = [b for b in bills if isinstance(b, Deleted)]
    assert [(s.entity, s.id) for s in stubs] == [("Bill", gone.id)]
    assert stubs[0].updated_at is not None and stubs[0].updated_at.tzinfo is not None
    assert [v.id for v in result.changes["Vendor"]] == [vendor.id]
    assert result.time is not None and not result.truncated
    with pytest.raises(ValueError):
        client.cdc(["Bill"], since.replace(tzinfo=None))


def test_incremental_query_by_last_updated_time(sandbox, books):
    client, _, _ = make_client(sandbox)
    client.create("Bill", bill_payload(books), request_id="old")
    sandbox.clock.advance(10)
    mark = sandbox.clock.now()
    sandbox.clock.advance(10)
    new = client.create("Bill", bill_payload(books), request_id="new")
    assert [b.id for b in client.iter_entities("Bill", updated_since=mark)] == [new.id]


# -- faults ------------------------------------------------------------------------------------


def test_a_429_storm_waits_as_told_then_succeeds(sandbox, books):
    client, recorder, fake = make_client(sandbox)
    sandbox.faults.rate_limit_next = 3
    sandbox.faults.retry_after = 7
    assert client.read("Vendor", books.vendor).name == "Norton Lumber"
    assert len(recorder.api_calls()) == 4
    assert client.retries == 3
    assert sum(fake.sleeps) >= 3 * 7  # Retry-After honoured (and the shared limiter paused)


def test_a_429_storm_longer_than_the_budget_raises_rate_limited(sandbox, books):
    client, recorder, _ = make_client(sandbox)
    sandbox.faults.rate_limit_next = 50
    with pytest.raises(RateLimited) as info:
        client.read("Vendor", books.vendor)
    assert info.value.code == "3001" and len(recorder.api_calls()) == 5


def test_an_xml_throttle_body_is_understood(books):
    sandbox = QuickBooksSandbox(seed=3, throttle_format="xml")
    books = seed_books(sandbox)
    client, _, fake = make_client(sandbox, retry=RetryPolicy(attempts=1))
    sandbox.faults.rate_limit_next = 1
    with pytest.raises(RateLimited) as info:
        client.read("Vendor", books.vendor)
    assert info.value.code == "3001" and info.value.retry_after == 1


def test_a_5xx_burst_is_retried_for_reads_and_writes(sandbox, books):
    client, recorder, _ = make_client(sandbox)
    sandbox.faults.error_next = 3
    assert client.read("Vendor", books.vendor).id == books.vendor
    sandbox.faults.error_next = 2
    sandbox.faults.error_status = 500  # may have committed: only safe because of requestid
    bill = client.create("Bill", bill_payload(books, doc="5XX"), request_id="burst-1")
    assert len(sandbox.records("Bill")) == 1 and bill.doc_number == "5XX"
    writes = [r for r in recorder.api_calls() if r.method == "POST"]
    assert len(writes) == 3
    assert {r.url.params["requestid"] for r in writes} == {"burst-1"}


def test_validation_faults_are_data_errors_with_the_qbo_code(sandbox, books):
    client, _, _ = make_client(sandbox)
    with pytest.raises(ValidationFailed) as info:
        client.create("Bill", {"VendorRef": {"value": books.vendor}}, request_id="bad-1")
    assert info.value.code == "2020" and info.value.family == "data"
    client.create("Vendor", {"DisplayName": "Twin"}, request_id="dup-1")
    with pytest.raises(Duplicate) as info:
        client.create("Vendor", {"DisplayName": "Twin"}, request_id="dup-2")
    assert info.value.code == "6240"


# -- idempotent creates ------------------------------------------------------------------------


def _payloads(books: Books) -> dict[str, dict]:
    expense = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": Decimal("500.00"),
        "AccountBasedExpenseLineDetail": {
            "AccountRef": {"value": books.expense_account},
            "CustomerRef": {"value": books.job},
        },
    }
    return {
        "PurchaseOrder": {
            "DocNumber": "PO-1001",
            "VendorRef": {"value": books.vendor},
            "APAccountRef": {"value": books.ap_account},
            "Line": [expense],
        },
        "Bill": bill_payload(books, doc="SUB-17"),
        "Invoice": {
            "DocNumber": "PA-3",
            "CustomerRef": {"value": books.job},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": Decimal("1200.00"),
                    "SalesItemLineDetail": {"ItemRef": {"value": books.item}},
                }
            ],
        },
        "JournalEntry": {
            "DocNumber": "RET-1",
            "Line": [
                {
                    "DetailType": "JournalEntryLineDetail",
                    "Amount": Decimal("90.00"),
                    "JournalEntryLineDetail": {
                        "PostingType": "Debit",
                        "AccountRef": {"value": books.expense_account},
                    },
                },
                {
                    "DetailType": "JournalEntryLineDetail",
                    "Amount": Decimal("90.00"),
                    "JournalEntryLineDetail": {
                        "PostingType": "Credit",
                        "AccountRef": {"value": books.bank_account},
                    },
                },
            ],
        },
        "Vendor": {"DisplayName": "Acme Concrete LLC"},
        "Customer": {
            "DisplayName": "Kitchen Remodel 2024",
            "Job": True,
            "ParentRef": {"value": books.customer},
            "BillWithParent": True,
        },
        "Class": {"Name": "09 Finishes"},
        "Item": {
            "Name": "Subcontract labor",
            "Type": "Service",
            "ExpenseAccountRef": {"value": books.expense_account},
        },
        "Account": {"Name": "Retentions Payable", "AccountType": "Other Current Liability"},
        "Payment": {
            "CustomerRef": {"value": books.customer},
            "TotalAmt": Decimal("25.00"),
            "TxnDate": "2026-01-15",
            "PrivateNote": "erpbridge:chg-pay-1",
        },
    }


CREATE_PATHS = [
    "PurchaseOrder",
    "Bill",
    "Invoice",
    "JournalEntry",
    "Vendor",
    "Customer",
    "Class",
    "Item",
    "Account",
    "Payment",
]


@pytest.mark.parametrize("entity", CREATE_PATHS)
def test_commit_then_drop_is_replayed_by_requestid_into_exactly_one_record(sandbox, books, entity):
    client, recorder, _ = make_client(sandbox)
    before = len(sandbox.records(entity))
    sandbox.faults.commit_then_drop_next = 1
    record = client.create(entity, _payloads(books)[entity], request_id=f"chg-{entity}")
    rows = sandbox.records(entity)
    assert len(rows) == before + 1
    assert record.id in {r["Id"] for r in rows}
    writes = [r for r in recorder.api_calls() if r.method == "POST"]
    assert len(writes) == 2 and {w.url.params["requestid"] for w in writes} == {f"chg-{entity}"}


def _forgetful(request: httpx.Request) -> httpx.Request:
    """QBO forgot the requestid (or the first attempt went out without one): no replay."""
    url = request.url.copy_remove_param("requestid")
    return httpx.Request(request.method, url, headers=request.headers, content=request.content)


@pytest.mark.parametrize("entity", CREATE_PATHS)
def test_commit_then_drop_with_the_outcome_unknown_is_found_by_lookup(sandbox, books, entity):
    recorder = Recorder(sandbox, rewrite=_forgetful)
    client, _, _ = make_client(sandbox, recorder=recorder, retry=RetryPolicy(attempts=1))
    before = len(sandbox.records(entity))
    sandbox.faults.commit_then_drop_next = 1
    record = client.create_once(entity, _payloads(books)[entity], request_id=f"once-{entity}")
    rows = sandbox.records(entity)
    assert len(rows) == before + 1
    assert record.id in {r["Id"] for r in rows}
    writes = [r for r in recorder.api_calls() if r.method == "POST"]
    assert len(writes) == 1  # the lookup found it: no second create


def test_create_once_resends_when_the_lookup_finds_nothing(sandbox, books):
    client, recorder, _ = make_client(sandbox, retry=RetryPolicy(attempts=1))
    sandbox.faults.timeout_next = 1  # lost before it was applied
    bill = client.create_once("Bill", bill_payload(books, doc="LATE-1"), "once-late")
    assert len(sandbox.records("Bill")) == 1 and bill.doc_number == "LATE-1"
    methods = [r.method for r in recorder.api_calls()]
    assert methods == ["POST", "GET", "POST"]  # create, lookup (nothing), create again


def test_create_without_answers_raises_outcome_unknown(sandbox, books):
    client, _, _ = make_client(sandbox, retry=RetryPolicy(attempts=2))
    sandbox.faults.error_next = 5
    sandbox.faults.error_status = 502
    with pytest.raises(OutcomeUnknown):
        client.create("Bill", bill_payload(books), request_id="dark-1")


# -- updates -----------------------------------------------------------------------------------


def test_sparse_update_with_a_stale_synctoken_is_a_conflict_with_the_current_copy(sandbox, books):
    client, recorder, _ = make_client(sandbox)
    po = client.create("PurchaseOrder", _payloads(books)["PurchaseOrder"], request_id="po-1")
    assert isinstance(po, PurchaseOrder) and po.sync_token == "0"
    sandbox.edit_purchase_order(po.id, {"Memo": "changed by hand", "PrivateNote": "hand"})
    with pytest.raises(Conflict) as info:
        client.update(
            "PurchaseOrder",
            {"Id": po.id, "PrivateNote": "ours"},
            sync_token=po.sync_token,
            request_id="po-1-upd",
        )
    assert info.value.code == "5010"
    assert info.value.current["SyncToken"] == "1"
    assert info.value.current["PrivateNote"] == "hand"
    assert sandbox.read("PurchaseOrder", po.id)["PrivateNote"] == "hand"  # not overwritten
    updated = client.update(
        "PurchaseOrder",
        {"Id": po.id, "PrivateNote": "ours"},
        sync_token=info.value.current["SyncToken"],
        request_id="po-1-upd-2",
    )
    assert updated.sync_token == "2" and updated.private_note == "ours"
    body = recorder.api_calls()[-1].content
    assert b'"sparse":true' in body and b'"SyncToken":"1"' in body


def test_update_dropped_after_commit_is_replayed_not_reported_as_a_conflict(sandbox, books):
    client, _, _ = make_client(sandbox)
    vendor = client.read("Vendor", books.vendor)
    sandbox.faults.commit_then_drop_next = 1
    updated = client.update(
        "Vendor", {"Id": vendor.id, "AcctNum": "A-9"}, sync_token="0", request_id="v-upd"
    )
    assert updated.sync_token == "1" and sandbox.read("Vendor", vendor.id)["SyncToken"] == "1"


def test_void_delete_and_deactivate(sandbox, books):
    client, _, _ = make_client(sandbox)
    payloads = _payloads(books)
    invoice = client.create("Invoice", payloads["Invoice"], request_id="inv-1")
    voided = client.void("Invoice", invoice.id, sync_token=invoice.sync_token, request_id="inv-v")
    assert voided.total_amt == 0 and voided.sync_token == "1"
    bill = client.create("Bill", payloads["Bill"], request_id="bill-1")
    stub = client.delete("Bill", bill.id, sync_token=bill.sync_token, request_id="bill-d")
    assert isinstance(stub, Deleted) and sandbox.read("Bill", bill.id) is None
    with pytest.raises(ValueError):
        client.delete("Vendor", books.vendor, sync_token="0", request_id="x")
    with pytest.raises(ValueError):
        client.void("Bill", bill.id, sync_token="0", request_id="x")
    vendor = client.deactivate("Vendor", books.vendor, sync_token="0", request_id="v-d")
    assert isinstance(vendor, Vendor) and vendor.active is False


# -- batch -------------------------------------------------------------------------------------


def test_batch_with_mixed_success_maps_each_fault_to_its_own_record(sandbox, books):
    client, recorder, _ = make_client(sandbox)
    existing = client.create("Bill", bill_payload(books), request_id="b-0")
    sandbox.edit_record("Bill", existing.id, {"PrivateNote": "hand edit"})
    ops = [
        BatchOp("create", "Vendor", {"DisplayName": "Batch Sub"}, key="chg-1"),
        BatchOp("create", "Vendor", {"DisplayName": "Norton Lumber"}, key="chg-2"),  # 6240
        BatchOp(
            "update", "Bill", {"Id": existing.id, "SyncToken": "0", "PrivateNote": "x"}, key="chg-3"
        ),  # stale: 5010
        BatchOp("delete", "Invoice", {"Id": "98765", "SyncToken": "0"}, key="chg-4"),  # 610
        BatchOp("create", "Bill", bill_payload(books, doc="BATCH-1"), key="chg-5"),
    ]
    results = client.batch(ops, request_id="batch-1")
    assert [r.op.key for r in results] == ["chg-1", "chg-2", "chg-3", "chg-4", "chg-5"]
    assert [r.ok for r in results] == [True, False, False, False, True]
    assert isinstance(results[1].error, Duplicate) and results[1].error.code == "6240"
    assert isinstance(results[2].error, Conflict) and results[2].error.code == "5010"
    assert isinstance(results[3].error, NotFound) and results[3].error.code == "610"
    assert results[4].record.doc_number == "BATCH-1"
    assert len(recorder.api_calls()) == 2  # the setup create + one batch


def test_large_batches_are_chunked_by_30_and_replayed_after_a_drop(sandbox, books):
    client, recorder, _ = make_client(sandbox)
    ops = [BatchOp("create", "Class", {"Name": f"Cost code {n:02d}"}, key=n) for n in range(65)]
    sandbox.faults.commit_then_drop_next = 1  # the first chunk commits, its answer is lost
    results = client.batch(ops, request_id="classes-2026")
    assert all(r.ok for r in results) and len(results) == 65
    assert len(sandbox.records("Class")) == 65 + 1  # + books.klass: nothing created twice
    batches = [r for r in recorder.api_calls() if r.url.path.endswith("/batch")]
    assert len(batches) == 4  # 30 + 30 + 5, and the first one resent
    rids = [r.url.params["requestid"] for r in batches]
    assert rids[0] == rids[1] and len(set(rids)) == 3 and all(len(x) <= 36 for x in rids)


def test_a_batch_chunk_whose_answer_is_lost_reports_outcome_unknown_per_item(sandbox, books):
    client, _, _ = make_client(sandbox, retry=RetryPolicy(attempts=1))
    sandbox.faults.timeout_next = 1
    results = client.batch([BatchOp("create", "Class", {"Name": "A"})], request_id="lost")
    assert isinstance(results[0].error, (OutcomeUnknown, TransientError))


# -- limits ------------------------------------------------------------------------------------


def test_default_limiter_is_per_realm_500_a_minute_and_10_at_once():
    from connectors.limits import Combined, Concurrency, RateWindow
    from connectors.quickbooks import default_limiter

    limiter = default_limiter({"realm_id": "42"})
    assert isinstance(limiter, Combined)
    windows = [x for x in limiter.limiters if isinstance(x, RateWindow)]
    assert sorted((w.limit, w.seconds) for w in windows) == [(10, 1.0), (500, 60.0)]
    assert [x.limit for x in limiter.limiters if isinstance(x, Concurrency)] == [10]


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="REDIS_URL not set")
def test_default_limiter_shares_its_state_through_redis():
    import os

    import redis

    from connectors.limits import RedisConcurrency, RedisRateWindow
    from connectors.quickbooks import default_limiter

    limiter = default_limiter({"realm_id": "42"}, redis.Redis.from_url(os.environ["REDIS_URL"]))
    kinds = {type(x) for x in limiter.limiters}
    assert kinds == {RedisRateWindow, RedisConcurrency}
    with limiter.slot():
        pass


def test_the_client_stays_under_the_sandbox_minute_window(books):
    """500/minute is enforced before QBO has to say no: 520 reads never see a 429."""
    sandbox = QuickBooksSandbox(seed=3)
    books = seed_books(sandbox)
    client, recorder, fake = make_client(sandbox)
    # Move the sandbox's clock with the client's limiter sleeps, as real time would.
    original = fake.sleep

    def sleep(seconds):
        original(seconds)
        sandbox.clock.advance(seconds)

    fake.sleep = sleep
    for lim in client.limiter.limiters:
        if hasattr(lim, "sleep"):
            lim.sleep = sleep
    for _ in range(520):
        client.read("Vendor", books.vendor)
    assert client.retries == 0 and len(recorder.api_calls()) == 520
    assert sum(fake.sleeps) >= 50  # the limiter waited for the window, not the server
