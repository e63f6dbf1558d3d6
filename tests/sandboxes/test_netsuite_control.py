"""NetSuite sandbox: governance (429), user-event POSTs, control actions, persistence, seed."""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal

import pytest

from sandboxes.dataset.model import (
    Account,
    Commitment,
    Company,
    CostCode,
    CostType,
    Customer,
    Line,
    PaymentApplication,
    PrimeContract,
    Project,
    Requisition,
    RequisitionLine,
    Subsidiary,
    Vendor,
)
from sandboxes.netsuite import SECRET_HEADER, NetSuiteSandbox
from sandboxes.netsuite.seed import load
from tests.sandboxes.test_netsuite_support import REC, books, client, created_id, po_body


@pytest.fixture
def env():
    sb = NetSuiteSandbox()
    c = client(sb)
    return sb, c, books(c)


def deliveries(sb):
    return [(d.headers, json.loads(d.body)) for d in sb.outbox.pending]


def test_concurrency_limit_429_with_ns_body(env):
    sb, c, _ = env
    for _ in range(15):
        assert sb.gate.enter(sb.account_id)
    resp = c.get(f"{REC}/vendor")
    assert resp.status_code == 429
    body = resp.json()
    assert body["title"] == "Too Many Requests" and body["status"] == 429
    assert body["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    sb.gate.leave(sb.account_id)
    assert c.get(f"{REC}/vendor").status_code == 200


def test_concurrency_is_shared_by_all_clients_in_flight():
    sb = NetSuiteSandbox(concurrency_limit=3)
    sb.faults.update({"latency_ms": 150})
    statuses: list[int] = []
    tokens = [sb.issue_token_for_tests() for _ in range(8)]  # eight different integrations

    def call(tok: str) -> None:
        statuses.append(client(sb, token=tok).get(f"{REC}/vendor").status_code)

    threads = [threading.Thread(target=call, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) >= 3 and statuses.count(429) >= 1
    assert sb.gate.peak <= 3


def test_rate_limit_burst_fault_is_a_429_in_ns_shape(env):
    sb, c, _ = env
    sb.faults.update({"rate_limit_next": 1})
    resp = c.get(f"{REC}/vendor")
    assert resp.status_code == 429 and resp.json()["o:errorDetails"][0]["o:errorCode"]


def test_user_event_post_on_create_edit_delete(env):
    sb, c, ids = env
    sb.register_event_target("https://erpbridge.test/hooks/netsuite", "s3cret")
    rid = created_id(
        c.post(
            f"{REC}/customer",
            json={"companyName": "Evt", "subsidiary": {"id": ids["us"]}, "externalId": "cust-1"},
        )
    )
    c.patch(f"{REC}/customer/{rid}", json={"email": "e@e.test"})
    c.delete(f"{REC}/customer/{rid}")
    got = deliveries(sb)
    assert [b["eventType"] for _, b in got] == ["create", "edit", "delete"]
    headers, body = got[0]
    assert headers[SECRET_HEADER] == "s3cret" and headers["Content-Type"] == "application/json"
    assert set(body) == {
        "eventId",
        "recordType",
        "recordId",
        "externalId",
        "eventType",
        "lastModifiedDate",
        "accountId",
    }
    assert body["recordType"] == "customer" and body["recordId"] == rid
    assert body["externalId"] == "cust-1" and body["accountId"] == "1234567_SB1"
    assert len({b["eventId"] for _, b in got}) == 3
    seen = []
    done = sb.deliver(lambda url, h, raw: seen.append((url, h, raw)) or 200)
    assert len(done) == 3 and seen[0][0] == "https://erpbridge.test/hooks/netsuite"


def test_mark_bill_paid_creates_vendor_payment_and_fires_events(env):
    sb, c, ids = env
    bill = created_id(
        c.post(
            f"{REC}/vendorBill",
            json={
                "entity": {"id": ids["vendor"]},
                "tranId": "INV-7",
                "expense": {"items": [{"account": {"id": ids["acct"]}, "amount": 900}]},
            },
        )
    )
    sb.register_event_target("https://erpbridge.test/hook", "k")
    sb.clock.advance(30)
    resp = c.post(f"/_sandbox/netsuite/vendorBill/{bill}/pay", json={})
    assert resp.status_code == 200
    pay = resp.json()["vendorPayment"]
    c.headers["Authorization"] = f"Bearer {sb.issue_token_for_tests()}"
    got = c.get(f"{REC}/vendorBill/{bill}").json()
    assert got["status"]["refName"] == "Paid In Full" and got["balance"] == 0
    payment = c.get(f"{REC}/vendorPayment/{pay}", params={"expandSubResources": "true"}).json()
    assert payment["apply"]["items"][0]["doc"]["id"] == bill and payment["total"] == 900
    events = [(b["recordType"], b["eventType"]) for _, b in deliveries(sb)]
    assert ("vendorPayment", "create") in events and ("vendorBill", "edit") in events
    day = sb.clock.now().strftime("%m/%d/%Y")
    found = c.get(f"{REC}/vendorBill", params={"q": f'lastModifiedDate ON "{day}"'}).json()
    assert bill in [i["id"] for i in found["items"]]


def test_mark_invoice_paid(env):
    sb, c, ids = env
    inv = created_id(
        c.post(
            f"{REC}/invoice",
            json={
                "entity": {"id": ids["job"]},
                "item": {"items": [{"item": {"id": ids["item"]}, "amount": 300}]},
            },
        )
    )
    pay = sb.control.mark_invoice_paid(inv)
    got = sb.control.read("invoice", inv)
    assert got["status"]["refName"] == "Paid In Full" and got["amountRemaining"] == 0
    assert sb.control.read("customerPayment", pay)["total"] == 300


def test_edit_and_approve_purchase_order_by_hand(env):
    sb, c, ids = env
    po = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids)))
    before = sb.control.read("purchaseOrder", po)
    sb.register_event_target("https://erpbridge.test/hook", "k")
    sb.clock.advance(90)
    resp = c.post(
        f"/_sandbox/netsuite/purchaseOrder/{po}/edit",
        json={"line": 1, "amount": "260.00", "line_memo": "changed by AP clerk"},
    )
    assert resp.status_code == 200
    after = resp.json()
    line = after["item"]["items"][0]
    assert (
        line["amount"] == 260
        and line["rate"] == 130
        and line["description"] == ("changed by AP clerk")
    )
    assert after["total"] == 310 and after["lastModifiedDate"] > before["lastModifiedDate"]
    sb.control.approve_purchase_order(po)
    approved = sb.control.read("purchaseOrder", po)
    assert approved["approvalStatus"]["refName"] == "Approved"
    assert approved["status"]["refName"] == "Pending Receipt"
    assert [b["eventType"] for _, b in deliveries(sb)] == ["edit", "edit"]
    assert c.get(f"/_sandbox/netsuite/record/purchaseOrder/{po}").json()["id"] == po
    assert c.post("/_sandbox/netsuite/purchaseOrder/999/approve").status_code == 404


