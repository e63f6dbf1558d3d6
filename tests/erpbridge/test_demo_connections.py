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


@pytest.mark.django_db(transaction=True)
def test_demo_seed_then_the_queued_chain_syncs_both_erps_and_reconciles(served, caplog):
    """What `make demo` does after the sandboxes start: connect, seed, then the chain the
    qcluster would run (full resync, then reconciliation), here run in-process."""
    from django_q.models import Schedule

    from mappings.models import CostCodeMapping
    from reconciliation.models import ReconciliationRun
    from sync.models import Binding, ExceptionItem, SyncRun

    caplog.set_level("WARNING")
    ids_file, boxes = served
    app_url = "http://127.0.0.1:9"  # nothing listens: webhook deliveries fail, polling covers
    call_command("demo_connections", ids_file=str(ids_file), app_url=app_url)
    call_command("demo_seed", ids_file=str(ids_file), app_url=app_url)

    erps = list(Connection.objects.filter(kind__in=(Kind.NETSUITE, Kind.QUICKBOOKS)))
    assert len(erps) == 2
    assert all(CostCodeMapping.objects.filter(connection=c).exists() for c in erps)
    assert {"reconciliation-nightly", *(f"poll-{c.pk}" for c in erps)} <= set(
        Schedule.objects.values_list("name", flat=True)
    )
    # Tests run tasks inline (Q_CLUSTER sync): the chain ran, the resync before the
    # reconciliation, so each reconciliation read what the resync had left.
    for conn in erps:
        resync = SyncRun.objects.filter(connection=conn, trigger="full_resync")
        assert resync.exists() and not resync.filter(finished_at=None).exists()
        recon = ReconciliationRun.objects.filter(connection=conn, trigger="demo").get()
        assert recon.started_at >= max(r.finished_at for r in resync)

    for conn in erps:
        assert Binding.objects.filter(connection=conn, object_type="commitment").exists()
        run = ReconciliationRun.objects.filter(connection=conn).latest("pk")
        assert run.status == "succeeded", run.error
    # The planted gaps wait for a controller; nothing failed on a duplicate origin_id.
    reasons = set(ExceptionItem.objects.values_list("reason_code", flat=True))
    assert {"UNMAPPED_COST_CODE", "UNKNOWN_VENDOR"} <= reasons
    assert "duplicate_origin_id" not in caplog.text
    assert "write-back after binding" not in caplog.text
    # Two ERPs fed by one Procore company: each commitment's origin names its own ERP.
    procore = boxes["procore"]
    origins = [c["origin_id"] for c in procore.store.all("commitments") if c.get("origin_id")]
    assert len(origins) == len(set(origins)) > 0
    assert {o.split(":")[0] for o in origins} == {"netsuite", "quickbooks"}
