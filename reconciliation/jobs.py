"""django-q2 jobs of reconciliation (stable dotted names: ``reconciliation.jobs.<name>``)."""

from __future__ import annotations

from typing import Any


def reconcile_connection(connection_id: int, trigger: str = "schedule") -> dict[str, Any]:
    from reconciliation.services import reconcile_connection as run

    result = run(connection_id=int(connection_id), trigger=trigger)
    return {"run": result.pk, "status": result.status, "drifts": result.drifts_open}


def reconcile_all(trigger: str = "nightly") -> list[dict[str, Any]]:
    """Every ERP connection paired with Procore; one connection failing does not stop the
    others (its run records the error)."""
    from reconciliation.services import reconcile_connection as run
    from sync.models import Connection, ConnectionStatus

    out = []
    erps = Connection.objects.filter(
        kind__in=("netsuite", "quickbooks"), procore_connection__isnull=False
    ).exclude(status__in=(ConnectionStatus.DISABLED, ConnectionStatus.NEEDS_REAUTH))
    for conn in erps:
        try:
            result = run(connection_id=conn.pk, trigger=trigger)
            out.append({"connection": conn.pk, "run": result.pk, "status": result.status})
        except Exception as exc:  # noqa: BLE001 - recorded on the run; go on with the next
            out.append({"connection": conn.pk, "error": f"{type(exc).__name__}: {exc}"})
    return out
