"""NetSuite sandbox: record service CRUD, lists, q filter, upsert, sublists, validation, errors."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.netsuite import NetSuiteSandbox
from tests.sandboxes.test_netsuite_support import REC, books, client, created_id, po_body


@pytest.fixture
def sb() -> NetSuiteSandbox:
    return NetSuiteSandbox()


@pytest.fixture
def c(sb) -> httpx.Client:
    return client(sb)


@pytest.fixture
def ids(c) -> dict[str, str]:
    return books(c)


def err(resp: httpx.Response) -> dict:
    assert resp.headers["content-type"] == "application/vnd.oracle.resource+json; type=error"
    return resp.json()["o:errorDetails"][0]


def test_create_answers_204_with_location_and_string_ids(c, ids):
    resp = c.post(f"{REC}/purchaseOrder", json=po_body(ids))
    assert resp.status_code == 204 and resp.content == b""
    loc = resp.headers["location"]
    assert loc.startswith(
        "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/purchaseOrder/"
    )
    rid = loc.rsplit("/", 1)[1]
    assert rid.isdigit()
    body = c.get(f"{REC}/purchaseOrder/{rid}").json()
    assert body["id"] == rid and isinstance(body["id"], str)


def test_get_one_renders_references_enums_and_sublist_stubs(c, ids):
    rid = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids)))
    resp = c.get(f"{REC}/purchaseOrder/{rid}")
    assert resp.headers["content-type"] == "application/vnd.oracle.resource+json; type=singular"
    body = resp.json()
    assert body["links"] == [{"rel": "self", "href": resp.request.url.__str__()}]
    assert body["entity"]["id"] == ids["vendor"] and body["entity"]["refName"] == "Star Framing"
    assert body["entity"]["links"][0]["href"].endswith(f"/vendor/{ids['vendor']}")
    assert body["approvalStatus"] == {"id": "1", "refName": "Pending Approval"}
    assert body["currency"]["id"] == ids["usd"] and body["exchangeRate"] == 1
    assert body["total"] == 250
    assert body["lastModifiedDate"].endswith("Z") and len(body["lastModifiedDate"]) == 20
    assert set(body["item"]) == {"links"}
    expanded = c.get(f"{REC}/purchaseOrder/{rid}", params={"expandSubResources": "true"}).json()
    lines = expanded["item"]["items"]
    assert [ln["line"] for ln in lines] == [1, 2]
    assert lines[0]["amount"] == 200 and lines[1]["rate"] == 50 and lines[1]["quantity"] == 1
    assert c.get(f"{REC}/purchaseOrder/{rid}/item/2").json()["description"] == "b"
    simple = c.get(f"{REC}/purchaseOrder/{rid}", params={"simpleEnumFormat": "true"}).json()
    assert simple["approvalStatus"] == "1"
    only = c.get(f"{REC}/purchaseOrder/{rid}", params={"fields": "memo,total"}).json()
    assert set(only) == {"links", "id", "memo", "total"}


def test_paths_and_field_names_are_case_insensitive(c, ids):
    rid = created_id(
        c.post(f"{REC}/customer", json={"companyname": "Lower Co", "subsidiary": ids["us"]})
    )
    assert c.get(f"{REC}/CUSTOMER/{rid}").json()["companyName"] == "Lower Co"


def test_list_paging_counts_and_links(c, ids):
    for n in range(5):
        c.post(f"{REC}/customer", json={"companyName": f"C{n}", "subsidiary": {"id": ids["us"]}})
    page = c.get(f"{REC}/customer", params={"limit": 2, "offset": 2})
    assert page.headers["content-type"].endswith("type=collection")
    body = page.json()
    assert body["count"] == 2 and body["offset"] == 2 and body["totalResults"] == 6
    assert body["hasMore"] is True
    assert set(body["items"][0]) == {"links", "id"}
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert rels["next"].endswith("limit=2&offset=4") and rels["last"].endswith("offset=4")
    assert rels["self"].endswith("limit=2&offset=2")
    last = c.get(f"{REC}/customer", params={"limit": 2, "offset": 4}).json()
    assert last["hasMore"] is False and "next" not in {x["rel"] for x in last["links"]}
    assert c.get(f"{REC}/customer").json()["count"] == 6


def test_limit_above_1000_is_invalid_parameter(c):
    resp = c.get(f"{REC}/customer", params={"limit": 1001})
    assert resp.status_code == 400
    assert err(resp)["o:errorCode"] == "INVALID_PARAMETER"


def test_q_filter_last_modified_external_id_and_and(sb, c, ids):
    old = created_id(
        c.post(
            f"{REC}/vendor",
            json={"companyName": "Old", "subsidiary": {"id": ids["us"]}, "externalId": "v-old"},
        )
    )
    sb.clock.advance(3 * 86400)
    c.headers["Authorization"] = f"Bearer {sb.issue_token_for_tests()}"
    day = sb.clock.now().strftime("%m/%d/%Y")
    new = created_id(
        c.post(
            f"{REC}/vendor",
            json={"companyName": "New", "subsidiary": {"id": ids["us"]}, "externalId": "v-new"},
        )
    )
    got = c.get(f"{REC}/vendor", params={"q": f'lastModifiedDate ON_OR_AFTER "{day}"'}).json()
    assert [i["id"] for i in got["items"]] == [new]
    got = c.get(f"{REC}/vendor", params={"q": 'externalId IS "v-old"'}).json()
    assert [i["id"] for i in got["items"]] == [old]
    q = f'externalId IS "v-new" AND lastModifiedDate BEFORE "{day}"'
    assert c.get(f"{REC}/vendor", params={"q": q}).json()["totalResults"] == 0
    q = '(externalId IS "v-new" OR externalId IS "v-old") AND companyName START_WITH "ne"'
    assert [i["id"] for i in c.get(f"{REC}/vendor", params={"q": q}).json()["items"]] == [new]
    stamp = sb.clock.now().strftime("%m/%d/%Y %H:%M:%S")
    q = f'lastModifiedDate AFTER "{stamp}"'
    assert c.get(f"{REC}/vendor", params={"q": q}).json()["totalResults"] == 0


def test_q_unparseable_date_and_unknown_field(c, ids):
    resp = c.get(f"{REC}/vendor", params={"q": 'lastModifiedDate AFTER "2024-01-31"'})
    assert resp.status_code == 400
    detail = err(resp)
    assert detail["o:errorCode"] == "INVALID_PARAMETER" and "Unparseable date:" in detail["detail"]
    resp = c.get(f"{REC}/vendor", params={"q": 'shoeSize IS "9"'})
    assert err(resp)["o:errorCode"] == "NONEXISTENT_FIELD"


def test_iso_date_preference_is_configurable():
    sb = NetSuiteSandbox(date_format="YYYY-MM-DD")
    c = client(sb)
    assert c.get(f"{REC}/vendor", params={"q": 'lastModifiedDate AFTER "2024-01-31"'}).is_success
    bad = c.get(f"{REC}/vendor", params={"q": 'lastModifiedDate AFTER "01/31/2024"'})
    assert bad.status_code == 400


def test_patch_is_partial_and_bumps_last_modified(sb, c, ids):
    rid = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids)))
    before = c.get(f"{REC}/purchaseOrder/{rid}").json()
    sb.clock.advance(60)
    resp = c.patch(f"{REC}/purchaseOrder/{rid}", json={"memo": "changed"})
    assert resp.status_code == 204 and resp.content == b""
    after = c.get(f"{REC}/purchaseOrder/{rid}").json()
    assert after["memo"] == "changed" and after["entity"] == before["entity"]
    assert after["lastModifiedDate"] > before["lastModifiedDate"]


def test_sublist_patch_keyed_update_append_and_replace(c, ids):
    rid = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids)))
    url = f"{REC}/purchaseOrder/{rid}"
    c.patch(
        url,
        json={
            "item": {
                "items": [
                    {"line": 1, "rate": 150},
                    {"item": {"id": ids["item"]}, "amount": 10, "description": "c"},
                ]
            }
        },
    )
    lines = c.get(url, params={"expandSubResources": "true"}).json()["item"]["items"]
    assert [(ln["line"], ln["amount"]) for ln in lines] == [(1, 300), (2, 50), (3, 10)]
    assert c.get(url).json()["total"] == 360
    c.patch(f"{url}?replace=item", json={"item": {"items": [{"line": 2, "amount": 70}]}})
    lines = c.get(url, params={"expandSubResources": "true"}).json()["item"]["items"]
    assert [(ln["line"], ln["amount"]) for ln in lines] == [(2, 70)]


def test_put_eid_upserts(c, ids):
    url = f"{REC}/vendor/eid:procore-vendor-77"
    resp = c.put(url, json={"companyName": "Acme", "subsidiary": {"id": ids["us"]}})
    rid = created_id(resp)
    again = c.put(url, json={"email": "ap@acme.test"})
    assert again.status_code == 204 and "location" not in again.headers
    body = c.get(url).json()
    assert body["id"] == rid and body["email"] == "ap@acme.test"
    assert body["externalId"] == "procore-vendor-77" and body["companyName"] == "Acme"
    assert (
        c.get(f"{REC}/vendor", params={"q": 'externalId IS "procore-vendor-77"'}).json()[
            "totalResults"
        ]
        == 1
    )
    plain = c.put(f"{REC}/vendor/{rid}", json={"email": "x@y.z"})
    assert plain.status_code == 405


def test_duplicate_external_id_is_refused(c, ids):
    body = {"companyName": "A", "subsidiary": {"id": ids["us"]}, "externalId": "dup-1"}
    created_id(c.post(f"{REC}/customer", json=body))
    resp = c.post(f"{REC}/customer", json=body)
    assert resp.status_code == 400
    detail = err(resp)
    assert detail["o:errorCode"] == "USER_ERROR" and detail["o:errorPath"] == "externalId"
    assert "already exists" in detail["detail"]
    # the same external id on another record type is fine
    created_id(c.post(f"{REC}/vendor", json=body))


def test_delete_then_404_nonexistent_id(c, ids):
    rid = created_id(
        c.post(f"{REC}/customer", json={"companyName": "Gone", "subsidiary": {"id": ids["us"]}})
    )
    assert c.delete(f"{REC}/customer/{rid}").status_code == 204
    resp = c.get(f"{REC}/customer/{rid}")
    assert resp.status_code == 404
    body = resp.json()
    assert body["title"] == "Not Found" and body["status"] == 404
    assert body["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"
    assert c.get(f"{REC}/notARecord/1").status_code == 404


def test_unknown_reference_is_invalid_content_with_error_path(c, ids):
    body = po_body(ids)
    body["item"] = {"items": [{"item": {"id": 9999}, "amount": 1}]}
    resp = c.post(f"{REC}/purchaseOrder", json=body)
    assert resp.status_code == 400
    detail = err(resp)
    assert detail == {
        "detail": "Error while accessing resource: You have entered an Invalid Field Value 9999 "
        "for the following field: item",
        "o:errorCode": "INVALID_CONTENT",
        "o:errorPath": "item.items[0].item",
    }


def test_vendor_must_be_assigned_to_the_subsidiary(c, ids):
    body = po_body(ids, subsidiary={"id": ids["ca"]})
    body["item"] = {"items": [{"account": {"id": ids["acct"]}, "amount": 5}]}
    body["expense"] = body.pop("item")
    resp = c.post(f"{REC}/purchaseOrder", json=body)
    assert resp.status_code == 400
    detail = err(resp)
    assert detail["o:errorCode"] == "INVALID_KEY_OR_REF" and detail["o:errorPath"] == "entity"
    assert (
        f"Invalid entity reference key {ids['vendor']} for subsidiary {ids['ca']}"
        in detail["detail"]
    )
    c.patch(
        f"{REC}/vendor/{ids['vendor']}",
        json={
            "submachine": {"items": [{"subsidiary": {"id": ids["ca"]}}]},
            "currencyList": {"items": [{"currency": {"id": ids["cad"]}}]},
        },
    )
    po = created_id(c.post(f"{REC}/purchaseOrder", json=body))
    got = c.get(f"{REC}/purchaseOrder/{po}").json()
    assert got["currency"]["id"] == ids["usd"] or got["currency"]["id"] == ids["cad"]


def test_currency_and_item_must_fit_the_subsidiary(c, ids):
    resp = c.post(f"{REC}/purchaseOrder", json=po_body(ids, currency={"id": ids["cad"]}))
    assert err(resp)["o:errorCode"] == "INVALID_KEY_OR_REF"
    c.patch(
        f"{REC}/vendor/{ids['vendor']}",
        json={"submachine": {"items": [{"subsidiary": {"id": ids["ca"]}}]}},
    )
    body = po_body(ids, subsidiary={"id": ids["ca"]})
    resp = c.post(f"{REC}/purchaseOrder", json=body)  # the item is US-only
    assert err(resp)["o:errorPath"] == "item.items[0].item"


def test_missing_required_fields_user_error(c, ids):
    resp = c.post(f"{REC}/customer", json={"isPerson": True, "subsidiary": {"id": ids["us"]}})
    assert resp.status_code == 400
    detail = err(resp)
    assert detail["o:errorCode"] == "USER_ERROR"
    assert detail["detail"] == (
        "Error while accessing a resource. Please enter value(s) for: First Name, Last Name."
    )
    assert err(c.post(f"{REC}/purchaseOrder", json={"memo": "x"}))["o:errorCode"] == "USER_ERROR"


def test_unknown_fields_warn_by_default_and_fail_on_request(c, ids):
    body = {"companyName": "W", "subsidiary": {"id": ids["us"]}, "favouriteColour": "red"}
    resp = c.post(f"{REC}/customer", json=body)
    assert resp.status_code == 204 and "favouriteColour" in resp.headers["x-netsuite-warning"]
    strict = c.post(
        f"{REC}/customer", json=body, headers={"X-NetSuite-PropertyNameValidation": "Error"}
    )
    assert err(strict)["o:errorCode"] == "NONEXISTENT_FIELD"


def test_malformed_json_is_an_ns_error(c):
    resp = c.post(
        f"{REC}/customer", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400 and "o:errorDetails" in resp.json()


def test_journal_entry_must_balance(c, ids):
    lines = [
        {"account": {"id": ids["acct"]}, "debit": 300},
        {"account": {"id": ids["acct"]}, "credit": 200},
    ]
    body = {"subsidiary": {"id": ids["us"]}, "line": {"items": lines}}
    assert err(c.post(f"{REC}/journalEntry", json=body))["o:errorCode"] == "USER_ERROR"
    lines[1]["credit"] = 300
    rid = created_id(c.post(f"{REC}/journalentry", json=body))
    assert c.get(f"{REC}/journalEntry/{rid}").json()["total"] == 300


def test_vendor_bill_and_payment_update_balance_and_status(c, ids):
    bill = created_id(
        c.post(
            f"{REC}/vendorBill",
            json={
                "entity": {"id": ids["vendor"]},
                "tranId": "INV-1",
                "expense": {"items": [{"account": {"id": ids["acct"]}, "amount": 1000}]},
            },
        )
    )
    got = c.get(f"{REC}/vendorBill/{bill}").json()
    assert got["status"] == {"id": "A", "refName": "Open"} and got["balance"] == 1000
    over = c.post(
        f"{REC}/vendorPayment",
        json={
            "entity": {"id": ids["vendor"]},
            "apply": {"items": [{"doc": {"id": bill}, "apply": True, "amount": 1200}]},
        },
    )
    assert err(over)["o:errorCode"] == "USER_ERROR"
    created_id(
        c.post(
            f"{REC}/vendorPayment",
            json={
                "entity": {"id": ids["vendor"]},
                "apply": {"items": [{"doc": {"id": bill}, "apply": True, "amount": 1000}]},
            },
        )
    )
    got = c.get(f"{REC}/vendorBill/{bill}").json()
    assert got["status"]["refName"] == "Paid In Full" and got["balance"] == 0
    assert err(c.delete(f"{REC}/vendorBill/{bill}"))["o:errorCode"] == "USER_ERROR"


def test_invoice_and_customer_payment(c, ids):
    inv = created_id(
        c.post(
            f"{REC}/invoice",
            json={
                "entity": {"id": ids["job"]},
                "item": {"items": [{"item": {"id": ids["item"]}, "amount": 400}]},
            },
        )
    )
    created_id(
        c.post(
            f"{REC}/customerpayment",
            json={
                "customer": {"id": ids["job"]},
                "payment": 250,
                "apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": 250}]},
            },
        )
    )
    got = c.get(f"{REC}/invoice/{inv}").json()
    assert got["amountPaid"] == 250 and got["amountRemaining"] == 150
    assert got["status"]["refName"] == "Open"


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_fault_uses_the_ns_envelope(sb, c, status):
    sb.faults.update({"error_next": 1, "error_status": status})
    resp = c.get(f"{REC}/customer")
    assert resp.status_code == status
    body = resp.json()
    assert body["status"] == status and body["o:errorDetails"][0]["o:errorCode"]
    assert c.get(f"{REC}/customer").status_code == 200


def test_commit_then_drop_and_eid_retry_creates_once(sb, c, ids):
    sb.faults.update({"commit_then_drop_next": 1})
    url = f"{REC}/vendorBill/eid:procore-req-9"
    body = {
        "entity": {"id": ids["vendor"]},
        "expense": {"items": [{"account": {"id": ids["acct"]}, "amount": 10}]},
    }
    with pytest.raises(httpx.ReadError):
        c.put(url, json=body)
    assert sb.store.count("vendorBill") == 1  # applied although the client saw no answer
    assert c.put(url, json=body).status_code == 204
    assert sb.store.count("vendorBill") == 1


@pytest.mark.parametrize("name", ["error__invalid_login", "error__invalid_content_reference"])
def test_error_envelopes_match_the_documented_fixtures(name):
    import json
    import pathlib

    from sandboxes.netsuite.errors import error_document

    path = pathlib.Path(__file__).parents[2] / "fixtures" / "netsuite" / f"{name}.json"
    doc = json.loads(path.read_text())
    doc.pop("_source")
    detail = doc["o:errorDetails"][0]
    built = error_document(
        doc["status"], detail["detail"], detail["o:errorCode"], path=detail.get("o:errorPath")
    )
    assert built == doc
