"""Webhooks end to end: the sandboxes' outbox posts into Django; deliveries are recorded,
de-duplicated and turned into targeted syncs; refused and malformed ones are recorded too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from sync.models import Binding, Change, SyncRun, Verdict, WebhookDelivery
from sync.webhooks.install import webhook_secret_set
from sync.webhooks.senders import mask_headers
from tests.sync.engine_support import WORLDS
from tests.sync.trigger_support import django_sender, install_procore_hook, post, wire

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request, monkeypatch):
    w = WORLDS[request.param]()
    wire(monkeypatch, w)
    return w


def _edit_first_line(world, pid: str, amount: str) -> None:
    line = world.procore.scoped("commitment_line_items", int(pid))[0]
    world.procore.person_edit_commitment(int(pid), line_id=int(line["id"]), amount=amount)


def test_a_procore_change_arrives_by_webhook_and_syncs_just_that_record(world, client):
    install_procore_hook(world)
    pid = world.new_commitment("SC-W-100", ("1000.00", "2000.00"))
    world.procore.deliver(django_sender(client))
    deliveries = WebhookDelivery.objects.filter(connection=world.procore_conn)
    assert deliveries.filter(verdict=Verdict.PROCESSED).exists()
    binding = Binding.objects.get(object_type="commitment", procore_id=pid)
    runs = SyncRun.objects.filter(trigger="webhook", procore_id=pid)
    assert runs.exists() and all(r.procore_id == pid for r in runs)
    assert binding.erp_id
    # Our write-back to Procore (origin_id) comes back as a webhook: an echo, dropped.
    world.procore.deliver(django_sender(client))
    assert deliveries.filter(verdict=Verdict.ECHO).exists()
    echo = deliveries.filter(verdict=Verdict.ECHO).first()
    assert "echo of our own write" in echo.error


def test_replays_duplicates_and_out_of_order_deliveries_write_once(world, client):
    install_procore_hook(world)
    world.procore.faults.update({"webhook_duplicate_rate": 1.0, "webhook_reorder": True})
    pid = world.new_commitment("SC-W-200", ("1500.00", "500.00"))
    sent = []

    def recording(url, headers, body):
        sent.append((url, headers, body))
        return django_sender(client)(url, headers, body)

    world.procore.deliver(recording)
    writes = world.writes()
    pos = [po for po in world.erp_pos() if (po.get("tranId") or po.get("DocNumber")) == "SC-W-200"]
    assert len(pos) == 1
    dupes = WebhookDelivery.objects.filter(connection=world.procore_conn, verdict=Verdict.DUPLICATE)
    assert dupes.exists()
    # A replay of every delivery, in reverse order: recorded as duplicates, nothing written.
    for url, headers, body in reversed(sent):
        assert django_sender(client)(url, headers, body) == 200
    assert world.writes() == writes
    assert Change.objects.filter(procore_id=pid).count() == 1


def test_bad_secret_is_refused_401_and_recorded(world, client):
    install_procore_hook(world)
    url = f"/webhooks/procore/{world.procore_conn.pk}/"
    body = json.dumps({"id": 1, "resource_name": "Projects", "resource_id": 5}).encode()
    response = post(client, url, body, HTTP_AUTHORIZATION="Bearer wrong-secret-value")
    assert response.status_code == 401
    row = WebhookDelivery.objects.get(verdict=Verdict.UNAUTHORISED)
    assert row.headers["Authorization"].startswith("…") and "wrong-secret" not in json.dumps(
        row.headers
    )
    assert not SyncRun.objects.exists()


def test_malformed_bodies_get_400_and_are_recorded(world, client):
    secret = install_procore_hook(world) and world.procore_conn.secrets["webhook_authorization"]
    url = f"/webhooks/procore/{world.procore_conn.pk}/"
    assert post(client, url, b"{not json", HTTP_AUTHORIZATION=secret).status_code == 400
    assert post(client, url, b'{"id": 3}', HTTP_AUTHORIZATION=secret).status_code == 400
    assert WebhookDelivery.objects.filter(verdict=Verdict.MALFORMED).count() == 2


def test_unknown_connection_is_404(client):
    assert post(client, "/webhooks/procore/999999/", b"{}").status_code == 404
    assert post(client, "/webhooks/netsuite/999999/", b"{}").status_code == 404


def _sign(body: bytes, token: str) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_quickbooks_signed_notifications_in_both_formats(fmt, client, monkeypatch):
    world = WORLDS["quickbooks"]()
    wire(monkeypatch, world)
    webhook_secret_set(connection=world.erp_conn, value="verifier-token-123")
    url = f"http://testserver/webhooks/quickbooks/{world.erp_conn.pk}/"
    world.erp.register_webhook(url, "verifier-token-123", fmt)
    pid = world.new_commitment("SC-Q-100")
    world.run("commitments", pid)
    binding = Binding.objects.get(object_type="commitment", procore_id=pid)
    world.erp.edit_purchase_order(binding.erp_id, {"Memo": "changed by hand"})
    done = world.erp.deliver(django_sender(client))
    assert done, "the sandbox delivered"
    row = WebhookDelivery.objects.filter(connection=world.erp_conn).latest("pk")
    assert row.verdict == Verdict.PROCESSED, row.error
    assert any(e["id"] == binding.erp_id for e in row.events)
    # The same body with a wrong signature: 401 and a row.
    body = row.body.encode()
    response = post(
        client, f"/webhooks/quickbooks/{world.erp_conn.pk}/", body, HTTP_INTUIT_SIGNATURE="AAAA"
    )
    assert response.status_code == 401
    good = post(
        client,
        f"/webhooks/quickbooks/{world.erp_conn.pk}/",
        body,
        HTTP_INTUIT_SIGNATURE=_sign(body, "verifier-token-123"),
    )
    assert good.status_code == 200 and good.json()["status"] == "duplicate"


def test_intuit_golden_vector_verifies():
    from sync.models import Connection, Kind
    from sync.webhooks.senders import authenticate

    body = (
        b'{"eventNotifications":[{"realmId":"1269959970","dataChangeEvent":{"entities":[{"name":'
        b'"Vendor","id":"40","operation":"Update","lastUpdated":"2016-10-05T03:09:04.000Z"},'
        b'{"name":"Customer","id":"43","operation":"Create","lastUpdated":'
        b'"2016-10-05T03:07:04.000Z"}]}}]}'
    )
    conn = Connection(kind=Kind.QUICKBOOKS, name="x")
    conn.secrets_encrypted = json.dumps(
        {"webhook_verifier_token": "00faeec4-08d0-4996-bb37-698ae19f0149"}
    )
    authenticate(
        conn, {"intuit-signature": "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM="}, body, ""
    )


def test_netsuite_secret_and_allow_list(client, monkeypatch):
    world = WORLDS["netsuite"]()
    wire(monkeypatch, world)
    webhook_secret_set(connection=world.erp_conn, value="ns-shared-secret")
    settings = {**world.erp_conn.settings, "webhook_allowed_ips": ["10.0.0.0/8"]}
    type(world.erp_conn).objects.filter(pk=world.erp_conn.pk).update(settings=settings)
    world.erp.events.register(
        f"http://testserver/webhooks/netsuite/{world.erp_conn.pk}/", "ns-shared-secret"
    )
    pid = world.new_commitment("SC-N-100")
    world.run("commitments", pid)
    world.erp.deliver(django_sender(client, remote_addr="192.0.2.7"))
    refused = WebhookDelivery.objects.filter(connection=world.erp_conn)
    assert refused.exists() and set(refused.values_list("verdict", flat=True)) == {
        Verdict.UNAUTHORISED
    }
    assert "allow-list" in refused.first().error
    # From an allowed address the pending (retried) deliveries go through.
    world.erp.deliver(django_sender(client, remote_addr="10.1.2.3"))
    assert WebhookDelivery.objects.filter(
        connection=world.erp_conn, verdict=Verdict.PROCESSED
    ).exists()
    # A wrong secret from an allowed address is refused as well.
    body = json.dumps(
        {"eventId": "x1", "recordType": "purchaseOrder", "recordId": "1", "eventType": "edit"}
    ).encode()
    response = client.generic(
        "POST",
        f"/webhooks/netsuite/{world.erp_conn.pk}/",
        data=body,
        content_type="application/json",
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_ERPBRIDGE_SECRET="nope",
    )
    assert response.status_code == 401


def test_secrets_are_masked_in_recorded_headers():
    masked = mask_headers({"Authorization": "Bearer abcdefghijkl", "X-Other": "plain"})
    assert masked == {"Authorization": "…ijkl", "X-Other": "plain"}
