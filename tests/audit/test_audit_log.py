"""The audit log: append-only, written by the services with who/where, readable and
exportable by admins only."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.urls import reverse

from audit.models import AppendOnly, AuditEntry
from audit.services import audit_record
from sync.models import Connection, Kind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_entries_cannot_be_changed_or_deleted():
    entry = audit_record(actor=None, action="x.y", target=("thing", 1), after={"a": 1})

    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.update(action="z")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()


@pytest.mark.skipif(db.vendor != "postgresql", reason="the database trigger is PostgreSQL's")
def test_postgres_refuses_raw_updates():
    from django.db import DatabaseError, transaction

    audit_record(actor=None, action="x.y")
    with pytest.raises(DatabaseError), transaction.atomic(), db.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET action = 'forged'")


def test_deleting_a_user_keeps_their_entries():
    user = UserFactory(username="gone")
    audit_record(actor=user, action="x.y")

    user.delete()

    assert AuditEntry.objects.get().actor_label == "gone"


def test_a_page_request_records_who_where_and_the_request_id(client, integration_admin):
    client.force_login(integration_admin)
    procore = Connection.objects.create(name="P", kind=Kind.PROCORE)

    response = client.post(
        reverse("admin:sync_connection_change", args=[procore.pk]),
        {"name": "Procore (renamed)", "settings": "{}", "directions": "{}", "policies": "{}"},
        HTTP_X_REQUEST_ID="req-12345678",
        REMOTE_ADDR="10.1.2.3",
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="connection.update")
    assert entry.actor_label == "ia" and entry.source == "admin"
    assert entry.request_id == "req-12345678" and entry.ip == "10.1.2.3"
    assert entry.before["name"] == "P" and entry.after["name"] == "Procore (renamed)"
    assert response["X-Request-ID"] == "req-12345678"


def test_admins_filter_and_export_csv_but_cannot_edit(client, integration_admin, controller):
    audit_record(actor=integration_admin, action="mapping.create", target=("m", 1))
    audit_record(actor=integration_admin, action="exception.approve", target=("e", 2))
    client.force_login(integration_admin)

    listing = client.get(reverse("admin:audit_auditentry_changelist"), {"action": "mapping.create"})
    export = client.get(reverse("admin:audit_export_csv"), {"action": "mapping.create"})
    entry = AuditEntry.objects.first()
    delete = client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"})

    assert listing.status_code == 200 and "Export CSV" in listing.content.decode()
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 2 and "mapping.create" in lines[1]
    assert delete.status_code == 403 and AuditEntry.objects.count() == 2
    client.force_login(controller)
    assert client.get(reverse("admin:audit_export_csv")).status_code in (302, 403)