def test_state_survives_save_and_load(env, tmp_path):
    sb, c, ids = env
    token = c.headers["Authorization"]
    bill = created_id(
        c.put(
            f"{REC}/vendorBill/eid:b-1",
            json={
                "entity": {"id": ids["vendor"]},
                "expense": {"items": [{"account": {"id": ids["acct"]}, "amount": 12.34}]},
            },
        )
    )
    sb.control.mark_bill_paid(bill, amount=Decimal("2.34"))
    sb.register_event_target("https://erpbridge.test/hook", "k")
    path = tmp_path / "ns.json"
    sb.save(str(path))
    other = NetSuiteSandbox(demo_credentials=False)
    other.load(str(path))
    c2 = client(other, token=token.split(" ", 1)[1])
    got = c2.get(f"{REC}/vendorBill/eid:b-1").json()
    assert got["id"] == bill and got["balance"] == 10 and got["total"] == 12.34
    dup = c2.post(
        f"{REC}/vendorBill",
        json={
            "externalId": "b-1",
            "entity": {"id": ids["vendor"]},
            "expense": {"items": [{"account": {"id": ids["acct"]}, "amount": 1}]},
        },
    )
    assert dup.status_code == 400
    nxt = created_id(
        c2.post(f"{REC}/customer", json={"companyName": "N", "subsidiary": {"id": ids["us"]}})
    )
    assert int(nxt) > int(ids["job"])
    assert other.events.targets == sb.events.targets


