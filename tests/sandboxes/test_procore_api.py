"""Conformance tests for the Procore sandbox: auth, company header, paging, limits, errors."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandboxes.core import client_for
from sandboxes.procore import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    ProcoreSandbox,
)

CID = 4200


@pytest.fixture()
def sb() -> ProcoreSandbox:
    box = ProcoreSandbox(seed=1)
    box.add_company("Summit Builders", CID)
    return box


def api(sb: ProcoreSandbox, token: str | None = None, company: int | None = CID) -> httpx.Client:
    headers = {}
    token = token or sb.issue_token_for_tests()
    headers["Authorization"] = f"Bearer {token}"
    if company is not None:
        headers["Procore-Company-Id"] = str(company)
    return client_for(sb, headers=headers)


def project(sb: ProcoreSandbox, name: str = "Tower A") -> dict:
    return sb.create_project(CID, {"name": name, "project_number": "24-101"})


def token_via_code(sb: ProcoreSandbox, **extra: str) -> dict:
    c = client_for(sb)
    params = {
        "client_id": DEMO_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": DEMO_REDIRECT_URI,
        "state": "xyz",
        **extra,
    }
    r = c.get("/oauth/authorize", params=params)
    assert r.status_code == 302
    loc = urlsplit(r.headers["location"])
    q = parse_qs(loc.query)
    assert q["state"] == ["xyz"]
    return {"code": q["code"][0]}


def exchange(sb: ProcoreSandbox, code: str, **extra: str) -> httpx.Response:
    return client_for(sb).post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "code": code,
            "redirect_uri": DEMO_REDIRECT_URI,
            **extra,
        },
    )


# -- OAuth -------------------------------------------------------------------------------------


def test_authorization_code_flow_issues_5400s_tokens(sb):
    code = token_via_code(sb)["code"]
    r = exchange(sb, code)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 5400
    assert body["refresh_token"] and isinstance(body["created_at"], int)
    me = api(sb, body["access_token"], company=None).get("/rest/v1.0/me")
    assert me.status_code == 200 and me.json()["id"] == 5447
    # the code is single use
    again = exchange(sb, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_authorize_rejects_unregistered_redirect_uri(sb):
    r = client_for(sb).get(
        "/oauth/authorize",
        params={
            "client_id": DEMO_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": "https://evil.example/cb",
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_redirect_uri"


def test_code_expires_after_ten_minutes(sb):
    code = token_via_code(sb)["code"]
    sb.clock.advance(601)
    assert exchange(sb, code).json()["error"] == "invalid_grant"


def test_pkce_s256_is_verified_when_a_challenge_was_sent(sb):
    verifier = "a" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    challenge = challenge.rstrip(b"=").decode()
    code = token_via_code(sb, code_challenge=challenge, code_challenge_method="S256")["code"]
    assert exchange(sb, code, code_verifier="wrong").status_code == 400
    code = token_via_code(sb, code_challenge=challenge, code_challenge_method="S256")["code"]
    assert exchange(sb, code, code_verifier=verifier).status_code == 200


def test_refresh_token_is_single_use_and_rotates(sb):
    first = exchange(sb, token_via_code(sb)["code"]).json()
    form = {
        "grant_type": "refresh_token",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "refresh_token": first["refresh_token"],
    }
    r = client_for(sb).post("/oauth/token", data=form)
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = client_for(sb).post("/oauth/token", data=form)
    assert reuse.status_code == 400
    assert reuse.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token is invalid",
    }
    form["refresh_token"] = second["refresh_token"]
    assert client_for(sb).post("/oauth/token", data=form).status_code == 200


def test_client_credentials_token_has_no_refresh_token(sb):
    r = client_for(sb).post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert "refresh_token" not in body and body["expires_in"] == 5400


def test_wrong_client_secret_is_invalid_client(sb):
    r = client_for(sb).post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": "nope",
        },
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_access_token_expires_after_5400_seconds(sb):
    c = api(sb)
    assert c.get("/rest/v1.0/companies").status_code == 200
    sb.clock.advance(5399)
    assert c.get("/rest/v1.0/companies").status_code == 200
    sb.clock.advance(2)
    r = c.get("/rest/v1.0/companies")
    assert r.status_code == 401
    assert r.json() == {"errors": "The access token is invalid"}
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_invalid_and_missing_tokens_get_401(sb):
    assert api(sb, "garbage").get("/rest/v1.0/companies").status_code == 401
    assert client_for(sb).get("/rest/v1.0/companies").status_code == 401


def test_revoke_kills_access_and_refresh_and_answers_200_for_unknown(sb):
    tok = exchange(sb, token_via_code(sb)["code"]).json()
    form = {
        "token": tok["access_token"],
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    assert client_for(sb).post("/oauth/revoke", data=form).status_code == 200
    assert api(sb, tok["access_token"]).get("/rest/v1.0/companies").status_code == 401
    r = client_for(sb).post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": tok["refresh_token"],
        },
    )
    assert r.status_code == 400
    form["token"] = "unknown"
    assert client_for(sb).post("/oauth/revoke", data=form).status_code == 200


def test_fault_revoke_tokens_refuses_every_token(sb):
    c = api(sb)
    sb.faults.revoke_tokens = True
    assert c.get("/rest/v1.0/companies").status_code == 401
    sb.faults.revoke_tokens = False
    assert c.get("/rest/v1.0/companies").status_code == 200


def test_token_info(sb):
    token = sb.issue_token_for_tests()
    r = client_for(sb).get("/oauth/token/info", headers={"Authorization": f"Bearer {token}"})
    body = r.json()
    assert r.status_code == 200 and body["application"] == {"uid": DEMO_CLIENT_ID}
    assert 5390 < body["expires_in_seconds"] <= 5400


# -- Procore-Company-Id ------------------------------------------------------------------------


def test_company_header_required_except_me_and_companies_for_user_tokens(sb):
    user = api(sb, sb.issue_token_for_tests(user=True), company=None)
    assert user.get("/rest/v1.0/companies").status_code == 200
    r = user.get("/rest/v1.0/projects", params={"company_id": CID})
    assert r.status_code == 400 and r.json() == {"errors": "Missing Procore-Company-Id header!"}


def test_dmsa_must_send_company_header_even_on_companies(sb):
    r = api(sb, company=None).get("/rest/v1.0/companies")
    assert r.status_code == 400 and r.json()["errors"] == "Missing Procore-Company-Id header!"


def test_company_where_app_is_not_installed_is_403(sb):
    other = sb.add_company("Other GC", 4300)
    sb.register_app("narrow", "s", name="narrow", companies=[CID])
    token = sb.issue_token_for_tests("narrow")
    r = api(sb, token, company=other["id"]).get(
        "/rest/v1.0/projects", params={"company_id": other["id"]}
    )
    assert r.status_code == 403 and r.json() == {"errors": "App is not connected to this company"}
    listed = api(sb, token).get("/rest/v1.0/companies").json()
    assert [c["id"] for c in listed] == [CID]


def test_records_of_another_company_are_404(sb):
    sb.add_company("Other GC", 4300)
    theirs = sb.create_project(4300, {"name": "Elsewhere"})
    c = api(sb)
    r = c.get(f"/rest/v1.0/projects/{theirs['id']}", params={"company_id": CID})
    assert r.status_code == 404 and r.json() == {"errors": "Not Found"}
    assert c.get("/rest/v1.0/projects", params={"company_id": 4300}).status_code == 404


# -- pagination and filters --------------------------------------------------------------------


def test_pagination_headers_and_link_rules(sb):
    p = project(sb)
    for i in range(11):
        sb.create_cost_code(p, {"code": f"{i:02d}", "name": f"Code {i}"})
    c = api(sb)

    def get(page: int) -> httpx.Response:
        return c.get(
            "/rest/v1.0/cost_codes", params={"project_id": p["id"], "page": page, "per_page": 2}
        )

    def rels(r: httpx.Response) -> dict[str, int]:
        out = {}
        for part in r.headers["link"].split(", "):
            url, rel = part.split("; ")
            out[rel.split('"')[1]] = int(parse_qs(urlsplit(url[1:-1]).query)["page"][0])
        return out

    r1 = get(1)
    assert r1.headers["total"] == "11" and r1.headers["per-page"] == "2"
    assert len(r1.json()) == 2
    assert rels(r1) == {"next": 2, "last": 6}
    assert rels(get(2)) == {"first": 1, "next": 3, "last": 6}
    assert rels(get(3)) == {"first": 1, "prev": 2, "next": 4, "last": 6}
    last = get(6)
    assert rels(last) == {"first": 1, "prev": 5, "last": 6} and len(last.json()) == 1


def test_per_page_is_clamped_to_endpoint_maximum(sb):
    for i in range(3):
        project(sb, f"P{i}")
    r = api(sb).get("/rest/v1.1/projects", params={"company_id": CID, "per_page": 5000})
    assert r.headers["per-page"] == "300"
    r = api(sb).get("/rest/v1.0/projects", params={"company_id": CID})
    assert r.headers["per-page"] == "100" and r.headers["total"] == "3"


def test_updated_at_range_filter_and_updated_at_bumped_on_write(sb):
    p = project(sb)
    c = api(sb)
    old = sb.create_vendor(CID, {"name": "Old Vendor"})
    sb.clock.advance(3600)
    new = sb.create_vendor(CID, {"name": "New Vendor"})
    since = new["updated_at"]
    r = c.get(
        "/rest/v1.0/vendors",
        params={"company_id": CID, "filters[updated_at]": f"{since}...2999-01-01"},
    )
    assert [v["name"] for v in r.json()] == ["New Vendor"]
    sb.clock.advance(60)
    patched = c.patch(
        f"/rest/v1.0/vendors/{old['id']}",
        json={"company_id": CID, "vendor": {"origin_id": "NS-V-1"}},
    )
    assert patched.status_code == 200 and patched.json()["updated_at"] > since
    r = c.get(
        "/rest/v1.0/vendors",
        params={"company_id": CID, "filters[updated_at]": f"{since}...2999-01-01"},
    )
    assert {v["name"] for v in r.json()} == {"New Vendor", "Old Vendor"}
    assert p["updated_at"]


def test_include_deleted_on_commitments(sb):
    p = project(sb)
    keep = sb.create_commitment(p, "work_order_contracts", {"title": "Keep"})
    gone = sb.create_commitment(p, "work_order_contracts", {"title": "Gone"})
    c = api(sb)
    assert (
        c.delete(
            f"/rest/v1.0/work_order_contracts/{gone['id']}", params={"project_id": p["id"]}
        ).status_code
        == 204
    )
    url = "/rest/v1.0/work_order_contracts"
    base = {"project_id": p["id"]}
    assert [x["id"] for x in c.get(url, params=base).json()] == [keep["id"]]
    only = c.get(url, params={**base, "filters[include_deleted]": "only"}).json()
    assert [x["id"] for x in only] == [gone["id"]] and only[0]["deleted_at"]
    assert len(c.get(url, params={**base, "filters[include_deleted]": "with"}).json()) == 2
    assert c.get(f"{url}/{gone['id']}", params=base).status_code == 404


# -- rate limits and faults --------------------------------------------------------------------


def test_rate_limit_headers_on_every_response_and_spike_429():
    sb = ProcoreSandbox(spike_limit=3, hourly_limit=100)
    sb.add_company("S", CID)
    c = api(sb)
    r = c.get("/rest/v1.0/companies")
    assert r.headers["x-rate-limit-limit"] == "3" and r.headers["x-rate-limit-remaining"] == "2"
    assert int(r.headers["x-rate-limit-reset"]) >= int(sb.clock.time())
    c.get("/rest/v1.0/companies")
    c.get("/rest/v1.0/companies")
    r = c.get("/rest/v1.0/companies")
    assert r.status_code == 429
    assert r.text.startswith("You have surpassed the max number of requests")
    assert r.headers["x-rate-limit-remaining"] == "0" and int(r.headers["retry-after"]) >= 1
    sb.clock.advance(10)  # the spike window rolls forward
    assert c.get("/rest/v1.0/companies").status_code == 200


def test_hourly_limit_reported_when_closer_than_spike_and_rate_scale():
    sb = ProcoreSandbox(spike_limit=50, hourly_limit=5, rate_scale=60)  # hour -> 60 s
    sb.add_company("S", CID)
    c = api(sb)
    r = c.get("/rest/v1.0/companies")
    assert r.headers["x-rate-limit-limit"] == "5" and r.headers["x-rate-limit-remaining"] == "4"
    for _ in range(4):
        c.get("/rest/v1.0/companies")
    assert c.get("/rest/v1.0/companies").status_code == 429
    sb.clock.advance(61)
    assert c.get("/rest/v1.0/companies").status_code == 200


def test_limits_are_per_token(sb):
    box = ProcoreSandbox(spike_limit=1)
    box.add_company("S", CID)
    assert api(box).get("/rest/v1.0/companies").status_code == 200
    assert api(box).get("/rest/v1.0/companies").status_code == 200  # a new token


def test_injected_503_has_retry_after_and_json_body(sb):
    sb.faults.update({"error_next": 1, "retry_after": 7})
    r = api(sb).get("/rest/v1.0/companies")
    assert r.status_code == 503 and r.headers["retry-after"] == "7"
    assert r.json() == {"errors": "Service unavailable"}
    assert "x-rate-limit-limit" in r.headers


def test_injected_429_burst(sb):
    sb.faults.update({"rate_limit_next": 2})
    c = api(sb)
    assert [c.get("/rest/v1.0/companies").status_code for _ in range(3)] == [429, 429, 200]


def test_commit_then_drop_applies_the_write(sb):
    sb.faults.update({"commit_then_drop_next": 1})
    c = api(sb)
    with pytest.raises(httpx.ReadError):
        c.post("/rest/v1.0/vendors", json={"company_id": CID, "vendor": {"name": "Dup Co"}})
    names = [v["name"] for v in c.get("/rest/v1.0/vendors", params={"company_id": CID}).json()]
    assert names == ["Dup Co"]


# -- errors and writes -------------------------------------------------------------------------


def test_duplicate_origin_id_is_422(sb):
    c = api(sb)
    a = sb.create_vendor(CID, {"name": "A"})
    sb.create_vendor(CID, {"name": "B", "origin_id": "NS-1"})
    r = c.patch(
        f"/rest/v1.0/vendors/{a['id']}", json={"company_id": CID, "vendor": {"origin_id": "NS-1"}}
    )
    assert r.status_code == 422
    assert r.json() == {"errors": {"origin_id": ["has already been taken"]}}


def test_sync_action_creates_updates_and_reports_errors(sb):
    p = project(sb)
    c = api(sb)
    r = c.patch(
        "/rest/v1.0/projects/sync",
        json={
            "company_id": CID,
            "updates": [
                {"id": p["id"], "origin_id": "JOB-1", "origin_data": '{"v":1}'},
                {"id": 1, "name": "nope"},
                {"origin_id": "JOB-2", "name": "Created by sync"},
            ],
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert [e["origin_id"] for e in body["entities"]] == ["JOB-1", "JOB-2"]
    assert body["errors"] == [
        {"id": 1, "name": "nope", "errors": {"id": ["Entity with this ID not found"]}}
    ]
    again = c.patch(
        "/rest/v1.0/projects/sync",
        json={"company_id": CID, "updates": [{"origin_id": "JOB-2", "name": "Renamed"}]},
    ).json()
    assert again["entities"][0]["name"] == "Renamed"
    assert len(sb.scoped("projects", CID)) == 2


def test_origin_id_locks_direct_costs_and_requisitions(sb):
    p = project(sb)
    c = api(sb)
    dc = sb.create_direct_cost(p, {"invoice_number": "X1", "origin_id": "NS-BILL-9"})
    url = f"/rest/v1.1/projects/{p['id']}/direct_costs/{dc['id']}"
    r = c.patch(url, json={"direct_cost": {"description": "edit"}})
    assert r.status_code == 422 and "base" in r.json()["errors"]
    r = c.patch(url, json={"direct_cost": {"origin_data": "x"}})
    assert r.status_code == 200


def test_unknown_route_and_bad_json(sb):
    c = api(sb)
    assert c.get("/rest/v1.0/nothing_here").status_code == 404
    r = c.post("/rest/v1.0/vendors", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "errors" in r.json()


def test_money_is_decimal_strings(sb):
    p = project(sb)
    woc = sb.create_commitment(p, "work_order_contracts", {"title": "Framing"})
    c = api(sb)
    r = c.post(
        f"/rest/v1.0/work_order_contracts/{woc['id']}/line_items",
        json={"project_id": p["id"], "line_item": {"description": "L1", "amount": 250}},
    )
    assert r.status_code == 201 and r.json()["amount"] == "250.00"
    show = c.get(f"/rest/v1.0/work_order_contracts/{woc['id']}", params={"project_id": p["id"]})
    assert show.json()["grand_total"] == "250.00"
    assert json.loads(show.content)["line_items"][0]["total_amount"] == "250.00"
    assert sb.store.get("commitments", woc["id"])["grand_total"] == Decimal("250.00")
