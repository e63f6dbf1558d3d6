"""Shared pieces for the Connections tests: sandboxes behind ``sync.clients.auth_transport``."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.procore import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ProcoreSandbox
from sandboxes.quickbooks import DEMO_CLIENT_ID as QBO_CLIENT_ID
from sandboxes.quickbooks import DEMO_CLIENT_SECRET as QBO_CLIENT_SECRET
from sandboxes.quickbooks import QuickBooksSandbox
from sync import clients
from sync.models import Connection, Kind
from sync.services.connections import connection_set_secrets

COMPANY = 4200
PROCORE_CALLBACK = "http://testserver/connections/procore/callback"
QBO_CALLBACK = "http://testserver/connections/quickbooks/callback"


@pytest.fixture
def remote(monkeypatch):
    """Put a sandbox behind the admin pages' transport: ``remote(sb)``."""

    def use(sandbox) -> httpx.MockTransport:
        transport = httpx.MockTransport(sandbox.handle)
        monkeypatch.setattr(clients, "auth_transport", lambda: transport)
        return transport

    return use


@pytest.fixture
def procore_sb() -> ProcoreSandbox:
    sb = ProcoreSandbox(seed=1)
    sb.add_company("Summit Builders", COMPANY)
    sb.register_app(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, [PROCORE_CALLBACK])
    return sb


@pytest.fixture
def qbo_sb() -> QuickBooksSandbox:
    sb = QuickBooksSandbox(seed=1, rate_scale=1000)
    sb.register_app(QBO_CLIENT_ID, QBO_CLIENT_SECRET, [QBO_CALLBACK])
    return sb


def make_procore(grant: str = "authorization_code", secret: str = DEMO_CLIENT_SECRET, **kw):
    conn = Connection.objects.create(
        name=kw.pop("name", "Procore"),
        kind=Kind.PROCORE,
        settings={
            "auth_base_url": "https://login.sandbox.invalid",
            "api_base_url": "https://api.sandbox.invalid",
            "client_id": DEMO_CLIENT_ID,
            "company_id": str(COMPANY),
            "grant": grant,
        },
        **kw,
    )
    return connection_set_secrets(connection=conn, secrets={"client_secret": secret})


def make_quickbooks(**settings):
    conn = Connection.objects.create(
        name="QuickBooks",
        kind=Kind.QUICKBOOKS,
        settings={
            "auth_url": "https://appcenter.sandbox.invalid/connect/oauth2",
            "token_url": "https://oauth.sandbox.invalid/oauth2/v1/tokens/bearer",
            "api_base_url": "https://qbo.sandbox.invalid",
            "client_id": QBO_CLIENT_ID,
            **settings,
        },
    )
    return connection_set_secrets(connection=conn, secrets={"client_secret": QBO_CLIENT_SECRET})


def page_text(response) -> str:
    return response.content.decode()
