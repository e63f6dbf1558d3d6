"""Connections wired to seeded in-process sandboxes (tests only)."""

from __future__ import annotations

from functools import cache

import httpx

from sandboxes.dataset.generate import generate
from sync.models import Connection, ConnectionStatus, Kind
from sync.services.connections import ConnectionTokenStore, connection_set_secrets


@cache
def company():
    return generate(42, "demo")


def netsuite_connection(procore=None) -> tuple[Connection, httpx.MockTransport, dict]:
    from sandboxes.netsuite import NetSuiteSandbox, keys
    from sandboxes.netsuite.seed import load

    sb = NetSuiteSandbox(seed=1)
    ids = load(sb, company())
    conn = Connection.objects.create(
        name="NetSuite",
        kind=Kind.NETSUITE,
        status=ConnectionStatus.OK,
        procore_connection=procore,
        settings={
            "account_id": keys.DEMO_ACCOUNT_ID,
            "base_url": "https://netsuite.sandbox.invalid",
            "auth_method": "m2m",
            "client_id": keys.DEMO_CLIENT_ID,
            "certificate_id": keys.DEMO_CERTIFICATE_ID,
        },
    )
    conn = connection_set_secrets(
        connection=conn, secrets={"private_key_pem": keys.demo_private_key_pem().decode()}
    )
    return conn, httpx.MockTransport(sb.handle), ids


def quickbooks_connection(procore=None) -> tuple[Connection, httpx.MockTransport, dict]:
    from sandboxes.quickbooks import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_REALM_ID,
        QuickBooksSandbox,
    )
    from sandboxes.quickbooks.seed import load

    sb = QuickBooksSandbox(seed=1, rate_scale=1000)
    ids = load(sb, company())
    conn = Connection.objects.create(
        name="QuickBooks",
        kind=Kind.QUICKBOOKS,
        status=ConnectionStatus.OK,
        procore_connection=procore,
        settings={
            "token_url": "https://oauth.sandbox.invalid/oauth2/v1/tokens/bearer",
            "api_base_url": "https://qbo.sandbox.invalid",
            "client_id": DEMO_CLIENT_ID,
            "realm_id": DEMO_REALM_ID,
        },
    )
    conn = connection_set_secrets(connection=conn, secrets={"client_secret": DEMO_CLIENT_SECRET})
    ConnectionTokenStore(conn.pk).save(sb.issue_token_for_tests())
    return conn, httpx.MockTransport(sb.handle), ids


def procore_connection() -> tuple[Connection, httpx.MockTransport, dict]:
    from sandboxes.procore import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ProcoreSandbox
    from sandboxes.procore.seed import load

    sb = ProcoreSandbox(seed=1, rate_scale=1000)
    ids = load(sb, company())
    conn = Connection.objects.create(
        name="Procore",
        kind=Kind.PROCORE,
        status=ConnectionStatus.OK,
        settings={
            "auth_base_url": "https://login.sandbox.invalid",
            "api_base_url": "https://api.sandbox.invalid",
            "client_id": DEMO_CLIENT_ID,
            "company_id": company().procore_company_id,
            "grant": "client_credentials",
        },
    )
    conn = connection_set_secrets(connection=conn, secrets={"client_secret": DEMO_CLIENT_SECRET})
    return conn, httpx.MockTransport(sb.handle), ids
