"""QuickBooks sandbox: query language, batch, CDC, limits and 429s, requestid replay, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sandboxes.core import Clock
from sandboxes.quickbooks import DEMO_REALM_ID, QuickBooksSandbox

API = f"/v3/company/{DEMO_REALM_ID}"


def client(sb):
    token = sb.issue_token_for_tests()["access_token"]
    return httpx.Client(
        base_url="https://qb.test",
        transport=httpx.MockTransport(sb.handle),
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def sb():
    return QuickBooksSandbox(clock=Clock(), enforce_limits=False)


@pytest.fixture
def http(sb):
    return client(sb)


def q(http, text):
    return http.get(f"{API}/query", params={"query": text})


def vendors(sb, n):
    return [
        sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": f"Vendor {i:02d}"}) for i in range(n)
    ]


# -- query ------------------------------------------------------------------------------------


def test_query_paging_count_and_shapes(sb, http):
    vendors(sb, 12)
    page = q(http, "SELECT * FROM Vendor MAXRESULTS 5 STARTPOSITION 6").json()["QueryResponse"]
    assert page["startPosition"] == 6 and page["maxResults"] == 5
    assert [v["DisplayName"] for v in page["Vendor"]] == [f"Vendor {i:02d}" for i in range(5, 10)]
    assert "totalCount" not in page
    last = q(http, "select * from vendor startposition 11 maxresults 5").json()["QueryResponse"]
    assert last["maxResults"] == 2
    assert q(http, "SELECT COUNT(*) FROM Vendor").json()["QueryResponse"] == {"totalCount": 12}
    assert (
        q(http, "SELECT * FROM Vendor WHERE DisplayName = 'nobody'").json()["QueryResponse"] == {}
    )


def test_query_operators_and_escapes(sb, http):
    vendors(sb, 3)
    sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "Amy's Bird Sanctuary"})
    r = q(http, "SELECT * FROM Vendor WHERE DisplayName = 'Amy\\'s Bird Sanctuary'").json()
    assert len(r["QueryResponse"]["Vendor"]) == 1
    r = q(http, "SELECT * FROM Vendor WHERE DisplayName LIKE 'Vendor%' AND Id IN ('1', '2', '99')")
    assert [v["Id"] for v in r.json()["QueryResponse"]["Vendor"]] == ["1", "2"]
    r = q(http, "SELECT * FROM Vendor WHERE DisplayName LIKE '%0_' ORDERBY DisplayName DESC")
    assert r.json()["QueryResponse"] == {}  # only % is a wildcard; _ is literal
    r = q(http, "SELECT * FROM Vendor ORDERBY DisplayName DESC MAXRESULTS 1")
    assert r.json()["QueryResponse"]["Vendor"][0]["DisplayName"] == "Vendor 02"


def test_query_by_last_updated_time_and_ref(sb, http):
    old = vendors(sb, 2)
    sb.clock.advance(10)
    mark = datetime.fromtimestamp(sb.clock.time(), tz=UTC) - timedelta(seconds=1)
    sb.edit_record("Vendor", old[1]["Id"], {"AcctNum": "9"})
    where = f"MetaData.LastUpdatedTime > '{mark.isoformat()}'"
    text = "SELECT * FROM Vendor WHERE " + where + " ORDERBY MetaData.LastUpdatedTime"  # noqa: S608
    assert [v["Id"] for v in q(http, text).json()["QueryResponse"]["Vendor"]] == [old[1]["Id"]]
    acct = {a["AccountType"]: a["Id"] for a in sb.records("Account")}
    line = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": 5,
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": acct["Bank"]}},
    }
    sb.create(DEMO_REALM_ID, "Bill", {"VendorRef": {"value": old[0]["Id"]}, "Line": [line]})
    vid = old[0]["Id"]
    r = q(http, f"SELECT * FROM Bill WHERE VendorRef = '{vid}' AND TotalAmt > '4'")  # noqa: S608
    assert len(r.json()["QueryResponse"]["Bill"]) == 1


def test_query_by_post_application_text(sb, http):
    vendors(sb, 2)
    r = http.post(
        f"{API}/query",
        content=b"select count(*) from Vendor",
        headers={"Content-Type": "application/text"},
    )
    assert r.json()["QueryResponse"]["totalCount"] == 2


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM Custmoer",
        "SELECT * FROM Vendor WHERE DisplayName = 'a' OR DisplayName = 'b'",
        "SELECT * FROM Vendor MAXRESULTS 1001",
        "SELECT * FROM Vendor WHERE Id > '3'",
        "SELECT DisplayName FROM Vendor",
    ],
)
def test_bad_queries_are_4001(http, text):
    r = q(http, text)
    assert r.status_code == 400
    err = r.json()["Fault"]["Error"][0]
    assert err["code"] == "4001" and err["Detail"].startswith("QueryValidationError")
    assert r.json()["Fault"]["type"] == "ValidationFault"


# -- batch ------------------------------------------------------------------------------------


def test_batch_partial_failure_is_200_with_per_item_faults(sb, http):
    v = sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "Exists"})
    sb.edit_record("Vendor", v["Id"], {"AcctNum": "1"})
    body = {
        "BatchItemRequest": [
            {
                "bId": "bid1",
                "operation": "create",
                "Vendor": {"DisplayName": "Boraski Family Store"},
            },
            {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "129", "SyncToken": "0"}},
            {
                "bId": "bid3",
                "operation": "update",
                "Vendor": {"sparse": True, "Id": v["Id"], "SyncToken": "0", "AcctNum": "2"},
            },
            {"bId": "bid4", "Query": "select * from Vendor where DisplayName = 'Exists'"},
            {"bId": "bid5", "operation": "create", "Vendor": {"DisplayName": "Exists"}},
        ]
    }
    r = http.post(f"{API}/batch", json=body)
    assert r.status_code == 200
    items = {i["bId"]: i for i in r.json()["BatchItemResponse"]}
    assert items["bid1"]["Vendor"]["Id"]
    assert items["bid2"]["Fault"]["Error"][0]["code"] == "610"
    assert items["bid3"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["bid4"]["QueryResponse"]["Vendor"][0]["Id"] == v["Id"]
    assert items["bid5"]["Fault"]["Error"][0]["code"] == "6240"


def test_batch_over_30_items_is_refused(http):
    body = {
        "BatchItemRequest": [{"bId": str(i), "Query": "select * from Vendor"} for i in range(31)]
    }
    r = http.post(f"{API}/batch", json=body)
    assert r.status_code == 400 and r.json()["Fault"]["Error"][0]["code"] == "6000"
    body["BatchItemRequest"].pop()
    assert http.post(f"{API}/batch", json=body).status_code == 200


def test_batch_limit_40_per_minute():
    sb = QuickBooksSandbox(clock=Clock())
    http = client(sb)
    body = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]}
    assert all(http.post(f"{API}/batch", json=body).status_code == 200 for _ in range(40))
    r = http.post(f"{API}/batch", json=body)
    assert r.status_code == 429 and r.json()["Fault"]["Error"][0]["code"] == "3001"
    assert http.get(f"{API}/companyinfo/1").status_code == 200  # plain calls still pass
    sb.clock.advance(61)
    assert http.post(f"{API}/batch", json=body).status_code == 200


# -- CDC --------------------------------------------------------------------------------------


def test_cdc_returns_changes_grouped_with_deleted_stubs(sb, http):
    since = datetime.fromtimestamp(sb.clock.time(), tz=UTC).isoformat()
    a, b = vendors(sb, 2)
    inv = sb.create(
        DEMO_REALM_ID,
        "Invoice",
        {
            "CustomerRef": {
                "value": sb.create(DEMO_REALM_ID, "Customer", {"DisplayName": "C"})["Id"]
            },
            "Line": [
                {
                    "Amount": 1,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    sb.delete(DEMO_REALM_ID, "Invoice", {"Id": inv["Id"], "SyncToken": "0"})
    r = http.get(f"{API}/cdc", params={"entities": "vendor,Invoice,Bill", "changedSince": since})
    assert r.status_code == 200
    groups = r.json()["CDCResponse"][0]["QueryResponse"]
    assert [v["Id"] for v in groups[0]["Vendor"]] == [a["Id"], b["Id"]]
    assert (
        groups[1]["Invoice"][0]["status"] == "Deleted"
        and groups[1]["Invoice"][0]["Id"] == inv["Id"]
    )
    assert groups[2] == {}
    later = datetime.fromtimestamp(sb.clock.time() + 1, tz=UTC).isoformat()
    r = http.get(f"{API}/cdc", params={"entities": "Vendor", "changedSince": later})
    assert r.json()["CDCResponse"][0]["QueryResponse"] == [{}]


def test_cdc_requires_params_and_can_enforce_30_days():
    sb = QuickBooksSandbox(clock=Clock(), cdc_enforce_lookback=True)
    http = client(sb)
    assert (
        http.get(f"{API}/cdc", params={"entities": "Vendor"}).json()["Fault"]["Error"][0]["code"]
        == "2020"
    )
    old = (datetime.now(UTC) - timedelta(days=31)).date().isoformat()
    r = http.get(f"{API}/cdc", params={"entities": "Vendor", "changedSince": old})
    assert r.status_code == 400


# -- limits -----------------------------------------------------------------------------------


def test_500_requests_per_minute_then_429_throttle_fault():
    sb = QuickBooksSandbox(clock=Clock())
    http = client(sb)
    assert all(http.get(f"{API}/companyinfo/1").status_code == 200 for _ in range(500))
    r = http.get(f"{API}/companyinfo/1")
    assert r.status_code == 429
    err = r.json()["Fault"]
    assert err["type"] == "SERVICE"
    assert err["Error"][0] == {
        "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "Detail": "The request limit was reached.  Try again later",
        "code": "3001",
    }
    assert int(r.headers["retry-after"]) >= 1
    sb.clock.advance(60)
    assert http.get(f"{API}/companyinfo/1").status_code == 200


def test_rate_scale_shrinks_the_window():
    sb = QuickBooksSandbox(clock=Clock(), rate_scale=10)
    http = client(sb)
    for _ in range(500):
        http.get(f"{API}/companyinfo/1")
    assert http.get(f"{API}/companyinfo/1").status_code == 429
    sb.clock.advance(6)  # 60 s / 10
    assert http.get(f"{API}/companyinfo/1").status_code == 200


def test_ten_concurrent_requests_per_realm():
    sb = QuickBooksSandbox(clock=Clock())
    http = client(sb)
    for _ in range(10):
        assert sb.gate.enter(DEMO_REALM_ID)
    assert http.get(f"{API}/companyinfo/1").status_code == 429
    sb.gate.leave(DEMO_REALM_ID)
    assert http.get(f"{API}/companyinfo/1").status_code == 200


def test_throttle_body_can_be_the_recorded_xml():
    sb = QuickBooksSandbox(clock=Clock(), throttle_format="xml")
    sb.faults.rate_limit_next = 1
    r = client(sb).get(f"{API}/companyinfo/1")
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/xml")
    assert b'<Error code="3001">' in r.content


def test_injected_5xx_is_a_system_fault(sb, http):
    sb.faults.error_next = 1
    r = http.get(f"{API}/companyinfo/1")
    assert r.status_code == 503
    assert r.json()["Fault"]["type"] == "SystemFault"
    assert r.json()["Fault"]["Error"][0]["code"] == "10000"
    assert http.get(f"{API}/companyinfo/1").status_code == 200


def test_responses_carry_intuit_tid(http):
    assert http.get(f"{API}/companyinfo/1").headers["intuit-tid"]


# -- requestid ----------------------------------------------------------------------------------


def test_requestid_replays_and_does_not_write_twice(sb, http):
    r1 = http.post(f"{API}/vendor", params={"requestid": "req-1"}, json={"DisplayName": "Once"})
    r2 = http.post(f"{API}/vendor", params={"requestid": "req-1"}, json={"DisplayName": "Once"})
    assert r1.status_code == r2.status_code == 200 and r1.content == r2.content
    assert len(sb.records("Vendor")) == 1
    r3 = http.post(f"{API}/vendor", params={"requestid": "req-2"}, json={"DisplayName": "Once"})
    assert r3.json()["Fault"]["Error"][0]["code"] == "6240"


def test_requestid_survives_commit_then_drop(sb, http):
    sb.faults.commit_then_drop_next = 1
    with pytest.raises(httpx.ReadError):
        http.post(f"{API}/vendor", params={"requestid": "x1"}, json={"DisplayName": "Dropped"})
    r = http.post(f"{API}/vendor", params={"requestid": "x1"}, json={"DisplayName": "Dropped"})
    assert r.status_code == 200 and r.json()["Vendor"]["DisplayName"] == "Dropped"
    assert len(sb.records("Vendor")) == 1


def test_requestid_length_and_expiry(sb, http):
    r = http.post(f"{API}/vendor", params={"requestid": "x" * 51}, json={"DisplayName": "Long"})
    assert r.json()["Fault"]["Error"][0]["code"] == "6000"
    http.post(f"{API}/vendor", params={"requestid": "old"}, json={"DisplayName": "A"})
    sb.clock.advance(24 * 3600 + 1)
    http = client(sb)  # the first access token has expired by now
    r = http.post(f"{API}/vendor", params={"requestid": "old"}, json={"DisplayName": "B"})
    assert r.json()["Vendor"]["DisplayName"] == "B"
