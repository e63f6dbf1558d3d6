"""Reads for the PM reports (next issue): the latest totals per project, with their "as of"."""

from __future__ import annotations

from reconciliation.models import ProjectTotals, ReconciliationRun, ReconStatus


def latest_run(*, connection_id: int) -> ReconciliationRun | None:
    return (
        ReconciliationRun.objects.filter(connection_id=connection_id, status=ReconStatus.SUCCEEDED)
        .order_by("-started_at", "-pk")
        .first()
    )


def latest_totals(*, connection_id: int):
    run = latest_run(connection_id=connection_id)
    if run is None:
        return ProjectTotals.objects.none()
    return run.totals.order_by("project_name", "currency")
