"""The Procore client against the Procore sandbox, in-process (httpx.MockTransport).

Auth flows (authorization code + PKCE, DMSA client credentials, rotation races, expiry in the
middle of a paged read, revocation), paging request counts, rate limits (429 storms and the
X-Rate-Limit-* headers), 5xx bursts, origin write-back, exactly-once creates and webhooks.
"""

from __future__ import annotations

import math
import random
import threading
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.errors import AuthError, Duplicate, PermissionDenied, TransientError
from connectors.http import RetryPolicy
from connectors.limits import RateWindow
from connectors.procore import Origin, ProcoreClient, auth, default_limiter
from connectors.tokens import MemoryTokenStore

try:
    from sandboxes.procore import ProcoreSandbox
    from sandboxes.procore.auth import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_REDIRECT_URI,
    )
except Exception:  # noqa: BLE001 - the sandbox is being written in parallel
    ProcoreSandbox = None

pytestmark = pytest.mark.skipif(ProcoreSandbox is None, reason="sandboxes.procore not importable")

BASE = "https://sandbox.invalid"


class World:
    """One sandbox with a company and a project, plus helpers to build clients on it."""

    def __init__(self) -> None:
        self.sb = ProcoreSandbox(seed=7)
        self.company = self.sb.add_company("Summit Builders")
        self.project = self.sb.create_project(self.company["id"], {"name": "Harbor Tower"})
        self.sent: list[httpx.Request] = []
        self.lock = threading.Lock()

        def handle(request: httpx.Request) -> httpx.Response:
            with self.lock:
                self.sent.append(request)
            return self.sb.handle(request)

        self.transport = httpx.MockTransport(handle)
        self.sleeps: list[float] = []

    def settings(self, **extra) -> dict:
        return {
            "auth_base_url": BASE,
            "api_base_url": BASE,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "company_id": str(self.company["id"]),
            "grant": "client_credentials",
            "redirect_uri": DEMO_REDIRECT_URI,
            **extra,
        }

    def client(self, store=None, *, sandbox_clock=True, **extra) -> ProcoreClient:
        client = ProcoreClient.from_settings(
            self.settings(**extra),
            token_store=store if store is not None else MemoryTokenStore(),
            transport=self.transport,
            sleep=self.sleeps.append,
            clock=self.sb.clock.time if sandbox_clock else __import__("time").time,
        )
        client.rng = random.Random(3)
        return client

    def api_calls(self) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path.startswith("/rest/")]

    def token_calls(self) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path == "/oauth/token"]

    def vendors(self, n: int) -> list[dict]:
        return [
            self.sb.create_vendor(self.company["id"], {"name": f"Vendor {i}"}) for i in range(n)
        ]

    def commitment(self, kind: str, lines: int = 2, **data) -> dict:
        rec = self.sb.create_commitment(self.project, kind, {"title": "C", **data})
        for i in range(lines):
            self.sb.create_line(rec, {"description": f"L{i}", "amount": "100.00"}, person=True)
        return rec


@pytest.fixture
def world() -> World:
    return World()


# -- authorization code + PKCE ----------------------------------------------------------------


