"""QuickBooks OAuth against the sandbox: connect, rotate, expire, revoke (issue 4)."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.errors import AuthError
from connectors.quickbooks import auth
from connectors.tokens import MemoryTokenStore, TokenManager
from tests.connectors.qbo_support import (
    DEMO_REALM_ID,
    DEMO_REDIRECT_URI,
    SANDBOX_ERROR,
    QuickBooksSandbox,
    Recorder,
    make_client,
    seed_books,
    settings,
    token_store,
)

pytestmark = pytest.mark.skipif(SANDBOX_ERROR is not None, reason=f"sandbox: {SANDBOX_ERROR}")


@pytest.fixture
def sandbox():
    return QuickBooksSandbox(seed=7)


def test_authorization_url_has_state_scope_and_no_pkce():
    url = auth.authorization_url(settings(), "st4te")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://sandbox.invalid/connect/oauth2?")
    assert query["state"] == ["st4te"] and query["response_type"] == ["code"]
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["redirect_uri"] == [DEMO_REDIRECT_URI]
    assert "code_challenge" not in query  # decided in auth.py's docstring


def test_authorization_code_flow_end_to_end_through_the_sandbox(sandbox):
    recorder = Recorder(sandbox)
    transport = httpx.MockTransport(recorder.handle)
    state = auth.new_state()
    # The browser follows the authorize URL; the sandbox's consent redirects back.
    redirect = sandbox.handle(httpx.Request("GET", auth.authorization_url(settings(), state)))
    assert redirect.status_code == 302
    callback = auth.parse_callback(redirect.headers["location"], state)
    assert callback.realm_id == DEMO_REALM_ID

    token = auth.exchange_code(settings(), callback, transport=transport)
    assert token["access_token"] and token["refresh_token"] and token["realm_id"] == DEMO_REALM_ID
    sent = recorder.token_calls()[0]
    assert sent.headers["authorization"].startswith("Basic ")  # §2: HTTP Basic client auth
    body = parse_qs(sent.content.decode())
    assert body["grant_type"] == ["authorization_code"] and "client_secret" not in body

    # The code is single-use.
    with pytest.raises(AuthError) as info:
        auth.exchange_code(settings(), callback, transport=transport)
    assert info.value.code == "invalid_grant"

    # The stored token works for API calls.
    client, _, _ = make_client(sandbox, store=MemoryTokenStore(token))
    assert client.company_info().company_name


def test_callback_with_a_foreign_state_or_an_error_is_refused():
    with pytest.raises(AuthError) as info:
        auth.parse_callback("https://app/cb?code=x&state=evil&realmId=1", "mine")
    assert info.value.code == "state_mismatch"
    with pytest.raises(AuthError) as info:
        auth.parse_callback({"error": "access_denied", "state": "mine"}, "mine")
    assert info.value.code == "access_denied"
    with pytest.raises(AuthError):
        auth.parse_callback({"code": "c", "state": "mine"}, "mine")  # no realmId


def test_refresh_rotates_and_the_newest_refresh_token_is_stored(sandbox):
    store = token_store(sandbox)
    first_refresh = store.token["refresh_token"]
    client, recorder, _ = make_client(sandbox, store=store)
    sandbox.clock.advance(3600)  # access token expired (60 min)
    client.company_info()
    assert len(recorder.token_calls()) == 1
    assert store.token["refresh_token"] != first_refresh  # the sandbox rotates every refresh
    # The old refresh token is dead: using it is invalid_grant -> AuthError.
    stale = MemoryTokenStore({**store.token, "refresh_token": first_refresh, "expires_at": 0})
    manager = TokenManager(
        stale,
        auth.refresher(settings(), httpx.MockTransport(sandbox.handle)),
        clock=sandbox.clock.time,
    )
    with pytest.raises(AuthError):
        manager.access_token()
    assert stale.needs_reauth


def test_two_clients_on_one_store_refresh_once_and_both_keep_working(sandbox):
    store = token_store(sandbox)
    recorder = Recorder(sandbox)
    a, _, _ = make_client(sandbox, store=store, recorder=recorder)
    b, _, _ = make_client(sandbox, store=store, recorder=recorder)
    sandbox.clock.advance(3590)  # inside the 60 s leeway: both want to refresh
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def work(client):
        barrier.wait()
        try:
            for _ in range(3):
                client.company_info()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(recorder.token_calls()) == 1  # lock -> re-read -> the second saw a fresh token
    assert store.needs_reauth is None


def test_a_401_from_a_client_with_an_old_access_token_does_not_burn_the_new_one(sandbox):
    store = token_store(sandbox)
    recorder = Recorder(sandbox)
    a, _, _ = make_client(sandbox, store=store, recorder=recorder)
    old_access = store.token["access_token"]
    sandbox.clock.advance(3700)
    a.company_info()  # a refreshes
    assert store.token["access_token"] != old_access
    # b still presents the old access token (read before a's refresh) and gets 401: it must
    # pick up a's token instead of refreshing again (which would rotate a's token away).
    manager = a.tokens
    assert manager.refresh(rejected=old_access)["access_token"] == store.token["access_token"]
    assert len(recorder.token_calls()) == 1


@pytest.mark.parametrize("client_knows_the_time", [True, False], ids=["proactive", "on-401"])
def test_expiry_in_the_middle_of_a_paged_read_refreshes_once_and_continues(
    sandbox, client_knows_the_time
):
    books = seed_books(sandbox)
    for n in range(25):
        sandbox.create(DEMO_REALM_ID, "Vendor", {"DisplayName": f"Sub {n:03d}"})
    # proactive: the client's clock moves with the sandbox's and refreshes before the call;
    # on-401: the client's clock does not (skew), so QBO's 401 triggers one refresh + retry.
    clock = None if client_knows_the_time else time.time
    client, recorder, _ = make_client(sandbox, clock=clock)
    seen = []
    for n, vendor in enumerate(client.iter_query("Vendor", page_size=10)):
        seen.append(vendor.id)
        if n == 12:
            sandbox.clock.advance(3601)  # expires between page 2 and page 3
    assert len(seen) == 26 and len(set(seen)) == 26
    assert books.vendor in seen
    api = recorder.api_calls()
    assert len(recorder.token_calls()) == 1
    assert len(api) == (3 if client_knows_the_time else 4)  # 3 pages (+ the retried one)
    if not client_knows_the_time:
        assert api[2].url == api[3].url  # the same page, retried with the new token
        assert api[2].headers["authorization"] != api[3].headers["authorization"]


def test_revoked_tokens_raise_auth_error_mark_the_store_and_do_not_loop(sandbox):
    store = token_store(sandbox)
    client, recorder, _ = make_client(sandbox, store=store)
    sandbox.faults.revoke_tokens = True
    with pytest.raises(AuthError):
        client.company_info()
    assert store.needs_reauth
    assert len(recorder.api_calls()) == 1 and len(recorder.token_calls()) == 1


def test_revoke_disconnects_the_company(sandbox):
    store = token_store(sandbox)
    client, _, _ = make_client(sandbox, store=store)
    auth.revoke(settings(), store.token["refresh_token"], httpx.MockTransport(sandbox.handle))
    with pytest.raises(AuthError):
        client.company_info()
    assert store.needs_reauth


def test_wrong_client_secret_is_an_auth_error(sandbox):
    callback = auth.Callback(
        sandbox.authorization_code_for_tests(settings()["client_id"], DEMO_REDIRECT_URI),
        "s",
        DEMO_REALM_ID,
    )
    with pytest.raises(AuthError) as info:
        auth.exchange_code(
            settings(client_secret="nope"), callback, httpx.MockTransport(sandbox.handle)
        )
    assert info.value.code == "invalid_client"