def tiny_company() -> Company:
    subs = [
        Subsidiary("us", "Summit US Inc.", "US", "USD"),
        Subsidiary("ca", "Summit Canada Ltd.", "CA", "CAD"),
    ]
    codes = [
        CostCode("03-300", "Cast-in-Place Concrete", "03", "Concrete"),
        CostCode("06-100", "Rough Carpentry", "06", "Wood"),
        CostCode("09-900", "Painting", "09", "Finishes"),
    ]
    types = [CostType("S", "Subcontract"), CostType("M", "Materials")]
    accounts = [
        Account("ap", "2000", "Accounts Payable", "AccountsPayable"),
        Account("ar", "1200", "Accounts Receivable", "AccountsReceivable"),
        Account("retention_payable", "2100", "Retention Payable", "OtherCurrentLiability"),
        Account("retention_receivable", "1250", "Retention Receivable", "OtherCurrentAsset"),
        Account("cost_subcontract", "5100", "Subcontract Costs", "CostOfGoodsSold"),
        Account("revenue", "4000", "Contract Revenue", "Income"),
    ]

    def vendor(key, name, erp_name, subs_, in_ns=True):
        return Vendor(
            key,
            name,
            erp_name,
            "Framing",
            f"{key}@x.test",
            "555-0100",
            "12-345",
            "1 Main",
            "Denver",
            "CO",
            "80202",
            "US",
            in_netsuite=in_ns,
            subsidiaries=subs_,
        )

    vendors = [
        vendor("star", "Star Framing", "Star Framing, LLC", ["us"]),
        vendor("north", "North Paint", "North Paint", ["us", "ca"]),
        vendor("qbo", "QBO Only", "QBO Only", [], in_ns=False),
    ]
    customers = [Customer("owner", "Owner Holdings", "ap@owner.test", "us")]
    projects = [
        Project(
            "p1",
            "24-101",
            "Tower",
            "netsuite",
            "us",
            "USD",
            "owner",
            "Active",
            date(2024, 1, 15),
            "1 A St",
            "Denver",
            "CO",
            "80202",
            "US",
            "Pat",
        ),
        Project(
            "p2",
            "24-102",
            "Depot",
            "quickbooks",
            "us",
            "USD",
            "owner",
            "Active",
            date(2024, 2, 1),
            "2 B St",
            "Denver",
            "CO",
            "80202",
            "US",
            "Pat",
        ),
    ]
    lines = [
        Line("03-300", "S", "Concrete", Decimal("10000.00")),
        Line("09-900", "S", "Paint", Decimal("2000.00"), Decimal("4")),
    ]
    commitments = [
        Commitment(
            "c1",
            "p1",
            "star",
            "subcontract",
            "SC-24101-001",
            "Concrete",
            "Approved",
            True,
            Decimal("10"),
            date(2024, 2, 1),
            lines,
            in_erp=True,
            erp_approved=True,
            erp_edited_by_hand=True,
            erp_edit={"line:0:amount": "11000.00"},
        ),
        Commitment(
            "c2",
            "p2",
            "north",
            "subcontract",
            "SC-24102-001",
            "Paint",
            "Approved",
            True,
            Decimal("10"),
            date(2024, 2, 1),
            lines,
            in_erp=True,
        ),
    ]
    reqs = [
        Requisition(
            "r1",
            "c1",
            1,
            "INV-3391",
            date(2024, 3, 1),
            date(2024, 3, 31),
            "paid",
            [RequisitionLine(0, Decimal("5000"), Decimal("0"), Decimal("10"))],
            in_erp=True,
            paid_in_erp=True,
            paid_on=date(2024, 4, 20),
        )
    ]
    primes = [PrimeContract("pc1", "p1", "PC-1", "Tower GMP", "owner", Decimal("10"), lines)]
    pay_apps = [
        PaymentApplication(
            "pa1",
            "pc1",
            1,
            "OI-1",
            date(2024, 3, 1),
            date(2024, 3, 31),
            "paid",
            Decimal("8000"),
            Decimal("800"),
            in_erp=True,
            paid_in_erp=True,
            paid_on=date(2024, 4, 25),
        )
    ]
    return Company(
        1,
        "demo",
        "Summit Builders",
        "562949953421312",
        subs,
        codes,
        types,
        accounts,
        vendors,
        customers,
        projects,
        commitments,
        [],
        reqs,
        primes,
        pay_apps,
        [],
        unmapped_cost_codes=["09-900"],
    )


