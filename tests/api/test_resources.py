"""API endpoints per resource: status, body and what changed in the database."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import ProjectAccess
from audit.models import AuditEntry
from mappings.models import CurrencyMapping, MappingChange, MappingUpload, ReferenceRecord
from sync.models import ChangeState, ExceptionEvent, ExceptionItem, ItemStatus, SyncRun
from tests.api.conftest import make_item

pytestmark = pytest.mark.django_db


# -- exceptions ----------------------------------------------------------------------------


def test_queue_list_filters_and_cursor_pages(api, connections):
    erp = connections[1]
    for n in range(1, 6):
        make_item(erp, n, amount=str(100 * n))
    client = api("controller")

    first = client.get("/api/v1/exceptions/", {"page_size": 2, "amount_min": "200"})
    body = first.json()

    assert first.status_code == 200
    assert [i["document_number"] for i in body["results"]] == ["SC-2", "SC-3"]
    assert body["total"] == 4 and body["tab_counts"]["open"] == 4
    second = client.get(body["next"]).json()
    assert [i["document_number"] for i in second["results"]] == ["SC-4", "SC-5"]
    assert second["next"] is None
    bad = client.get("/api/v1/exceptions/", {"tab": "nope"})
    assert bad.status_code == 400 and "tab" in bad.json()["error"]["fields"]


def test_pm_sees_only_their_projects_items_and_cannot_act(api, connections):
    mine = make_item(connections[1], 1)
    other = make_item(connections[1], 2)
    ExceptionItem.objects.filter(pk=other.pk).update(procore_project_id="88")
    client = api("pm")
    from django.contrib.auth import get_user_model

    ProjectAccess.objects.create(
        user=get_user_model().objects.get(username="pm"), procore_project_id="77"
    )

    listed = client.get("/api/v1/exceptions/").json()["results"]

    assert [i["id"] for i in listed] == [mine.pk]
    assert client.get(f"/api/v1/exceptions/{other.pk}/").status_code == 404
    assert client.post(f"/api/v1/exceptions/{mine.pk}/approve/").status_code == 403


def test_detail_shows_change_timeline_and_whether_you_may_approve(api, item):
    body = api("controller").get(f"/api/v1/exceptions/{item.pk}/").json()

    assert body["change"]["payload"]["DocNumber"] == "SC-1"
    assert body["amount"] == "100.00" and body["approve_refusal"] == ""
    assert body["events"] == []


def test_approve_resolves_the_item_and_queues_the_write(
    api, item, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api("controller").post(
            f"/api/v1/exceptions/{item.pk}/approve/", {"note": "ok"}, format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json()["sent"] is True
    item.refresh_from_db()
    assert item.status == ItemStatus.RESOLVED
    assert item.change.state == ChangeState.APPROVED
    assert len(callbacks) == 1  # the send job, queued after commit
    entry = AuditEntry.objects.get(action="exception.approve")
    assert entry.actor_label == "ctrl" and entry.source == "api" and entry.object_id == str(item.pk)
    assert entry.request_id


def test_a_second_decision_is_refused_with_who_acted_first(api, item):
    client = api("controller")
    client.post(f"/api/v1/exceptions/{item.pk}/reject/", {"reason": "duplicate"}, format="json")

    again = client.post(f"/api/v1/exceptions/{item.pk}/approve/")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "refused"
    assert "already rejected" in again.json()["error"]["message"]
    assert AuditEntry.objects.filter(action="exception.reject").count() == 1


def test_reject_needs_a_reason(api, item):
    response = api("controller").post(f"/api/v1/exceptions/{item.pk}/reject/", {}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN


def test_retry_a_dead_letter(api, connections):
    dead = make_item(connections[1], 9, state=ChangeState.FAILED, status=ItemStatus.DEAD_LETTER)

    response = api("controller").post(f"/api/v1/exceptions/{dead.pk}/retry/")

    assert response.status_code == 200
    dead.change.refresh_from_db()
    assert dead.change.state == ChangeState.APPROVED
    assert AuditEntry.objects.filter(action="exception.retry").exists()


def test_assign_and_comment(api, item):
    client = api("controller")
    from django.contrib.auth import get_user_model

    ctrl = get_user_model().objects.get(username="ctrl")

    assigned = client.post(
        f"/api/v1/exceptions/{item.pk}/assign/", {"assignee": ctrl.pk}, format="json"
    )
    stale = client.post(
        f"/api/v1/exceptions/{item.pk}/assign/",
        {"assignee": None, "expected": None},
        format="json",
    )
    comment = client.post(
        f"/api/v1/exceptions/{item.pk}/comment/", {"text": "Looking at it"}, format="json"
    )
    nobody = client.post(f"/api/v1/exceptions/{item.pk}/assign/", {"assignee": 999}, format="json")

    assert assigned.status_code == 200 and assigned.json()["item"]["assignee"]["id"] == ctrl.pk
    assert stale.status_code == 409  # someone (we) changed it since "null" was seen
    assert comment.status_code == 201 and comment.json()["note"] == "Looking at it"
    assert nobody.status_code == 400
    assert ExceptionEvent.objects.filter(item=item, action="commented").count() == 1
    assert AuditEntry.objects.filter(action="exception.assign").count() == 1


# -- sync ----------------------------------------------------------------------------------


def test_runs_list_detail_and_records(api, connections):
    erp = connections[1]
    runs = [SyncRun.objects.create(connection=erp, object_type="commitments") for _ in range(3)]
    SyncRun.objects.filter(pk=runs[0].pk).update(status="succeeded", total=4, done=4, synced=4)
    runs[0].records.create(procore_id="1", outcome="synced")
    client = api("pm")

    page = client.get("/api/v1/runs/", {"page_size": 2}).json()
    rest = client.get(page["next"]).json()
    detail = client.get(f"/api/v1/runs/{runs[0].pk}/").json()
    records = api("controller").get(f"/api/v1/runs/{runs[0].pk}/records/").json()

    assert [r["id"] for r in page["results"] + rest["results"]] == [r.pk for r in runs[::-1]]
    assert detail["progress"] == {"done": 4, "total": 4, "percent": 100}
    assert detail["counts"]["synced"] == 4
    assert records["results"][0]["outcome"] == "synced"
    # A run's records name documents of every project; a PM sees only their projects.
    assert client.get(f"/api/v1/runs/{runs[0].pk}/records/").status_code == 403
    assert client.get("/api/v1/runs/", {"connection": "x"}).status_code == 400


def test_trigger_queues_sync_now_and_is_audited(api, connections, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda *args, **kw: queued.append(args) or "task-1"
    )
    client = api("admin")

    ok = client.post(
        "/api/v1/runs/trigger/",
        {"connection": connections[1].pk, "object_type": "commitments"},
        format="json",
    )
    unknown = client.post(
        "/api/v1/runs/trigger/",
        {"connection": connections[1].pk, "object_type": "nope"},
        format="json",
    )
    procore = client.post("/api/v1/runs/trigger/", {"connection": connections[0].pk}, format="json")

    assert ok.status_code == 202 and ok.json()["task_id"] == "task-1"
    assert queued == [("sync.jobs_triggers.sync_now", connections[1].pk, "commitments", "")]
    assert unknown.status_code == 400 and procore.status_code == 400
    entry = AuditEntry.objects.get(action="sync.sync_now")
    assert entry.actor_label == "ia" and entry.after["object_type"] == "commitments"


def test_connection_health_has_no_secrets(api, connections):
    from sync.services.connections import connection_set_secrets

    connection_set_secrets(connection=connections[1], secrets={"client_secret": "s3cr3t-value"})

    response = api("admin").get("/api/v1/connections/")

    assert response.status_code == 200
    assert {c["name"] for c in response.json()} == {"Procore", "QuickBooks"}
    assert "s3cr3t-value" not in response.content.decode()
    assert "secrets" not in response.content.decode()


# -- mappings ------------------------------------------------------------------------------


@pytest.fixture
def currency_refs(connections):
    ReferenceRecord.objects.create(
        connection=connections[1],
        kind="currency",
        remote_id="1",
        code="USD",
        name="US Dollar",
        refreshed_at=timezone.now(),
    )
    return connections[1]


def test_mapping_rows_create_update_delete_with_history_and_audit(api, currency_refs):
    erp = currency_refs
    client = api("admin")
    url = f"/api/v1/mappings/{erp.pk}/currency/"

    created = client.post(url, {"row": {"currency": "usd", "erp_currency_id": "1"}}, format="json")
    row_id = created.json()["id"]
    listed = client.get(url).json()
    patched = client.patch(f"{url}{row_id}/", {"notes": "checked"}, format="json")
    bad = client.patch(f"{url}{row_id}/", {"row": {"erp_currency_id": "404"}}, format="json")
    unknown = client.post(url, {"row": {"colour": "red"}}, format="json")
    deleted = client.delete(f"{url}{row_id}/")

    assert created.status_code == 201 and created.json()["row"]["currency"] == "USD"
    assert listed["results"][0]["id"] == row_id
    assert patched.status_code == 200 and patched.json()["notes"] == "checked"
    assert bad.status_code == 400 and bad.json()["error"]["fields"]
    assert unknown.status_code == 400
    assert deleted.status_code == 204 and not CurrencyMapping.objects.exists()
    assert list(MappingChange.objects.values_list("action", "source").order_by("pk")) == [
        ("create", "api"),
        ("delete", "api"),
    ]
    assert [e.action for e in AuditEntry.objects.order_by("pk")] == [
        "api_token.create",
        "mapping.create",
        "mapping.update",
        "mapping.delete",
    ]


def test_controllers_may_add_and_view_but_not_delete_mappings(api, currency_refs):
    client = api("controller")
    url = f"/api/v1/mappings/{currency_refs.pk}/currency/"
    row = client.post(url, {"row": {"currency": "USD", "erp_currency_id": "1"}}, format="json")

    assert row.status_code == 201
    assert client.delete(f"{url}{row.json()['id']}/").status_code == 403
    assert client.get("/api/v1/mappings/").status_code == 403  # uploads etc.: admins


def test_upload_validate_preview_apply(api, currency_refs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api("admin")
    good = SimpleUploadedFile("c.csv", b"currency,erp_currency_id\nUSD,1\n", "text/csv")
    bad = SimpleUploadedFile("c.csv", b"currency,erp_currency_id\nUSD,999\n", "text/csv")
    junk = SimpleUploadedFile("c.csv", b"a,b\n1,2\n", "text/csv")
    url = f"/api/v1/mappings/{currency_refs.pk}/currency/uploads/"

    preview = client.post(url, {"file": good}, format="multipart")
    refused = client.post(url, {"file": bad}, format="multipart")
    unusable = client.post(url, {"file": junk}, format="multipart")

    assert preview.status_code == 201 and preview.json()["status"] == "previewed"
    assert preview.json()["counts"]["create"] == 1 and not CurrencyMapping.objects.exists()
    assert refused.json()["status"] == "refused" and refused.json()["preview"]["errors"]
    assert unusable.status_code == 400 and "file" in unusable.json()["error"]["fields"]
    upload_id = preview.json()["id"]
    applied = client.post(f"/api/v1/mappings/uploads/{upload_id}/apply/")
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    assert CurrencyMapping.objects.get().currency == "USD"
    again = client.post(f"/api/v1/mappings/uploads/{upload_id}/apply/")
    assert again.status_code == 409
    discard = client.post(f"/api/v1/mappings/uploads/{refused.json()['id']}/discard/")
    assert discard.status_code == 409  # a refused upload is not waiting
    assert MappingUpload.objects.count() == 2
    assert {"mapping_upload.preview", "mapping_upload.apply"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


# -- audit (reconciliation: tests/api/test_reconciliation.py) ------------------------------


def test_audit_log_filter_and_csv_export(api, connections):
    from audit.services import audit_record

    audit_record(actor=None, action="mapping.create", target=("mappings.currencymapping", 1))
    audit_record(actor=None, action="=cmd|' /C calc'!A0", target=("x", 2))
    client = api("admin")

    listed = client.get("/api/v1/audit/", {"action": "mapping.create"}).json()["results"]
    csv = b"".join(client.get("/api/v1/audit/", {"export": "csv"}).streaming_content).decode()

    assert [e["object_id"] for e in listed] == ["1"]
    assert csv.splitlines()[0].startswith("at,actor_label,action")
    assert "'=cmd" in csv  # formula-guarded
    assert api("controller").get("/api/v1/audit/").status_code == 403
