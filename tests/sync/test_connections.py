"""Connections: encrypted tokens and secrets, the row-locked token store, health transitions,
shared database limiters, and clients built from a Connection against the sandboxes."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.db import connection as db

from connectors.errors import AuthError
from connectors.limits import LimitTimeout
from sandboxes.procore import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ProcoreSandbox
from sandboxes.quickbooks import DEMO_CLIENT_ID as QBO_CLIENT_ID
from sandboxes.quickbooks import DEMO_CLIENT_SECRET as QBO_CLIENT_SECRET
from sandboxes.quickbooks import DEMO_REALM_ID, QuickBooksSandbox
from sync.clients import ConnectionNeedsReauth, connection_client
from sync.limits import DatabaseLimits, DbConcurrency, DbRateWindow
from sync.models import Connection, ConnectionStatus, Kind
from sync.services.connections import (
    ConnectionTokenStore,
    connection_mark_needs_reauth,
    connection_set_secrets,
)

COMPANY = 4200
pytestmark = pytest.mark.django_db


def raw_column(pk: int, column: str) -> str:
    with db.cursor() as cursor:
        # column names come from the tests themselves, never from input
        cursor.execute(f"SELECT {column} FROM sync_connection WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def procore_sandbox() -> ProcoreSandbox:
    sb = ProcoreSandbox(seed=1)
    sb.add_company("Summit Builders", COMPANY)
    sb.create_project(COMPANY, {"name": "Tower A", "project_number": "24-101"})
    return sb


@pytest.fixture
def procore_connection() -> Connection:
    conn = Connection.objects.create(
        name="Procore",
        kind=Kind.PROCORE,
        settings={
            "auth_base_url": "https://login.sandbox.invalid",
            "api_base_url": "https://api.sandbox.invalid",
            "client_id": DEMO_CLIENT_ID,
            "company_id": str(COMPANY),
            "grant": "client_credentials",
        },
    )
    return connection_set_secrets(connection=conn, secrets={"client_secret": DEMO_CLIENT_SECRET})


def test_secrets_are_encrypted_at_rest_and_blank_keeps_the_stored_value(procore_connection):
    assert DEMO_CLIENT_SECRET not in raw_column(procore_connection.pk, "secrets_encrypted")
    connection_set_secrets(connection=procore_connection, secrets={"client_secret": ""})
    fresh = Connection.objects.get(pk=procore_connection.pk)
    assert fresh.secrets == {"client_secret": DEMO_CLIENT_SECRET}


def test_a_client_built_from_a_connection_fetches_and_stores_the_token_encrypted(
    procore_sandbox, procore_connection
):
    client = connection_client(
        procore_connection, transport=httpx.MockTransport(procore_sandbox.handle)
    )
    projects = list(client.projects())
    assert [p.name for p in projects] == ["Tower A"]
    fresh = Connection.objects.get(pk=procore_connection.pk)
    assert fresh.token["access_token"]
    assert fresh.token["access_token"] not in raw_column(fresh.pk, "token_encrypted")
    assert fresh.status == ConnectionStatus.OK


def test_a_revoked_grant_marks_the_connection_and_further_clients_are_refused(
    procore_sandbox, procore_connection
):
    transport = httpx.MockTransport(procore_sandbox.handle)
    client = connection_client(procore_connection, transport=transport)
    list(client.projects())
    procore_sandbox.faults.revoke_tokens = True
    with pytest.raises(AuthError):
        list(client.projects())
    fresh = Connection.objects.get(pk=procore_connection.pk)
    assert fresh.status == ConnectionStatus.NEEDS_REAUTH and fresh.status_reason
    with pytest.raises(ConnectionNeedsReauth):
        connection_client(fresh, transport=transport)


def test_needs_reauth_transition_happens_once():
    conn = Connection.objects.create(name="QBO", kind=Kind.QUICKBOOKS, status=ConnectionStatus.OK)
    assert connection_mark_needs_reauth(connection_id=conn.pk, reason="invalid_grant") is True
    assert connection_mark_needs_reauth(connection_id=conn.pk, reason="again") is False
    assert Connection.objects.get(pk=conn.pk).status_reason == "invalid_grant"


def test_token_store_locked_block_sees_the_newest_token(procore_connection):
    store = ConnectionTokenStore(procore_connection.pk)
    with store.locked() as current:
        assert current is None
        store.save(
            {
                "access_token": "access-plain-a1",
                "refresh_token": "refresh-plain-r1",
                "expires_at": 1.0,
            }
        )
    with store.locked() as current:
        assert current["refresh_token"] == "refresh-plain-r1"
    # Long plain values: a two-letter one can turn up by chance in the ciphertext's base64.
    raw = raw_column(procore_connection.pk, "token_encrypted")
    assert "refresh-plain-r1" not in raw and "access-plain-a1" not in raw


def test_quickbooks_client_refreshes_through_the_connection_and_keeps_the_newest_refresh_token():
    sb = QuickBooksSandbox(seed=1, rate_scale=1000)
    grant = sb.issue_token_for_tests()
    conn = Connection.objects.create(
        name="QBO",
        kind=Kind.QUICKBOOKS,
        status=ConnectionStatus.OK,
        settings={
            "token_url": "https://oauth.sandbox.invalid/oauth2/v1/tokens/bearer",
            "api_base_url": "https://qbo.sandbox.invalid",
            "client_id": QBO_CLIENT_ID,
            "realm_id": DEMO_REALM_ID,
        },
    )
    connection_set_secrets(connection=conn, secrets={"client_secret": QBO_CLIENT_SECRET})
    # An access token that already expired: the client must refresh before its first call.
    ConnectionTokenStore(conn.pk).save({**grant, "expires_at": 0})
    client = connection_client(conn, transport=httpx.MockTransport(sb.handle))
    client.company_info()
    token = Connection.objects.get(pk=conn.pk).token
    assert token["refresh_token"] != grant["refresh_token"]
    assert token["expires_at"] > 0


def test_database_rate_window_is_shared_between_instances():
    sleeps: list[float] = []
    first = DbRateWindow("test:rate", 2, 30.0, sleep=sleeps.append, patience=0.001)
    second = DbRateWindow("test:rate", 2, 30.0, sleep=sleeps.append, patience=0.001)
    with first.slot(), second.slot():
        pass
    with pytest.raises(LimitTimeout), first.slot():
        pass


def test_database_rate_window_pause_holds_every_instance():
    first = DbRateWindow("test:pause", 100, 30.0, patience=0.001)
    first.pause(60)
    with pytest.raises(LimitTimeout), DbRateWindow("test:pause", 100, 30.0, patience=0.001).slot():
        pass


def test_database_concurrency_caps_and_releases():
    one = DbConcurrency("test:conc", 1, patience=0.0, poll=0.001)
    two = DbConcurrency("test:conc", 1, patience=0.0, poll=0.001)
    with one.slot(), pytest.raises(LimitTimeout), two.slot():
        pass
    with two.slot():
        pass


def test_database_concurrency_lease_of_a_dead_worker_expires():
    clock = [1000.0]
    dead = DbConcurrency("test:dead", 1, lease=5, clock=lambda: clock[0], patience=0.0, poll=0.001)
    assert dead._enter() is not None  # taken and never released (the worker was killed)
    alive = DbConcurrency("test:dead", 1, lease=5, clock=lambda: clock[0], patience=0.0)
    with pytest.raises(LimitTimeout), alive.slot():
        pass
    clock[0] += 6
    with alive.slot():
        pass


@pytest.mark.django_db(transaction=True)
def test_database_concurrency_holds_across_threads():
    limits = DatabaseLimits()
    inside, peak = [0], [0]
    lock = threading.Lock()

    def worker():
        gate = limits.concurrency("test:threads", 2, sleep=lambda s: threading.Event().wait(0.005))
        with gate.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            threading.Event().wait(0.05)
            with lock:
                inside[0] -= 1
        db.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_clients_built_for_the_network_share_one_connection_pool_per_connection(
    procore_connection, procore_sandbox
):
    """Each sync batch builds its clients afresh; over the network they send through the
    process's pool for their connection, so kept-alive connections outlive the batch."""
    first, second = connection_client(procore_connection), connection_client(procore_connection)
    assert first.http is second.http
    first.close()  # a shared pool stays open for the next batch
    assert not second.http.is_closed
    other = Connection.objects.create(
        name="Procore 2", kind=Kind.PROCORE, settings=dict(procore_connection.settings)
    )
    assert connection_client(other).http is not first.http  # never across connections
    mocked = connection_client(
        procore_connection, transport=httpx.MockTransport(procore_sandbox.handle)
    )
    assert mocked.http is not first.http  # a caller's own transport is its own
