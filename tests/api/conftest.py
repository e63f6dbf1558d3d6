"""API test wiring: one client per role (token auth), connections, a held exception item."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts import roles
from api.services import api_token_create
from sync.models import Change, ChangeState, Connection, ExceptionItem, Kind
from tests.factories import UserFactory


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        issued = api_token_create(user=user, name="tests", created_by=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    return client


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ia", roles=[roles.INTEGRATION_ADMIN], is_staff=True)


@pytest.fixture
def api(db):
    """``api("controller")`` → an APIClient authenticated by a token of that role."""
    users = {
        "controller": lambda: UserFactory(username="ctrl", roles=[roles.CONTROLLER]),
        "pm": lambda: UserFactory(username="pm", roles=[roles.PROJECT_MANAGER]),
        "admin": lambda: UserFactory(username="ia", roles=[roles.INTEGRATION_ADMIN], is_staff=True),
    }

    def make(role: str | None) -> APIClient:
        client = client_for(users[role]() if role else None)
        return client

    return make


@pytest.fixture
def connections(db):
    procore = Connection.objects.create(name="Procore", kind=Kind.PROCORE, settings={})
    erp = Connection.objects.create(
        name="QuickBooks", kind=Kind.QUICKBOOKS, procore_connection=procore, settings={}
    )
    return procore, erp


def make_item(erp, n: int = 1, *, state=ChangeState.HELD, status="open", amount="100.00"):
    change = Change.objects.create(
        connection=erp,
        object_type="commitment",
        procore_id=str(1000 + n),
        operation="create",
        erp_type="PurchaseOrder",
        payload={"DocNumber": f"SC-{n}", "TotalAmt": amount},
        idempotency_key=f"test-{n}",
        state=state,
        reason_code="APPROVAL_THRESHOLD",
    )
    return ExceptionItem.objects.create(
        change=change,
        connection=erp,
        object_type="commitment",
        procore_id=str(1000 + n),
        status=status,
        reason_code="APPROVAL_THRESHOLD",
        explanation="Above the approval threshold.",
        procore_project_id="77",
        project_name="Tower",
        document_number=f"SC-{n}",
        amount=Decimal(amount),
        currency="USD",
    )


@pytest.fixture
def item(connections):
    return make_item(connections[1])
