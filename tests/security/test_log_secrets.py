"""A full sync against each ERP sandbox, logs captured at DEBUG: no secret, token or private
key appears in the logs, nor in what the queue stores (error exchanges are masked)."""

from __future__ import annotations

import contextlib
import json
import logging

import pytest

from sync.models import Change, Connection, ExceptionItem
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db


def secrets_of(*connections: Connection) -> set[str]:
    found: set[str] = set()
    for conn in connections:
        conn.refresh_from_db()
        for value in conn.secrets.values():
            text = str(value)
            if "PRIVATE KEY" in text:
                # Every line of the key body: a log must not carry any part of it.
                found |= {line for line in text.splitlines() if line and "-----" not in line}
            elif len(text) >= 8:
                found.add(text)
        for name in ("access_token", "refresh_token"):
            token = (conn.token or {}).get(name)
            if token and len(str(token)) >= 8:
                found.add(str(token))
    return found


@pytest.mark.parametrize("kind", ["netsuite", "quickbooks"])
def test_a_full_sync_logs_no_secret(kind, caplog):
    caplog.set_level(logging.DEBUG)
    world = WORLDS[kind]()
    for flow in ("projects", "vendors"):
        world.run(flow)
    # A bad day: 5xx and a dropped write on the ERP, write-backs refused by Procore, then
    # every token refused: the retry, error and re-authorisation paths all run and log.
    world.erp.faults.update({"error_next": 2, "commit_then_drop_next": 1})
    world.procore.faults.update({"error_rate": 0.3, "seed": 7})
    world.run("commitments")
    world.procore.faults.update({"error_rate": 0.0})
    world.erp.faults.update({"revoke_tokens": True})
    with contextlib.suppress(Exception):  # may surface as an AuthError: its log is the point
        world.run("commitments")
    logging.getLogger("sync").warning("scan marker")  # the capture works at all

    secrets = secrets_of(world.procore_conn, world.erp_conn)
    stored = json.dumps(
        [list(Change.objects.values_list("last_error", "result"))]
        + [list(ExceptionItem.objects.values_list("details", flat=True))],
        default=str,
    )

    assert secrets, "the test found no secret to look for"
    assert caplog.records  # at least the marker: the capture works
    leaked = [s[:6] + "…" for s in secrets if s in caplog.text or s in stored]
    assert not leaked, f"secrets found in logs or stored errors: {leaked}"
