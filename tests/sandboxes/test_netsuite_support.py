"""Shared helpers for the NetSuite sandbox conformance tests (no tests in here)."""

from __future__ import annotations

import httpx

from sandboxes.netsuite import NetSuiteSandbox

HOST = "https://1234567-sb1.suitetalk.api.netsuite.com"
REC = "/services/rest/record/v1"
SQL = "/services/rest/query/v1/suiteql"


def client(sb: NetSuiteSandbox, token: str | None = None) -> httpx.Client:
    c = httpx.Client(base_url=HOST, transport=httpx.MockTransport(sb.handle))
    if token is not False:
        c.headers["Authorization"] = f"Bearer {token or sb.issue_token_for_tests()}"
    return c


def created_id(resp: httpx.Response) -> str:
    assert resp.status_code == 204, resp.text
    return resp.headers["location"].rsplit("/", 1)[1]


def books(c: httpx.Client) -> dict[str, str]:
    """Two subsidiaries (USD, CAD), an expense account, an item, a vendor in US only, a job."""
    ids: dict[str, str] = {}
    ids["usd"] = created_id(
        c.post(
            f"{REC}/currency",
            json={"name": "USD", "symbol": "USD", "isBaseCurrency": True, "exchangeRate": 1},
        )
    )
    ids["cad"] = created_id(
        c.post(f"{REC}/currency", json={"name": "CAD", "symbol": "CAD", "exchangeRate": 0.73})
    )
    ids["us"] = created_id(
        c.post(f"{REC}/subsidiary", json={"name": "Summit US", "currency": {"id": ids["usd"]}})
    )
    ids["ca"] = created_id(
        c.post(f"{REC}/subsidiary", json={"name": "Summit CA", "currency": {"id": ids["cad"]}})
    )
    ids["acct"] = created_id(
        c.post(
            f"{REC}/account",
            json={
                "acctNumber": "5100",
                "acctName": "Subcontract Costs",
                "acctType": "Expense",
                "subsidiary": {"items": [{"id": ids["us"]}, {"id": ids["ca"]}]},
            },
        )
    )
    ids["item"] = created_id(
        c.post(
            f"{REC}/serviceResaleItem",
            json={"itemId": "03-300 Concrete", "subsidiary": {"items": [{"id": ids["us"]}]}},
        )
    )
    ids["vendor"] = created_id(
        c.post(
            f"{REC}/vendor", json={"companyName": "Star Framing", "subsidiary": {"id": ids["us"]}}
        )
    )
    ids["customer"] = created_id(
        c.post(
            f"{REC}/customer", json={"companyName": "Owner LLC", "subsidiary": {"id": ids["us"]}}
        )
    )
    ids["job"] = created_id(
        c.post(
            f"{REC}/job",
            json={
                "entityId": "24-101 Tower",
                "parent": {"id": ids["customer"]},
                "subsidiary": {"id": ids["us"]},
            },
        )
    )
    return ids


def po_body(ids: dict[str, str], **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "entity": {"id": ids["vendor"]},
        "subsidiary": {"id": ids["us"]},
        "memo": "SC-1",
        "item": {
            "items": [
                {"item": {"id": ids["item"]}, "quantity": 2, "rate": 100, "description": "a"},
                {"item": {"id": ids["item"]}, "amount": 50, "description": "b"},
            ]
        },
    }
    body.update(extra)
    return body
