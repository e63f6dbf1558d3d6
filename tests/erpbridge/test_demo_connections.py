"""The demo wiring: `manage.py demo_connections` against sandboxes served on loopback."""

import json

import pytest
from django.core.management import call_command

from sandboxes.__main__ import build, seed_all
from sandboxes.server import SandboxServer
from sync.clients import connection_client
from sync.models import Connection, ConnectionStatus, Kind


@pytest.fixture
def served(tmp_path):
    boxes = build(seed=42, rate_scale=1000)
    seeded = seed_all(boxes, 42, "demo")
    server = SandboxServer()
    urls = {name: server.add(box, 0) for name, box in boxes.items()}
    server.start()
    ids_file = tmp_path / "sandbox-ids.json"
    ids_file.write_text(json.dumps({"urls": urls, **seeded}, default=str))
    yield ids_file, boxes
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_demo_connections_connects_all_three_and_is_repeatable(served):
    ids_file, boxes = served
    call_command("demo_connections", ids_file=str(ids_file), app_url="http://127.0.0.1:8000")
    call_command("demo_connections", ids_file=str(ids_file), app_url="http://127.0.0.1:8000")

    assert Connection.objects.count() == 3
    qbo = Connection.objects.get(kind=Kind.QUICKBOOKS)
    assert qbo.status == ConnectionStatus.OK and qbo.token["refresh_token"]
    assert qbo.procore_connection.kind == Kind.PROCORE
    procore = connection_client(Connection.objects.get(kind=Kind.PROCORE))
    assert len(list(procore.projects())) >= 4
    netsuite = connection_client(Connection.objects.get(kind=Kind.NETSUITE))
    names = {row["name"] for row in netsuite.suiteql("SELECT id, name FROM subsidiary")}
    assert {"Summit Builders US Inc.", "Summit Builders Canada Ltd."} <= names
    assert connection_client(qbo).company_info()
    assert all(c.status == ConnectionStatus.OK for c in Connection.objects.all())
