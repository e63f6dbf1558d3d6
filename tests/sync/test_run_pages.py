"""Run history pages: list, detail, the htmx partial polling while a run is in flight."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sync.models import Connection, ExceptionItem, Kind, RunStatus, SyncRun, SyncRunRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def erp():
    procore = Connection.objects.create(name="Procore", kind=Kind.PROCORE)
    return Connection.objects.create(
        name="NetSuite", kind=Kind.NETSUITE, procore_connection=procore
    )


def test_the_partial_shows_progress_moving_and_stops_polling_when_done(
    client, integration_admin, erp
):
    client.force_login(integration_admin)
    run = SyncRun.objects.create(
        connection=erp, object_type="commitments", total=10, done=2, synced=2
    )
    url = reverse("sync:run_detail", args=[run.pk])
    first = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "2 / 10" in first and 'hx-trigger="every 2s"' in first and "<html" not in first
    SyncRun.objects.filter(pk=run.pk).update(done=7, synced=5, queued=2, api_calls=31)
    second = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "7 / 10" in second and 'hx-trigger="every 2s"' in second and ">31<" in second
    SyncRun.objects.filter(pk=run.pk).update(done=10, status=RunStatus.SUCCEEDED)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "10 / 10" in done and "hx-trigger" not in done


def test_detail_lists_records_with_links_to_their_items(client, integration_admin, erp):
    from sync.models import Change

    client.force_login(integration_admin)
    run = SyncRun.objects.create(
        connection=erp, object_type="commitments", total=1, done=1, queued=1
    )
    change = Change.objects.create(
        connection=erp,
        object_type="commitment",
        procore_id="77",
        operation="create",
        erp_type="purchaseOrder",
        idempotency_key="k-77",
        state="held",
    )
    item = ExceptionItem.objects.create(
        change=change,
        connection=erp,
        object_type="commitment",
        procore_id="77",
        reason_code="UNKNOWN_VENDOR",
    )
    SyncRunRecord.objects.create(run=run, procore_id="77", outcome="queued", change=change)
    page = client.get(reverse("sync:run_detail", args=[run.pk])).content.decode()
    assert f"UNKNOWN_VENDOR #{item.pk}" in page
    assert reverse("exceptions_ui:item", args=[item.pk]) in page
    listing = client.get(reverse("sync:runs")).content.decode()
    assert f"#{run.pk}" in listing and "Sync now" in listing


def test_sync_now_button_queues_a_run(client, integration_admin, erp, monkeypatch):
    from sync.views import runs as views

    asked = []
    monkeypatch.setattr(views, "sync_now_request", lambda **kw: asked.append(kw) or "task")
    client.force_login(integration_admin)
    response = client.post(
        reverse("sync:sync_now"),
        {"connection": erp.pk, "object_type": "commitments", "procore_id": "55"},
    )
    assert response.status_code == 302
    assert asked == [
        {"connection_id": erp.pk, "object_type": "commitments", "procore_id": "55", "full": False}
    ]


@pytest.mark.parametrize("role", ["controller", "project_manager"])
def test_other_roles_are_refused(client, request, role, erp):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("sync:runs")).status_code == 403
