"""QuickBooks sandbox: webhooks (legacy, CloudEvents), control actions, persistence, seed."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from sandboxes.core import Clock, loads
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
    Vendor,
)
from sandboxes.quickbooks import (
    DEMO_REALM_ID,
    DEMO_VERIFIER_TOKEN,
    QuickBooksSandbox,
    sign_webhook,
    verify_webhook,
)
from sandboxes.quickbooks.seed import load

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "quickbooks"
API = f"/v3/company/{DEMO_REALM_ID}"
HOOK = "https://app.test/webhooks/quickbooks"


@pytest.fixture
def sb():
    return QuickBooksSandbox(clock=Clock(), enforce_limits=False)


@pytest.fixture
def http(sb):
    token = sb.issue_token_for_tests()["access_token"]
    return httpx.Client(
        base_url="https://qb.test",
        transport=httpx.MockTransport(sb.handle),
        headers={"Authorization": f"Bearer {token}"},
    )


def delivered(sb):
    got = []
    sb.deliver(lambda url, headers, body: got.append((url, headers, body)) or 200)
    return got


# -- webhooks -------------------------------------------------------------------------------------


def test_intuit_published_hmac_test_vector():
    """Intuit .NET SDK WebhooksServiceTest vector (quickbooks-api.md §5.1)."""
    vector = json.loads((FIXTURES / "webhook__legacy_intuit_test_vector.json").read_text())
    body = (FIXTURES / "webhook__legacy_intuit_test_vector.body").read_bytes()
    assert sign_webhook(body, vector["verifier_token"]) == vector["intuit_signature"]
    assert verify_webhook(body, vector["intuit_signature"], vector["verifier_token"])
    assert not verify_webhook(body + b" ", vector["intuit_signature"], vector["verifier_token"])


def test_legacy_webhook_on_api_change_is_signed(sb, http):
    sb.register_webhook(HOOK, DEMO_VERIFIER_TOKEN, format="legacy")
    v = http.post(f"{API}/vendor", json={"DisplayName": "Hooked"}).json()["Vendor"]
    [(url, headers, body)] = delivered(sb)
    assert url == HOOK
    assert headers["intuit-signature"] == sign_webhook(body, DEMO_VERIFIER_TOKEN)
    assert headers["intuit-notification-schema-version"] == "0.1"
    note = json.loads(body)["eventNotifications"][0]
    assert note["realmId"] == DEMO_REALM_ID
    [entity] = note["dataChangeEvent"]["entities"]
    assert (
        entity["name"] == "Vendor" and entity["id"] == v["Id"] and entity["operation"] == "Create"
    )
    assert entity["lastUpdated"].endswith("Z")


def test_cloudevents_webhook_shape(sb, http):
    sb.register_webhook(HOOK, "tok", format="cloudevents")
    v = http.post(f"{API}/vendor", json={"DisplayName": "CE"}).json()["Vendor"]
    http.post(
        f"{API}/vendor", json={"Id": v["Id"], "SyncToken": "0", "sparse": True, "AcctNum": "7"}
    )
    sent = delivered(sb)
    assert len(sent) == 2
    events = [json.loads(body)[0] for _, _, body in sent]
    documented = json.loads((FIXTURES / "cloudevents__account_created.json").read_text())["events"][
        0
    ]
    assert set(events[0]) == set(documented)
    assert [e["type"] for e in events] == ["qbo.vendor.created.v1", "qbo.vendor.updated.v1"]
    assert events[0]["intuitaccountid"] == DEMO_REALM_ID and events[0]["intuitentityid"] == v["Id"]
    assert events[0]["specversion"] == "1.0"
    _, headers, body = sent[0]
    assert verify_webhook(body, headers["intuit-signature"], "tok")


def test_batch_changes_go_out_in_one_notification(sb, http):
    sb.register_webhook(HOOK, "tok")
    items = [
        {"bId": str(i), "operation": "create", "Vendor": {"DisplayName": f"B{i}"}} for i in range(3)
    ]
    http.post(f"{API}/batch", json={"BatchItemRequest": items})
    [(_, _, body)] = delivered(sb)
    assert len(json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"]) == 3


def test_webhook_faults_drop_and_duplicate(sb, http):
    sb.register_webhook(HOOK, "tok")
    sb.faults.webhook_duplicate_rate = 1.0
    http.post(f"{API}/vendor", json={"DisplayName": "Dup"})
    assert len(delivered(sb)) == 2


# -- control actions ------------------------------------------------------------------------------


def _bill(sb, amount=250):
    vendor = sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "Payee"})["Id"]
    acct = sb.account_by_type(DEMO_REALM_ID, "Income")["Id"]
    line = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": amount,
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": acct}},
    }
    return sb.create(
        DEMO_REALM_ID, "Bill", {"VendorRef": {"value": vendor}, "Line": [line], "DocNumber": "X"}
    )


def test_mark_bill_paid_creates_bill_payment_and_fires_webhooks(sb, http):
    bill = _bill(sb)
    sb.register_webhook(HOOK, "tok")
    payment = sb.mark_bill_paid(bill["Id"])
    assert payment["TotalAmt"] == 250 and payment["PayType"] == "Check"
    got = http.get(f"{API}/bill/{bill['Id']}").json()["Bill"]
    assert got["Balance"] == 0
    [(_, _, body)] = delivered(sb)
    ops = {
        (e["name"], e["operation"])
        for e in json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"]
    }
    assert ops == {("BillPayment", "Create"), ("Bill", "Update")}


def test_mark_invoice_paid_over_the_control_api(sb, http):
    owner = sb.create(DEMO_REALM_ID, "Customer", {"DisplayName": "Owner"})["Id"]
    inv = sb.create(
        DEMO_REALM_ID,
        "Invoice",
        {
            "CustomerRef": {"value": owner},
            "Line": [
                {
                    "Amount": 40,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    r = http.post(
        f"/_sandbox/quickbooks/{DEMO_REALM_ID}/invoices/{inv['Id']}/pay", json={"amount": 15}
    )
    assert r.status_code == 200 and r.json()["TotalAmt"] == 15
    assert sb.read("Invoice", inv["Id"])["Balance"] == 25
    r = http.get(f"/_sandbox/quickbooks/{DEMO_REALM_ID}/invoice/{inv['Id']}")
    assert r.json()["Balance"] == 25


def test_edit_purchase_order_by_hand(sb, http):
    vendor = sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "PO Vendor"})["Id"]
    ap = sb.account_by_type(DEMO_REALM_ID, "Accounts Payable")["Id"]
    line = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": 100,
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": ap}},
    }
    po = sb.create(
        DEMO_REALM_ID,
        "PurchaseOrder",
        {"VendorRef": {"value": vendor}, "APAccountRef": {"value": ap}, "Line": [line]},
    )
    po = sb.read("PurchaseOrder", po["Id"])  # create returns the live record
    sb.register_webhook(HOOK, "tok")
    sb.clock.advance(30)
    r = http.post(
        f"/_sandbox/quickbooks/{DEMO_REALM_ID}/purchaseorder/{po['Id']}/edit",
        json={"Memo": "changed by hand"},
    )
    assert r.status_code == 200
    edited = http.get(f"{API}/purchaseorder/{po['Id']}").json()["PurchaseOrder"]
    assert edited["SyncToken"] == "1" and edited["Memo"] == "changed by hand"
    assert edited["MetaData"]["LastUpdatedTime"] > po["MetaData"]["LastUpdatedTime"]
    [(_, _, body)] = delivered(sb)
    assert (
        json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"][0]["operation"]
        == "Update"
    )


# -- persistence, reset, companies ----------------------------------------------------------------


def test_save_and_load_keep_records_tokens_and_requestids(sb, http, tmp_path):
    http.post(f"{API}/vendor", params={"requestid": "r1"}, json={"DisplayName": "Saved"})
    bill = _bill(sb)
    sb.register_webhook(HOOK, "tok")
    path = tmp_path / "qb.json"
    sb.save(str(path))
    fresh = QuickBooksSandbox(clock=Clock(), enforce_limits=False)
    fresh.load(str(path))
    again = httpx.Client(
        base_url="https://qb.test",
        transport=httpx.MockTransport(fresh.handle),
        headers=dict(http.headers),
    )
    assert again.get(f"{API}/bill/{bill['Id']}").json()["Bill"]["Balance"] == 250
    r = again.post(f"{API}/vendor", params={"requestid": "r1"}, json={"DisplayName": "Saved"})
    assert r.status_code == 200 and len(fresh.records("Vendor")) == 2  # replayed, not re-created
    assert (
        fresh.hooks and fresh.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "New"})["Id"] == "3"
    )
    assert loads(path.read_bytes())["quickbooks"]["companies"]


def test_reset_forgets_records_keeps_connection(sb, http):
    sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "Temp"})
    assert http.post("/_sandbox/reset").status_code == 200
    assert sb.records("Vendor") == []
    assert http.get(f"{API}/companyinfo/{DEMO_REALM_ID}").status_code == 200


def test_companies_are_isolated(sb):
    sb.add_company("123145", "Second Co")
    sb.create("123145", "Vendor", {"DisplayName": "Same Name"})
    sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "Same Name"})
    assert len(sb.records("Vendor", realm="123145")) == 1


# -- seed loader ----------------------------------------------------------------------------------


def tiny_company() -> Company:
    lines = [
        Line("03-300", "S", "Footings", Decimal("1000.00")),
        Line("09-900", "S", "Paint", Decimal("500.00")),
    ]
    vendor = Vendor(
        "v1",
        "Star Framing",
        "Star Framing, LLC",
        "Framing",
        "a@b.c",
        "555",
        "12-3",
        "1 St",
        "Reno",
        "NV",
        "89501",
        "US",
    )
    missing = Vendor(
        "v2",
        "Only Procore",
        "Only Procore",
        "Paint",
        "p@b.c",
        "5",
        "1",
        "2 St",
        "Reno",
        "NV",
        "89501",
        "US",
        in_quickbooks=False,
    )
    project = Project(
        "p1",
        "24-101",
        "Harbor View",
        "quickbooks",
        "us",
        "USD",
        "c1",
        "Active",
        date(2024, 1, 1),
        "1 Pier",
        "Reno",
        "NV",
        "89501",
        "US",
        "Pat PM",
        ["03-300", "09-900"],
    )
    ns_project = Project(
        "p2",
        "24-102",
        "NS Job",
        "netsuite",
        "us",
        "USD",
        "c1",
        "Active",
        date(2024, 1, 1),
        "1 Pier",
        "Reno",
        "NV",
        "89501",
        "US",
        "Pat PM",
    )
    commitment = Commitment(
        "k1",
        "p1",
        "v1",
        "subcontract",
        "SC-24101-001",
        "Framing",
        "Approved",
        True,
        Decimal("10"),
        date(2024, 2, 1),
        lines,
        in_erp=True,
        erp_approved=True,
        erp_edited_by_hand=True,
        erp_edit={"memo": "edited in QBO"},
    )
    req = Requisition(
        "r1",
        "k1",
        1,
        "INV-1",
        date(2024, 2, 1),
        date(2024, 2, 29),
        "paid",
        [RequisitionLine(0, Decimal("400"), Decimal("0"), Decimal("10"))],
        in_erp=True,
        paid_in_erp=True,
        paid_on=date(2024, 3, 15),
    )
    prime = PrimeContract("pc1", "p1", "PC-1", "Prime", "c1", Decimal("10"), lines)
    app = PaymentApplication(
        "a1",
        "pc1",
        1,
        "OI-1",
        date(2024, 2, 1),
        date(2024, 2, 29),
        "paid",
        Decimal("1000"),
        Decimal("100"),
        in_erp=True,
        paid_in_erp=True,
        paid_on=date(2024, 3, 20),
    )
    return Company(
        seed=1,
        size="tiny",
        name="Summit Builders",
        procore_company_id="1",
        subsidiaries=[],
        cost_codes=[
            CostCode("03-300", "Cast-in-Place Concrete", "03", "Concrete"),
            CostCode("09-900", "Painting", "09", "Finishes"),
        ],
        cost_types=[CostType("S", "Subcontract")],
        accounts=[
            Account("ap", "2000", "Accounts Payable", "AccountsPayable"),
            Account("ar", "1200", "Accounts Receivable", "AccountsReceivable"),
            Account("retention_payable", "2150", "Retention Payable", "OtherCurrentLiability"),
            Account("retention_receivable", "1250", "Retention Receivable", "OtherCurrentAsset"),
            Account("revenue", "4000", "Contract Revenue", "Income"),
            Account("cost_subcontract", "5300", "Job Cost - Subcontract", "CostOfGoodsSold"),
        ],
        vendors=[vendor, missing],
        customers=[Customer("c1", "Harbor Owner LLC", "o@x.y", "us")],
        projects=[project, ns_project],
        commitments=[commitment],
        change_orders=[],
        requisitions=[req],
        prime_contracts=[prime],
        payment_applications=[app],
        direct_costs=[],
        unmapped_cost_codes=["09-900"],
    )


def test_seed_loader_writes_the_quickbooks_part(sb, http):
    sb.register_webhook(HOOK, "tok")
    ids = load(sb, tiny_company())
    assert delivered(sb) == []  # seeding is history, not news
    assert (
        "vendor:v2" not in ids
        and sb.read("Vendor", ids["vendor:v1"])["DisplayName"] == "Star Framing, LLC"
    )
    assert "item:03-300" in ids and "item:09-900" not in ids
    assert sb.read("Class", ids["class:03"])["Name"] == "03 Concrete"
    job = sb.read("Customer", ids["job:p1"])
    assert job["Job"] is True and job["ParentRef"]["value"] == ids["customer:c1"]
    assert "job:p2" not in ids
    assert ids["account:ap"] == sb.account_by_type(DEMO_REALM_ID, "Accounts Payable")["Id"]
    po = sb.read("PurchaseOrder", ids["po:k1"])
    assert po["TotalAmt"] == 1500 and po["PrivateNote"] == "edited in QBO"
    assert po["Line"][1]["DetailType"] == "AccountBasedExpenseLineDetail"  # unmapped cost code
    bill = sb.read("Bill", ids["bill:r1"])
    assert bill["TotalAmt"] == 360 and bill["Balance"] == 0  # 400 less 10 % retainage, paid
    assert sb.read("BillPayment", ids["billpayment:r1"])["TxnDate"] == "2024-03-15"
    inv = sb.read("Invoice", ids["invoice:a1"])
    assert inv["TotalAmt"] == 900 and inv["Balance"] == 0 and inv["DocNumber"] == "OI-1"
    r = http.get(f"{API}/query", params={"query": "select * from Bill where DocNumber = 'INV-1'"})
    assert r.json()["QueryResponse"]["Bill"][0]["Id"] == ids["bill:r1"]


def test_seed_loader_applies_the_datasets_line_edit_form(sb):
    company = tiny_company()
    company.commitments[0].erp_edit = {"line:0:amount": "1250.00"}
    ids = load(sb, company)
    po = sb.read("PurchaseOrder", ids["po:k1"])
    assert po["Line"][0]["Amount"] == Decimal("1250.00")
    assert po["TotalAmt"] == Decimal("1250.00") + po["Line"][1]["Amount"]