def test_seed_loader_writes_the_netsuite_side_of_a_company():
    sb = NetSuiteSandbox()
    ids = load(sb, tiny_company())
    read = sb.control.read
    assert read("subsidiary", ids["subsidiary:ca"])["currency"]["refName"] == "CAD"
    assert read("currency", ids["currency:USD"])["isBaseCurrency"] is True
    assert "item:03-300" in ids and "item:09-900" not in ids  # unmapped cost code
    assert "vendor:qbo" not in ids
    north = read("vendor", ids["vendor:north"])
    assert {ln["subsidiary"]["id"] for ln in north["submachine"]["items"]} == {
        ids["subsidiary:us"],
        ids["subsidiary:ca"],
    }
    assert read("vendor", ids["vendor:star"])["companyName"] == "Star Framing, LLC"
    job = read("job", ids["job:p1"])
    assert job["parent"]["id"] == ids["customer:owner"] and "job:p2" not in ids
    po = read("purchaseOrder", ids["purchaseOrder:c1"])
    assert po["approvalStatus"]["refName"] == "Approved" and po["tranId"] == "SC-24101-001"
    assert po["item"]["items"][0]["amount"] == Decimal("11000.00")  # the hand edit
    assert po["expense"]["items"][0]["amount"] == Decimal("2000.00")  # unmapped -> expense
    assert po.get("externalId") is None
    assert "purchaseOrder:c2" not in ids  # QuickBooks project
    bill = read("vendorBill", ids["vendorBill:r1"])
    assert bill["total"] == Decimal("4500") and bill["status"]["refName"] == "Paid In Full"
    assert read("vendorPayment", ids["vendorPayment:r1"])["tranDate"] == "2024-04-20"
    inv = read("invoice", ids["invoice:pa1"])
    assert inv["total"] == Decimal("7200") and inv["status"]["refName"] == "Paid In Full"
    assert inv["entity"]["id"] == ids["job:p1"]


def test_an_admin_maps_a_new_certificate_and_tokens_signed_with_its_key_are_accepted():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from sandboxes.core import client_for
    from sandboxes.netsuite.keys import DEMO_CLIENT_ID, make_client_assertion

    sb = NetSuiteSandbox()
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    http = client_for(sb)
    token_path = "/services/rest/auth/oauth2/v1/token"
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": make_client_assertion(
            private_pem, certificate_id="admin-cert-1", alg="ES256"
        ),
    }
    assert http.post(token_path, data=form).status_code in (400, 401)  # not mapped yet
    mapped = http.post(
        "/_sandbox/netsuite/certificates",
        json={
            "client_id": DEMO_CLIENT_ID,
            "certificate_id": "admin-cert-1",
            "public_key_pem": public_pem.decode(),
        },
    )
    assert mapped.status_code == 200
    assert http.post(token_path, data=form).json()["access_token"]
    bad = http.post("/_sandbox/netsuite/certificates", json={"client_id": DEMO_CLIENT_ID})
    assert bad.status_code == 400 and "certificate_id" in bad.json()["error"]
