"""NetSuite sandbox: SuiteQL endpoint (Prefer: transient, paging, WHERE/ORDER BY, errors)."""
# ruff: noqa: S608 - the queries are built from test data, not user input

from __future__ import annotations

import pytest

from sandboxes.netsuite import NetSuiteSandbox
from tests.sandboxes.test_netsuite_support import REC, SQL, books, client, created_id, po_body

T = {"Prefer": "transient"}


@pytest.fixture
def env():
    sb = NetSuiteSandbox()
    c = client(sb)
    ids = books(c)
    return sb, c, ids


def q(c, text, **params):
    resp = c.post(SQL, json={"q": text}, headers=T, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_prefer_transient_is_required(env):
    _, c, _ = env
    resp = c.post(SQL, json={"q": "SELECT id FROM vendor"})
    assert resp.status_code == 400
    detail = resp.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PARAMETER" and detail["o:errorHeader"] == "Prefer"


def test_envelope_and_paging(env):
    _, c, ids = env
    for n in range(4):
        c.post(f"{REC}/customer", json={"companyName": f"C{n}", "subsidiary": {"id": ids["us"]}})
    page = q(c, "SELECT id, companyname FROM customer ORDER BY id", limit=2, offset=2)
    assert page["count"] == 2 and page["offset"] == 2 and page["totalResults"] == 5
    assert page["hasMore"] is True
    assert page["items"][0] == {"links": [], "id": page["items"][0]["id"], "companyname": "C1"}
    assert q(c, "SELECT id FROM customer", limit=2, offset=4)["hasMore"] is False
    too_big = c.post(SQL, json={"q": "SELECT id FROM customer"}, headers=T, params={"limit": 5000})
    assert too_big.status_code == 400


def test_incremental_read_by_lastmodifieddate(env):
    sb, c, ids = env
    first = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids)))
    sb.clock.advance(120)
    cutoff = sb.clock.now().strftime("%Y-%m-%d %H:%M:%S")
    sb.clock.advance(60)
    second = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids, memo="later")))
    text = (
        "SELECT t.id, t.tranid, t.type, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') "
        "AS lastmodifieddate FROM transaction t WHERE t.type = 'PurchOrd' AND "
        f"t.lastmodifieddate > TO_TIMESTAMP('{cutoff}', 'YYYY-MM-DD HH24:MI:SS') "
        "ORDER BY t.lastmodifieddate, t.id"
    )
    items = q(c, text)["items"]
    assert [i["id"] for i in items] == [second]
    assert items[0]["type"] == "PurchOrd" and len(items[0]["lastmodifieddate"]) == 19
    everything = q(
        c,
        "SELECT id FROM transaction WHERE lastmodifieddate >= "
        "TO_DATE('2000-01-01', 'YYYY-MM-DD') ORDER BY id DESC",
    )["items"]
    assert [i["id"] for i in everything] == [second, first]


def test_where_operators_and_nulls_omitted(env):
    _, c, ids = env
    zed = created_id(
        c.post(
            f"{REC}/vendor",
            json={
                "companyName": "Zed Electric",
                "email": "z@z.test",
                "subsidiary": {"id": ids["us"]},
            },
        )
    )
    rows = q(
        c,
        "SELECT id, companyname, email FROM vendor WHERE companyname LIKE 'Star%' "
        f"OR (email IS NOT NULL AND id IN (1, {zed}, 99)) ORDER BY companyname DESC",
    )["items"]
    names = [r["companyname"] for r in rows]
    assert names == ["Zed Electric", "Star Framing"]
    assert "email" not in rows[1]  # NULL columns are omitted
    rows = q(c, "SELECT * FROM vendor WHERE companyname <> 'Star Framing'")["items"]
    assert rows[0]["subsidiary"] == ids["us"]


def test_builtin_df_and_transaction_lines(env):
    _, c, ids = env
    po = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids)))
    row = q(c, f"SELECT id, BUILTIN.DF(entity) AS vendor, status FROM transaction WHERE id = {po}")
    assert row["items"][0]["vendor"] == "Star Framing" and row["items"][0]["status"] == "A"
    lines = q(
        c,
        f"SELECT linesequencenumber, item, foreignamount FROM transactionline "
        f"WHERE transaction = {po} AND mainline = 'F' ORDER BY linesequencenumber",
    )
    assert [(r["item"], r["foreignamount"]) for r in lines["items"]] == [
        (ids["item"], "200.00"),
        (ids["item"], "50"),
    ]
    rel = q(c, "SELECT entity, subsidiary FROM vendorsubsidiaryrelationship")["items"]
    assert {"links": [], "entity": ids["vendor"], "subsidiary": ids["us"]} in rel


