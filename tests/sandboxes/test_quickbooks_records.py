"""QuickBooks sandbox: entity CRUD, SyncToken, names, DocNumbers, voids, deletes and balances."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest

from sandboxes.core import Clock, dumps
from sandboxes.quickbooks import DEMO_REALM_ID, QuickBooksSandbox

API = f"/v3/company/{DEMO_REALM_ID}"
META_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


@pytest.fixture
def sb():
    return QuickBooksSandbox(clock=Clock(), enforce_limits=False)


@pytest.fixture
def http(sb):
    token = sb.issue_token_for_tests()["access_token"]
    return httpx.Client(
        base_url="https://qb.test",
        transport=httpx.MockTransport(sb.handle),
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        params={"minorversion": "75"},
    )


def post(http, entity, body, **params):
    headers = {"Content-Type": "application/json"}
    return http.post(f"{API}/{entity}", content=dumps(body), params=params, headers=headers)


def fault(r):
    assert r.status_code == 400, r.text
    return r.json()["Fault"]["Error"][0]


def ids(sb):
    acct = {a["AccountType"]: a["Id"] for a in sb.records("Account")}
    vendor = sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "Hicks Hardware"})["Id"]
    owner = sb.create(DEMO_REALM_ID, "Customer", {"DisplayName": "Owner LLC"})["Id"]
    return acct, vendor, owner


def bill_body(acct, vendor, amount=200, doc="B-1"):
    return {
        "VendorRef": {"value": vendor},
        "DocNumber": doc,
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": amount,
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": acct["Income"]}},
            }
        ],
    }


def test_create_fills_qbo_defaults_and_envelope(http):
    r = post(http, "customer", {"DisplayName": "Doe5, Jane"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"Customer", "time"}
    assert TIME_RE.match(body["time"])
    c = body["Customer"]
    assert c["Id"].isdigit() and c["SyncToken"] == "0"
    assert c["domain"] == "QBO" and c["sparse"] is False and c["Active"] is True
    assert c["Job"] is False and c["PrintOnCheckName"] == "Doe5, Jane"
    assert c["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"}
    assert META_RE.match(c["MetaData"]["CreateTime"])
    assert c["MetaData"]["CreateTime"] == c["MetaData"]["LastUpdatedTime"]
    assert http.get(f"{API}/customer/{c['Id']}").json()["Customer"] == c


def test_read_missing_is_610_and_bad_id_is_2030(http):
    assert fault(http.get(f"{API}/vendor/999"))["code"] == "610"
    err = fault(http.get(f"{API}/customer/1.5"))
    assert err["code"] == "2030" and err["element"] == "Id"


def test_unknown_entity_path_is_unsupported_operation(http):
    assert fault(http.get(f"{API}/custmoer/1"))["code"] == "500"


def test_sparse_update_bumps_synctoken_and_keeps_other_fields(sb, http):
    v = post(http, "vendor", {"DisplayName": "Acme", "CompanyName": "Acme Inc"}).json()["Vendor"]
    sb.clock.advance(5)
    r = post(http, "vendor", {"Id": v["Id"], "SyncToken": "0", "sparse": True, "AcctNum": "42"})
    u = r.json()["Vendor"]
    assert u["SyncToken"] == "1" and u["AcctNum"] == "42" and u["CompanyName"] == "Acme Inc"
    assert u["MetaData"]["CreateTime"] == v["MetaData"]["CreateTime"]
    assert u["MetaData"]["LastUpdatedTime"] > v["MetaData"]["LastUpdatedTime"]


def test_full_update_clears_omitted_fields(http):
    v = post(http, "vendor", {"DisplayName": "Acme", "CompanyName": "Acme Inc"}).json()["Vendor"]
    u = post(http, "vendor", {"Id": v["Id"], "SyncToken": "0", "DisplayName": "Acme 2"}).json()[
        "Vendor"
    ]
    assert "CompanyName" not in u and u["DisplayName"] == "Acme 2"


def test_stale_synctoken_is_5010(http):
    v = post(http, "vendor", {"DisplayName": "Acme"}).json()["Vendor"]
    post(http, "vendor", {"Id": v["Id"], "SyncToken": "0", "sparse": True, "AcctNum": "1"})
    err = fault(
        post(http, "vendor", {"Id": v["Id"], "SyncToken": "0", "sparse": True, "AcctNum": "2"})
    )
    assert err["code"] == "5010" and err["Message"] == "Stale Object Error"


def test_duplicate_display_name_across_customers_and_vendors_is_6240(http):
    post(http, "vendor", {"DisplayName": "Star Framing"})
    err = fault(post(http, "customer", {"DisplayName": "star framing"}))
    assert err["code"] == "6240" and err["Message"] == "Duplicate Name Exists Error"
    assert post(http, "vendor", {"DisplayName": "Star Framing, LLC"}).status_code == 200


def test_required_param_missing_is_2020(sb, http):
    acct, vendor, _ = ids(sb)
    err = fault(post(http, "bill", {"VendorRef": {"value": vendor}}))
    assert err["code"] == "2020" and err["element"] == "Line"
    assert fault(post(http, "vendor", {"CompanyName": "x"}))["code"] == "2020"


def test_invalid_reference_is_2500(sb, http):
    acct, _, _ = ids(sb)
    err = fault(post(http, "bill", bill_body(acct, "9999")))
    assert err["code"] == "2500" and err["element"] == "VendorRef"


def test_list_entities_deactivate_instead_of_delete(sb, http):
    v = post(http, "vendor", {"DisplayName": "Gone Co"}).json()["Vendor"]
    err = fault(post(http, "vendor", {"Id": v["Id"], "SyncToken": "0"}, operation="delete"))
    assert err["code"] == "500"
    u = post(
        http, "vendor", {"Id": v["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    ).json()["Vendor"]
    assert u["Active"] is False and u["DisplayName"] == "Gone Co (deleted)"
    text = f"select * from Vendor where Id = '{v['Id']}'"  # noqa: S608 - QBO query language
    q = http.get(f"{API}/query", params={"query": text})
    assert q.json()["QueryResponse"] == {}
    q = http.get(
        f"{API}/query", params={"query": "select * from Vendor where Active IN (true, false)"}
    )
    assert [x["Id"] for x in q.json()["QueryResponse"]["Vendor"]] == [v["Id"]]
    # the old name is free again
    assert post(http, "vendor", {"DisplayName": "Gone Co"}).status_code == 200
    # and an inactive vendor cannot be referenced
    acct = {a["AccountType"]: a["Id"] for a in sb.records("Account")}
    assert fault(post(http, "bill", bill_body(acct, v["Id"])))["code"] == "2500"


def test_sub_customer_job(http):
    owner = post(http, "customer", {"DisplayName": "Doe, Jack"}).json()["Customer"]
    job = post(
        http,
        "customer",
        {
            "DisplayName": "Kitchen Remodel",
            "Job": True,
            "ParentRef": {"value": owner["Id"]},
            "BillWithParent": True,
        },
    ).json()["Customer"]
    assert job["Job"] is True and job["Level"] == 1
    assert job["ParentRef"]["value"] == owner["Id"]
    assert job["FullyQualifiedName"] == "Doe, Jack:Kitchen Remodel"


def test_bill_totals_balance_and_duplicate_docnumber_per_vendor(sb, http):
    acct, vendor, _ = ids(sb)
    bill = post(http, "bill", bill_body(acct, vendor, Decimal("103.55"))).json()["Bill"]
    assert bill["TotalAmt"] == 103.55 and bill["Balance"] == 103.55
    assert bill["APAccountRef"]["name"] == "Accounts Payable (A/P)"
    assert bill["Line"][0]["Id"] == "1" and bill["Line"][0]["LineNum"] == 1
    err = fault(post(http, "bill", bill_body(acct, vendor)))
    assert err["code"] == "6140" and "DocNumber=B-1" in err["Detail"]
    assert (
        post(http, "bill", bill_body(acct, vendor), include="allowduplicatedocnum").status_code
        == 200
    )
    other = sb.create(DEMO_REALM_ID, "Vendor", {"DisplayName": "Other"})["Id"]
    assert post(http, "bill", bill_body(acct, other)).status_code == 200
    sb.docnumber_policy["Bill"] = None
    assert post(http, "bill", bill_body(acct, vendor)).status_code == 200


def test_invoice_gets_docnumber_subtotal_and_company_wide_6140(sb, http):
    _, _, owner = ids(sb)
    item = sb.records("Item")[0]["Id"]
    body = {
        "CustomerRef": {"value": owner},
        "Line": [
            {
                "Amount": 100.0,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": item}},
            }
        ],
    }
    inv = post(http, "invoice", body).json()["Invoice"]
    assert inv["DocNumber"] == "1001" and inv["Balance"] == 100
    assert inv["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert inv["DueDate"] > inv["TxnDate"]
    assert fault(post(http, "invoice", {**body, "DocNumber": "1001"}))["code"] == "6140"


def test_bill_payment_reduces_balance_and_links_back(sb, http):
    acct, vendor, _ = ids(sb)
    bill = post(http, "bill", bill_body(acct, vendor, 200)).json()["Bill"]
    pay = {
        "VendorRef": {"value": vendor},
        "PayType": "Check",
        "TotalAmt": 150,
        "CheckPayment": {"BankAccountRef": {"value": acct["Bank"]}},
        "Line": [{"Amount": 150, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
    }
    bp = post(http, "billpayment", pay).json()["BillPayment"]
    after = http.get(f"{API}/bill/{bill['Id']}").json()["Bill"]
    assert after["Balance"] == 50 and after["SyncToken"] == "1"
    assert {"TxnId": bp["Id"], "TxnType": "BillPaymentCheck"} in after["LinkedTxn"]
    over = {
        **pay,
        "TotalAmt": 60,
        "Line": [{"Amount": 60, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
    }
    assert fault(post(http, "billpayment", over))["code"] == "6000"
    # the bill can't be deleted while paid; deleting the payment restores the balance
    assert (
        fault(post(http, "bill", {"Id": bill["Id"], "SyncToken": "1"}, operation="delete"))["code"]
        == "6000"
    )
    post(http, "billpayment", {"Id": bp["Id"], "SyncToken": "0"}, operation="delete")
    restored = http.get(f"{API}/bill/{bill['Id']}").json()["Bill"]
    assert restored["Balance"] == 200 and restored["LinkedTxn"] == []


def test_payment_void_both_routes_restore_invoice_balance(sb, http):
    _, _, owner = ids(sb)
    inv = sb.create(
        DEMO_REALM_ID,
        "Invoice",
        {
            "CustomerRef": {"value": owner},
            "Line": [
                {
                    "Amount": 80,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    for params in ({"operation": "void"}, {"operation": "update", "include": "void"}):
        p = sb.mark_invoice_paid(inv["Id"])
        assert sb.read("Invoice", inv["Id"])["Balance"] == 0
        voided = post(
            http, "payment", {"Id": p["Id"], "SyncToken": p["SyncToken"], "sparse": True}, **params
        ).json()["Payment"]
        assert voided["TotalAmt"] == 0 and voided["PrivateNote"].startswith("Voided")
        assert sb.read("Invoice", inv["Id"])["Balance"] == 80


def test_invoice_void_and_transaction_delete_stub(sb, http):
    _, _, owner = ids(sb)
    body = {
        "CustomerRef": {"value": owner},
        "Line": [
            {
                "Amount": 10,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
            }
        ],
    }
    inv = post(http, "invoice", body).json()["Invoice"]
    v = post(http, "invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="void").json()[
        "Invoice"
    ]
    assert v["SyncToken"] == "1" and v["TotalAmt"] == 0 and v["Balance"] == 0
    inv2 = post(http, "invoice", body).json()["Invoice"]
    r = post(http, "invoice", {"Id": inv2["Id"], "SyncToken": "0"}, operation="delete")
    assert r.json()["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": inv2["Id"]}
    assert fault(http.get(f"{API}/invoice/{inv2['Id']}"))["code"] == "610"
    assert (
        fault(post(http, "bill", {"Id": "1", "SyncToken": "0"}, operation="void"))["code"] == "500"
    )


def test_journal_entry_must_balance(sb, http):
    acct, _, _ = ids(sb)

    def line(posting, amount):
        return {
            "Amount": amount,
            "DetailType": "JournalEntryLineDetail",
            "JournalEntryLineDetail": {
                "PostingType": posting,
                "AccountRef": {"value": acct["Bank"]},
            },
        }

    assert (
        fault(post(http, "journalentry", {"Line": [line("Debit", 10), line("Credit", 9)]}))["code"]
        == "6000"
    )
    je = post(http, "journalentry", {"Line": [line("Debit", 10), line("Credit", 10)]}).json()[
        "JournalEntry"
    ]
    assert je["TotalAmt"] == 10


def test_purchase_order_requires_ap_account_and_class_item_department_term(sb, http):
    acct, vendor, owner = ids(sb)
    cls = post(http, "class", {"Name": "03 Concrete"}).json()["Class"]
    dept = post(http, "department", {"Name": "West"}).json()["Department"]
    term = post(http, "term", {"Name": "Net 45", "DueDays": 45}).json()["Term"]
    item = post(
        http,
        "item",
        {
            "Name": "03-300 Concrete",
            "Type": "Service",
            "ExpenseAccountRef": {"value": acct["Income"]},
        },
    ).json()["Item"]
    line = {
        "DetailType": "ItemBasedExpenseLineDetail",
        "Amount": 500,
        "ItemBasedExpenseLineDetail": {
            "ItemRef": {"value": item["Id"]},
            "CustomerRef": {"value": owner},
            "ClassRef": {"value": cls["Id"]},
            "Qty": 1,
            "UnitPrice": 500,
        },
    }
    err = fault(post(http, "purchaseorder", {"VendorRef": {"value": vendor}, "Line": [line]}))
    assert err["element"] == "APAccountRef"
    po = post(
        http,
        "purchaseorder",
        {
            "VendorRef": {"value": vendor},
            "APAccountRef": {"value": acct["Accounts Payable"]},
            "DepartmentRef": {"value": dept["Id"]},
            "Line": [line],
        },
    ).json()["PurchaseOrder"]
    assert po["POStatus"] == "Open" and po["TotalAmt"] == 500
    assert po["Line"][0]["ItemBasedExpenseLineDetail"]["ClassRef"]["name"] == "03 Concrete"
    assert term["DueDays"] == 45


def test_amounts_are_json_numbers_and_decimal_inside(sb, http):
    acct, vendor, _ = ids(sb)
    r = post(http, "bill", bill_body(acct, vendor, Decimal("0.10"), "D1"))
    assert b'"TotalAmt":0.1' in r.content
    assert isinstance(sb.read("Bill", r.json()["Bill"]["Id"])["TotalAmt"], Decimal)