def authorize_in_browser(world: World, url: str) -> dict[str, str]:
    """What the admin's browser does: GET the authorize URL, follow nothing, read Location."""
    with httpx.Client(transport=world.transport) as browser:
        answer = browser.get(url)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == DEMO_REDIRECT_URI
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_authorization_code_with_pkce_end_to_end(world):
    settings = world.settings(grant="authorization_code")
    request = auth.authorization_url(settings)
    query = parse_qs(urlsplit(request.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [auth.pkce_challenge(request.code_verifier)]
    assert query["state"] == [request.state] and query["response_type"] == ["code"]

    callback = authorize_in_browser(world, request.url)
    assert callback["state"] == request.state
    token = auth.exchange_code(
        settings,
        callback["code"],
        code_verifier=request.code_verifier,
        transport=world.transport,
        clock=world.sb.clock.time,
    )
    assert token["refresh_token"] and token["expires_at"] > world.sb.clock.time()
    store = MemoryTokenStore(token)
    client = world.client(store, grant="authorization_code")
    assert client.me()["login"] == "pm@summit-builders.example"

    # The code is single use.
    with pytest.raises(AuthError) as info:
        auth.exchange_code(
            settings,
            callback["code"],
            code_verifier=request.code_verifier,
            transport=world.transport,
        )
    assert info.value.code == "invalid_grant"


def test_a_wrong_pkce_verifier_is_refused(world):
    settings = world.settings(grant="authorization_code")
    request = auth.authorization_url(settings)
    callback = authorize_in_browser(world, request.url)
    with pytest.raises(AuthError):
        auth.exchange_code(
            settings, callback["code"], code_verifier="x" * 43, transport=world.transport
        )


def test_refresh_rotates_the_single_use_refresh_token(world):
    settings = world.settings(grant="authorization_code")
    request = auth.authorization_url(settings)
    code = authorize_in_browser(world, request.url)["code"]
    token = auth.exchange_code(
        settings,
        code,
        code_verifier=request.code_verifier,
        transport=world.transport,
        clock=world.sb.clock.time,
    )
    store = MemoryTokenStore(token)
    client = world.client(store, grant="authorization_code")
    world.sb.clock.advance(5400)  # the access token has expired
    assert list(client.vendors()) == []
    assert store.token["refresh_token"] != token["refresh_token"]
    assert len(world.token_calls()) == 2  # the code exchange + one refresh, before any 401
    assert [r for r in world.sent if r.url.path == "/rest/v1.0/vendors"][0].headers[
        "Authorization"
    ] == f"Bearer {store.token['access_token']}"


def test_a_refresh_race_between_two_clients_uses_the_refresh_token_once(world):
    settings = world.settings(grant="authorization_code")
    request = auth.authorization_url(settings)
    code = authorize_in_browser(world, request.url)["code"]
    token = auth.exchange_code(
        settings,
        code,
        code_verifier=request.code_verifier,
        transport=world.transport,
        clock=world.sb.clock.time,
    )
    store = MemoryTokenStore(token)  # one Connection row, two workers
    clients = [world.client(store, grant="authorization_code") for _ in range(2)]
    world.vendors(3)
    world.sb.clock.advance(5400)
    gate = threading.Barrier(2)
    results: list[int] = []
    errors: list[Exception] = []

    def work(client):
        gate.wait()
        try:
            results.append(len(list(client.vendors())))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [3, 3]
    refreshes = [r for r in world.token_calls() if b"grant_type=refresh_token" in r.content]
    assert len(refreshes) == 1 and store.needs_reauth is None


# -- client credentials (DMSA) ----------------------------------------------------------------


def test_client_credentials_sends_the_company_header_even_on_companies_and_me(world):
    client = world.client()
    companies = list(client.companies())
    assert [c.id for c in companies] == [str(world.company["id"])]
    client.me()
    for request in world.api_calls():
        assert request.headers["Procore-Company-Id"] == str(world.company["id"])
    assert len(world.token_calls()) == 1


def test_client_credentials_runs_the_grant_again_when_the_token_expires(world):
    store = MemoryTokenStore()
    client = world.client(store)
    client.me()
    first = store.token["access_token"]
    world.sb.clock.advance(5400 - 60)  # inside the refresh leeway
    client.me()
    assert store.token["access_token"] != first
    grants = [r for r in world.token_calls() if b"grant_type=client_credentials" in r.content]
    assert len(grants) == 2 and store.saves == 2


def test_expiry_in_the_middle_of_a_paged_read_refreshes_and_finishes(world):
    world.vendors(10)
    client = world.client(per_page=3, sandbox_clock=False)  # our clock does not see it expire
    seen = []
    for i, vendor in enumerate(client.vendors()):
        seen.append(vendor.id)
        if i == 4:
            world.sb.clock.advance(5400)  # expires between page 2 and page 3
    assert len(seen) == len(set(seen)) == 10
    # 4 pages + the one request refused with 401 and sent again after the refresh.
    assert len(world.api_calls()) == math.ceil(10 / 3) + 1
    assert len(world.token_calls()) == 2


def test_expiry_seen_by_our_clock_refreshes_before_the_server_says_no(world):
    world.vendors(10)
    client = world.client(per_page=3)
    for i, _ in enumerate(client.vendors()):
        if i == 4:
            world.sb.clock.advance(5400)
    assert len(world.api_calls()) == 4
    assert [status for _, _, status in world.sb.request_log if status == 401] == []


def test_a_revoked_grant_raises_auth_error_and_marks_the_connection(world):
    settings = world.settings(grant="authorization_code")
    request = auth.authorization_url(settings)
    code = authorize_in_browser(world, request.url)["code"]
    token = auth.exchange_code(
        settings,
        code,
        code_verifier=request.code_verifier,
        transport=world.transport,
        clock=world.sb.clock.time,
    )
    store = MemoryTokenStore(token)
    client = world.client(store, grant="authorization_code")
    auth.revoke(settings, token["access_token"], transport=world.transport)
    before = len(world.sent)
    with pytest.raises(AuthError):
        list(client.vendors())
    assert store.needs_reauth
    # One API call (401), one refresh refused (the refresh token died with the revoke): no loop.
    assert len(world.sent) - before == 2


def test_tokens_refused_everywhere_stop_after_one_refresh(world):
    store = MemoryTokenStore()
    client = world.client(store)
    client.me()
    world.sb.faults.revoke_tokens = True
    before = len(world.sent)
    with pytest.raises(AuthError):
        client.me()
    assert store.needs_reauth and len(world.sent) - before == 3  # 401, new grant, 401


def test_an_app_not_installed_in_the_company_is_permission_denied(world):
    other = world.sb.add_company("Not ours")
    world.sb.store.get("_oauth_apps", DEMO_CLIENT_ID)["companies"] = [world.company["id"]]
    client = world.client(company_id=str(other["id"]))
    with pytest.raises(PermissionDenied):
        client.me()


# -- paging -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 6, 7])
def test_paging_makes_exactly_the_minimum_number_of_requests(world, count):
    world.vendors(count)
    client = world.client(per_page=3)
    assert len(list(client.vendors())) == count
    assert len(world.api_calls()) == max(1, math.ceil(count / 3)) == client.calls


def test_default_page_size_reads_thousands_in_one_request(world):
    world.vendors(2000)
    client = world.client()
    assert len(list(client.vendors())) == 2000 and client.calls == 1
    assert world.api_calls()[0].url.params["per_page"] == "2000"


def test_commitments_yield_both_kinds_with_lines_in_list_requests_only(world):
    for _ in range(5):
        world.commitment("work_order_contracts", lines=2)
    for _ in range(4):
        world.commitment("purchase_order_contracts", lines=3)
    client = world.client(per_page=2)
    got = list(client.commitments(str(world.project["id"])))
    assert [c.kind for c in got] == ["work_order_contract"] * 5 + ["purchase_order_contract"] * 4
    assert [len(c.lines) for c in got] == [2] * 5 + [3] * 4
    assert got[0].lines[0].amount == Decimal("100.00")
    # The list's extended view carries the lines: ceil(5/2) + ceil(4/2) requests, none per item.
    assert client.calls == 3 + 2


def test_updated_between_filters_on_updated_at(world):
    from datetime import UTC, datetime, timedelta

    world.vendors(2)
    world.sb.clock.advance(3600)
    cut = datetime.fromtimestamp(world.sb.clock.time(), tz=UTC) - timedelta(seconds=1)
    world.vendors(3)
    client = world.client()
    assert len(list(client.vendors(updated_since=cut))) == 3
    assert len(list(client.vendors(updated_between=(cut - timedelta(hours=2), cut)))) == 2
    assert "filters[updated_at]" in world.api_calls()[0].url.params


def test_include_deleted_reads_deleted_commitments(world):
    gone = world.commitment("work_order_contracts", lines=0)
    world.commitment("work_order_contracts", lines=0)
    world.sb.delete_commitment(gone)
    client = world.client()
    pid = str(world.project["id"])
    assert len(list(client.commitments(pid, kinds=("work_order_contract",)))) == 1
    both = list(client.commitments(pid, kinds=("work_order_contract",), include_deleted=True))
    assert len(both) == 2 and any(c.deleted_at for c in both)


# -- limits and transient faults --------------------------------------------------------------


def test_a_429_storm_is_waited_out_with_retry_after(world):
    world.vendors(3)
    client = world.client()
    client.me()
    world.sb.faults.retry_after = 4
    world.sb.faults.rate_limit_next = 3
    assert len(list(client.vendors())) == 3
    assert len(world.sleeps) == 3 and all(4.0 <= s <= 4.5 for s in world.sleeps)


def test_a_429_storm_longer_than_the_retry_budget_surfaces_rate_limited(world):
    client = world.client()
    client.retry = RetryPolicy(attempts=3)
    client.me()
    world.sb.faults.rate_limit_next = 10
    with pytest.raises(TransientError) as info:
        client.me()
    assert info.value.status == 429


def test_a_5xx_burst_is_retried_then_succeeds(world):
    world.vendors(2)
    client = world.client()
    client.me()
    world.sb.faults.error_next = 3
    assert len(list(client.vendors())) == 2
    assert client.retries == 3 and len(world.sleeps) == 3
    # Every 5xx carried Retry-After (the sandbox's 1 s): waited, plus a little jitter.
    assert all(1.0 <= s <= 1.5 for s in world.sleeps)


def test_remaining_zero_pauses_the_limiter_until_reset(world):
    sb = ProcoreSandbox(seed=1, spike_limit=3)
    company = sb.add_company("Tiny")
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # time passes for us and for the sandbox alike
        sleeps.append(seconds)
        now[0] += seconds
        sb.clock.advance(seconds)

    limiter = RateWindow(1000, 10.0, clock=lambda: now[0], sleep=sleep)
    client = ProcoreClient.from_settings(
        {
            "auth_base_url": BASE,
            "api_base_url": BASE,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "company_id": str(company["id"]),
            "grant": "client_credentials",
        },
        token_store=MemoryTokenStore(),
        transport=httpx.MockTransport(sb.handle),
        limiter=limiter,
        sleep=sleep,
        clock=sb.clock.time,
    )
    for _ in range(3):
        client.me()
    assert client.rate["remaining"] == 0 and client.rate_pauses == 1
    client.me()  # waits for the window's Reset instead of earning a 429
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 11
    assert [status for _, _, status in sb.request_log if status == 429] == []


def test_default_limiter_is_conservative_and_configurable():
    limiter = default_limiter({"client_id": "a", "company_id": "1"})
    spike, hourly = limiter.limiters
    assert (spike.limit, spike.seconds) == (20, 10.0) and hourly.limit == 3600
    limiter = default_limiter({"spike_limit": 90, "hourly_limit": 5000})
    assert limiter.limiters[0].limit == 90


# -- writes -----------------------------------------------------------------------------------


def test_origin_write_back_is_visible_in_the_sandbox(world):
    vendor = world.vendors(1)[0]
    woc = world.commitment("work_order_contracts", lines=1)
    client = world.client()
    pid = str(world.project["id"])
    assert (
        client.set_vendor_origin(str(vendor["id"]), Origin("NS-V-1", origin_code="V1")).origin_id
        == "NS-V-1"
    )
    client.set_project_origin(pid, Origin("NS-JOB-9", origin_data='{"sub": "1"}'))
    client.set_commitment_origin("work_order_contract", str(woc["id"]), pid, Origin("NS-PO-5"))
    assert world.sb.store.get("vendors", vendor["id"])["origin_id"] == "NS-V-1"
    assert world.sb.store.get("vendors", vendor["id"])["origin_code"] == "V1"
    assert world.sb.store.get("projects", world.project["id"])["origin_id"] == "NS-JOB-9"
    assert world.sb.store.get("commitments", woc["id"])["origin_id"] == "NS-PO-5"
    # The same write again is harmless (PATCH to fixed values).
    client.set_vendor_origin(str(vendor["id"]), Origin("NS-V-1", origin_code="V1"))


def test_a_duplicate_origin_id_is_a_duplicate_data_error(world):
    a, b = world.vendors(2)
    client = world.client()
    client.set_vendor_origin(str(a["id"]), Origin("NS-V-1"))
    with pytest.raises(Duplicate) as info:
        client.set_vendor_origin(str(b["id"]), Origin("NS-V-1"))
    assert info.value.family == "data" and info.value.status == 422
    assert world.sb.store.get("vendors", b["id"])["origin_id"] is None


def test_requisition_origin_and_erp_status(world):
    woc = world.commitment("work_order_contracts", lines=1, status="Approved")
    with world.sb.as_person():  # a subcontractor's invoice, entered in Procore by a person
        req = world.sb.create_requisition(woc, {"status": "approved"})
    client = world.client()
    pid = str(world.project["id"])
    client.set_requisition_origin(str(req["id"]), pid, Origin("NS-BILL-1"))
    updated = client.update_requisition(
        str(req["id"]), pid, erp_status="synced", payment_date=date(2026, 11, 2)
    )
    assert updated.origin_id == "NS-BILL-1"
    assert world.sb.store.get("requisitions", req["id"])["origin_id"] == "NS-BILL-1"
    listed = list(client.requisitions(pid))
    assert listed[0].id == str(req["id"]) and listed[0].g702 is not None


def test_contract_payment_commit_then_drop_leaves_exactly_one(world):
    woc = world.commitment("work_order_contracts", lines=1, status="Approved")
    client = world.client()
    pid, cid = str(world.project["id"]), str(woc["id"])
    client.me()
    world.sb.faults.commit_then_drop_next = 1
    payment = client.create_contract_payment(
        pid, cid, origin_id="NS-PAY-1", amount=Decimal("125.50"), paid_on=date(2026, 11, 20)
    )
    assert payment.amount == Decimal("125.50") and payment.origin_id == "NS-PAY-1"
    again = client.create_contract_payment(
        pid, cid, origin_id="NS-PAY-1", amount=Decimal("125.50"), paid_on=date(2026, 11, 20)
    )
    assert again.id == payment.id
    held = [p for p in world.sb.store.all("contract_payments") if p["origin_id"] == "NS-PAY-1"]
    assert len(held) == 1


def test_webhook_hook_and_triggers_created_once_even_when_answers_are_lost(world):
    client = world.client()
    client.me()
    world.sb.faults.commit_then_drop_next = 1
    hook = client.ensure_hook(
        namespace="erpbridge",
        destination_url="https://erp.example/hooks/procore",
        authorization="Bearer hook-secret-123456",
    )
    again = client.ensure_hook(
        namespace="erpbridge",
        destination_url="https://erp.example/hooks/procore",
        authorization="Bearer hook-secret-123456",
    )
    assert again.id == hook.id
    assert len(world.sb.store.all("webhook_hooks")) == 1
    stored = world.sb.store.all("webhook_hooks")[0]
    assert "hook-secret-123456" in str(stored["destination_headers"])
    wanted = [("Work Order Contracts", "create"), ("Work Order Contracts", "update")]
    world.sb.faults.commit_then_drop_next = 1
    triggers = client.ensure_triggers(hook.id, wanted)
    assert sorted((t.resource_name, t.event_type) for t in triggers) == sorted(wanted)
    assert len(client.triggers(hook.id)) == 2
    client.ensure_triggers(hook.id, wanted)
    assert len(client.triggers(hook.id)) == 2
    client.delete_trigger(hook.id, triggers[0].id)
    assert len(client.triggers(hook.id)) == 1
    client.delete_hook(hook.id)
    assert client.hooks("erpbridge") == []


# -- the other reads --------------------------------------------------------------------------


def test_cost_codes_line_item_types_and_change_orders(world):
    sb, pid = world.sb, str(world.project["id"])
    sb.create_cost_code(world.project, {"code": "01-100", "name": "Concrete"})
    sb.create_line_item_type(world.company["id"], {"name": "Labor", "code": "L"})
    woc = world.commitment("work_order_contracts", lines=1)
    with sb.as_person():
        sb.create_cco(world.project, {"contract_id": woc["id"], "title": "Extra rebar"})
    client = world.client()
    codes = list(client.cost_codes(pid))
    assert any(c.full_code == "01-100" or c.code == "01-100" for c in codes)
    assert "L" in [t.code for t in client.line_item_types()]
    (cco,) = list(client.commitment_change_orders(pid, contract_id=str(woc["id"])))
    assert cco.contract_id == str(woc["id"]) and cco.title == "Extra rebar"


def test_prime_contracts_payment_applications_and_their_origin(world):
    sb, pid = world.sb, str(world.project["id"])
    prime = sb.create_prime(world.project, {"title": "Owner contract"})
    pay_app = sb.create_pay_app(prime, {})
    client = world.client()
    (read,) = list(client.prime_contracts(pid))
    assert read.id == str(prime["id"])
    (app,) = list(client.payment_applications(pid))
    assert app.id == str(pay_app["id"])
    done = client.set_payment_application_origin(
        str(pay_app["id"]), str(prime["id"]), pid, Origin("NS-INV-1")
    )
    assert done.origin_id == "NS-INV-1"
    assert sb.store.get("payment_applications", pay_app["id"])["origin_id"] == "NS-INV-1"


def test_direct_costs_with_lines_and_origin(world):
    sb, pid = world.sb, str(world.project["id"])
    dc = sb.create_direct_cost(
        world.project, {"description": "Fuel", "direct_cost_type": "expense"}
    )
    sb.add_dc_line(dc, {"description": "Diesel", "amount": "80.25"})
    sb.add_dc_line(dc, {"description": "Petrol", "amount": "19.75"})
    client = world.client()
    (read,) = list(client.direct_costs(pid))
    assert read.id == str(dc["id"]) and sorted(x.amount for x in read.lines) == [
        Decimal("19.75"),
        Decimal("80.25"),
    ]
    client.set_direct_cost_origin(str(dc["id"]), pid, Origin("NS-EXP-1"))
    assert sb.store.get("direct_costs", dc["id"])["origin_id"] == "NS-EXP-1"


def test_contract_payments_are_listed_per_contract(world):
    woc = world.commitment("work_order_contracts", lines=1, status="Approved")
    client = world.client()
    pid, cid = str(world.project["id"]), str(woc["id"])
    client.create_contract_payment(
        pid, cid, origin_id="P-1", amount=Decimal("10.00"), paid_on=date(2026, 1, 2)
    )
    (payment,) = list(client.contract_payments(pid, cid))
    assert payment.origin_id == "P-1" and payment.date == date(2026, 1, 2)


def test_bulk_external_data_sync_reports_per_item_errors(world):
    a, b = world.vendors(2)
    client = world.client()
    errors = list(
        client.mark_synced(
            [
                {"item_type": "vendor", "item_id": a["id"], "origin_id": "V-A"},
                {"item_type": "vendor", "item_id": b["id"], "origin_id": "V-A"},  # taken
            ]
        )
    )
    assert world.sb.store.get("vendors", a["id"])["origin_id"] == "V-A"
    assert len(errors) == 1 and "origin_id" in str(errors[0])


def test_lines_missing_from_the_list_cost_one_request_per_commitment(world):
    """Where a list answers headers only (compact view), each commitment's lines take one
    request: the minimum, as there is no project-wide commitment line list."""
    for _ in range(3):
        world.commitment("work_order_contracts", lines=2)

    def compact(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rest/v1.0/work_order_contracts":
            request = httpx.Request(
                request.method, request.url.copy_remove_param("view"), headers=request.headers
            )
        return world.sb.handle(request)

    client = ProcoreClient.from_settings(
        world.settings(),
        token_store=MemoryTokenStore(),
        transport=httpx.MockTransport(compact),
        clock=world.sb.clock.time,
    )
    got = list(client.commitments(str(world.project["id"]), kinds=("work_order_contract",)))
    assert [len(c.lines) for c in got] == [2, 2, 2]
    assert client.calls == 1 + 3


def test_a_lost_answer_on_origin_write_back_is_retried_safely(world):
    vendor = world.vendors(1)[0]
    client = world.client()
    client.me()
    world.sb.faults.commit_then_drop_next = 1
    assert client.set_vendor_origin(str(vendor["id"]), Origin("NS-V-9")).origin_id == "NS-V-9"
    assert client.retries == 1


def test_a_user_token_lists_companies_before_a_company_is_chosen(world):
    settings = world.settings(grant="authorization_code", company_id="")
    request = auth.authorization_url(settings)
    code = authorize_in_browser(world, request.url)["code"]
    token = auth.exchange_code(
        settings, code, code_verifier=request.code_verifier, transport=world.transport
    )
    client = world.client(MemoryTokenStore(token), grant="authorization_code", company_id="")
    assert [c.name for c in client.companies()] == ["Summit Builders"]
    assert "Procore-Company-Id" not in world.api_calls()[-1].headers


def test_the_limiter_is_shared_through_redis_when_given():
    import os

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set: the shared limiters run in the PostgreSQL + Redis pass")
    import redis

    limiter = default_limiter({"client_id": "t", "company_id": "1"}, redis.Redis.from_url(url))
    with limiter.slot():
        pass
    assert {type(x).__name__ for x in limiter.limiters} == {"RedisRateWindow"}


def test_inactive_vendors_come_from_their_own_list(world):
    active, gone = world.vendors(2)
    world.sb.update_vendor(gone, {"is_active": False})
    client = world.client()
    assert [v.id for v in client.vendors()] == [str(active["id"])]
    assert [v.id for v in client.vendors(inactive=True)] == [str(gone["id"])]


def test_pkce_can_be_turned_off(world):
    request = auth.authorization_url(world.settings(grant="authorization_code", pkce=False))
    query = parse_qs(urlsplit(request.url).query)
    assert "code_challenge" not in query and request.code_verifier is None


def test_refusals_carry_the_exchange_with_secrets_masked(world):
    with pytest.raises(AuthError) as info:
        auth.client_credentials(
            world.settings(client_secret="wrong-secret-value-123"), transport=world.transport
        )
    exchange = info.value.exchange
    assert info.value.code == "invalid_client" and exchange.status == 401
    assert "wrong-secret-value-123" not in exchange.request_body

    client = world.client()
    client.me()
    world.sb.faults.error_status, world.sb.faults.error_next = 500, 1
    with pytest.raises(TransientError) as info:  # a 500 on a create: outcome unknown
        client.create_hook(
            namespace="erpbridge",
            destination_url="https://erp.example/h",
            authorization="Bearer hook-secret-abcdef",
        )
    exchange = info.value.exchange
    assert "hook-secret-abcdef" not in exchange.request_body
    assert "hook-secret-abcdef"[-4:] in exchange.request_body  # a hint of which one it was
    assert world.sb.store.all("webhook_hooks") == []