def test_in_with_many_numbers_matches_string_ids_like_equalities(env):
    """A 1,000-value IN list of ids (the connector's bulk line read) answers like ORed
    equalities: string ids compare as numbers, non-matching values are ignored, NOT IN too."""
    _, c, ids = env
    first = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids)))
    second = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids, memo="two")))
    many = ", ".join([*(str(90_000 + n) for n in range(998)), first, f"{second}.0"])
    cols = "SELECT transaction, linesequencenumber FROM transactionline"
    order = "ORDER BY transaction, linesequencenumber"
    listed = q(c, f"{cols} WHERE transaction IN ({many}) {order}")["items"]
    ored = q(c, f"{cols} WHERE transaction = {first} OR transaction = {second} {order}")["items"]
    assert listed == ored and {r["transaction"] for r in listed} == {first, second}
    rest = q(c, f"{cols} WHERE transaction NOT IN ({many})")["items"]
    assert not {r["transaction"] for r in rest} & {first, second}
    mixed = q(c, f"SELECT id FROM transaction WHERE tranid IN ('nope', 1) OR id IN ({first})")
    assert [r["id"] for r in mixed["items"]] == [first]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("DELETE FROM vendor", "Expected SELECT"),
        ("SELECT id FROM nothere", "Record 'nothere' was not found"),
        ("SELECT shoesize FROM vendor", "Field 'shoesize' for record 'vendor' was not found"),
        ("SELECT COUNT(*) FROM vendor", "unsupported"),
        ("SELECT id FROM vendor v JOIN customer c ON v.id = c.id", "unsupported"),
    ],
)
def test_unsupported_or_invalid_queries(env, text, fragment):
    _, c, _ = env
    resp = c.post(SQL, json={"q": text}, headers=T)
    assert resp.status_code == 400
    detail = resp.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PARAMETER"
    assert detail["detail"].startswith("Invalid search query.")
    assert fragment in detail["detail"]


def test_id_tranid_and_type_conditions_give_what_a_full_scan_gives(env):
    # rows_for flattens only the transactions a top-level id/tranid/type condition allows;
    # the same question asked in a form that narrows nothing (NOT/OR) must get the same rows.
    _, c, ids = env
    made = [
        created_id(c.post(f"{REC}/purchaseOrder", json={**po_body(ids), "tranId": f"PO-N{n}"}))
        for n in range(4)
    ]
    pairs = [
        (
            f"t.id IN ({made[0]}, {made[2]}, 999999) AND t.type = 'PurchOrd'",
            f"NOT (t.id NOT IN ({made[0]}, {made[2]}, 999999)) AND (t.type = 'PurchOrd' OR 1 = 0)",
        ),
        (
            "type = 'PurchOrd' AND tranid IN ('PO-N1', 'PO-N3', 'nope')",
            "(type = 'PurchOrd' OR 1 = 0) AND (tranid IN ('PO-N1', 'PO-N3', 'nope') OR 1 = 0)",
        ),
        (
            f"id = {made[1]} AND type = 'VendBill'",
            f"(id = {made[1]} OR 1 = 0) AND type <> 'PurchOrd'",
        ),
        (f"id = {made[1]} AND id = {made[2]}", f"id = {made[1]} AND (id = {made[2]} OR 1 = 0)"),
    ]
    for narrowed, full in pairs:
        sql = "SELECT t.id, t.tranid, t.type FROM transaction t WHERE {} ORDER BY t.id"
        got, want = q(c, sql.format(narrowed))["items"], q(c, sql.format(full))["items"]
        assert got == want, narrowed
    assert [r["tranid"] for r in q(c, sql.format(pairs[1][0]))["items"]] == ["PO-N1", "PO-N3"]
    assert [r["id"] for r in q(c, sql.format(pairs[0][0]))["items"]] == [made[0], made[2]]


@pytest.mark.parametrize("number", ["SC-P-RS-11", "2025-06-01"])
def test_a_document_number_shaped_like_a_date_stays_text(env, number):
    _, c, ids = env
    made = created_id(c.post(f"{REC}/purchaseOrder", json=po_body(ids, tranId=number)))
    [row] = q(c, f"SELECT id, tranid, trandate FROM transaction WHERE tranid = '{number}'")["items"]
    assert row["id"] == made and row["tranid"] == number
