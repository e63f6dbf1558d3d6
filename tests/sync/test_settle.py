"""The writer settles a group of written changes together (``sync.writer._settle``): the new
bindings in one INSERT (``Flow.bind_many``), the changes moved sending → sent in one
``executemany`` of conditional UPDATEs (``changes_mark_sent``), all in one transaction."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sync.engine import plan_record, prefetch
from sync.erp import Written
from sync.flows import flow_for
from sync.models import Binding, Change, ChangeState
from sync.services.changes import changes_claim, changes_mark_sent
from sync.services.runs import build_context
from sync.writer import _settle
from tests.sync.engine_support import WORLDS
from tests.sync.test_batches import fan_out, run_batches

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return WORLDS["netsuite"]()


def claimed(world, numbers: list[str]):
    """New commitments planned, stored and claimed as a batch does (prefetched first)."""
    pids = [world.new_commitment(number) for number in numbers]
    ctx = build_context(world.erp_conn, clients=world.clients, lookup=lambda c: world.lookup)
    flow = flow_for("commitments")
    prefetch(ctx, flow, pids)
    changes = [plan_record(ctx, flow, s).change for pid in pids for s in flow.fetch(ctx, pid)]
    assert changes_claim(changes=changes) == changes
    return ctx, flow, changes


def written(changes) -> list[tuple[Change, Written]]:
    return [(c, Written(f"90{i}", f"v{i}", f"PO-{i}")) for i, c in enumerate(changes)]


def statements(queries, start: str) -> list[str]:
    # An executemany is captured once, as "<n> times: <sql>".
    return [q["sql"] for q in queries if q["sql"].split(" times: ")[-1].startswith(start)]


def test_a_group_is_bound_in_one_insert_and_marked_sent_in_one_call(world):
    ctx, flow, changes = claimed(world, ["SC-ST-1", "SC-ST-2", "SC-ST-3"])

    with CaptureQueriesContext(connection) as queries:
        bindings = _settle(ctx, flow, written(changes))

    assert len(statements(queries.captured_queries, 'INSERT INTO "sync_binding"')) == 1
    assert len(statements(queries.captured_queries, 'UPDATE "sync_change"')) == 1
    assert [b.procore_id for b in bindings] == [c.procore_id for c in changes]
    rows = {b.procore_id: b for b in Binding.objects.filter(object_type="commitment")}
    for i, change in enumerate(changes):
        row = rows[change.procore_id]
        assert (row.erp_id, row.erp_version, row.erp_number) == (f"90{i}", f"v{i}", f"PO-{i}")
        assert row.fingerprint == change.fingerprint and row.pk == bindings[i].pk
        stored = Change.objects.get(pk=change.pk)
        assert stored.state == ChangeState.SENT and stored.erp_id == f"90{i}"
        assert stored.result == {"erp_id": f"90{i}", "version": f"v{i}", "number": f"PO-{i}"}
        assert stored.last_error is None
        assert stored.sent_at is not None and stored.sent_at.utcoffset().total_seconds() == 0


def test_a_change_no_longer_sending_is_left_as_it_is(world):
    _, _, changes = claimed(world, ["SC-ST-4", "SC-ST-5"])
    taken = changes[1]
    Change.objects.filter(pk=taken.pk).update(state=ChangeState.FAILED)  # recovery took it

    moved = changes_mark_sent([(c, Written("7")) for c in changes], at=timezone.now())

    assert moved == 1
    assert Change.objects.get(pk=changes[0].pk).state == ChangeState.SENT
    assert Change.objects.get(pk=taken.pk).state == ChangeState.FAILED
    assert Change.objects.get(pk=taken.pk).erp_id != "7"


def test_a_binding_made_since_the_prefetch_is_updated_not_duplicated(world):
    ctx, flow, changes = claimed(world, ["SC-ST-6", "SC-ST-7"])
    late = changes[0]
    Binding.objects.create(  # another run bound this record after the batch's prefetch
        connection=world.erp_conn,
        object_type="commitment",
        procore_id=late.procore_id,
        erp_type="purchaseOrder",
        erp_id="old",
    )

    _settle(ctx, flow, written(changes))

    for i, change in enumerate(changes):
        (row,) = Binding.objects.filter(object_type="commitment", procore_id=change.procore_id)
        assert row.erp_id == f"90{i}"
        assert Change.objects.get(pk=change.pk).state == ChangeState.SENT


def test_the_versions_concurrent_creates_left_out_are_filled_in_afterwards(world):
    # NetSuite creates sent concurrently do not read their version back (one request less
    # each); the batch reads the group's versions in one query and fills the bindings in.
    pids = [world.new_commitment(f"SC-ST-V{n}") for n in range(4)]
    queued: list = []
    fan_out(world, queued, batch=4)
    run_batches(world, queued)

    ctx = build_context(world.erp_conn, clients=world.clients, lookup=lambda c: world.lookup)
    for pid in pids:
        binding = Binding.objects.get(object_type="commitment", procore_id=pid)
        remote = ctx.erp.read(binding.erp_type, binding.erp_id)
        assert binding.erp_version and binding.erp_version == remote.version


def test_the_version_backfill_finds_each_binding_by_its_unique_index(world):
    # Each row's UPDATE must name (connection, object_type, erp_id): with erp_type alone in
    # place of the object type, SQLite scanned every binding of the connection per row.
    pids = [world.new_commitment(f"SC-ST-I{n}") for n in range(3)]
    queued: list = []
    fan_out(world, queued, batch=3)
    with CaptureQueriesContext(connection) as queries:
        run_batches(world, queued)
    backfills = statements(queries, 'UPDATE "sync_binding" SET "erp_version"')
    assert backfills  # one per batch
    for sql in backfills:
        assert '"object_type" = ' in sql and '"erp_id" = ' in sql
    sql = backfills[0]
    assert Binding.objects.filter(procore_id__in=pids).exclude(erp_version="").count() == 3
    if connection.vendor == "sqlite":
        statement = sql.split(" times: ")[-1]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", [1, 1, "commitment", "1", "x", ""])
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        # e.g. "SEARCH sync_binding USING INDEX sqlite_autoindex_sync_binding_2
        # (connection_id=? AND object_type=? AND erp_id=?)"; before, "(connection_id=?)".
        assert "object_type=? AND erp_id=?" in plan and "SCAN" not in plan, plan
