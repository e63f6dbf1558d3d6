"""Report rows built straight in the database (no sandbox): a connection, a finished run,
ProjectFigures and DocumentFigures."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from reconciliation.models import (
    DocumentFigures,
    ProjectFigures,
    ReconciliationRun,
    ReconStatus,
)
from sync.models import Connection, Kind


def make_run(name: str, projects, *, kind=Kind.NETSUITE, erp_gap: str = "10.00"):
    """``projects``: (procore project id, currency, committed in Procore); the ERP side is
    ``erp_gap`` lower, so every project has a committed variance."""
    conn = Connection.objects.create(name=name, kind=kind)
    now = timezone.now()
    run = ReconciliationRun.objects.create(
        connection=conn, status=ReconStatus.SUCCEEDED, as_of=now, finished_at=now
    )
    for pid, currency, amount in projects:
        amount = Decimal(amount)
        erp = amount - Decimal(erp_gap)
        ProjectFigures.objects.create(
            run=run,
            connection=conn,
            procore_project_id=pid,
            project_name=f"Project {pid}",
            currency=currency,
            as_of=now,
            committed_procore=amount,
            committed_erp=erp,
            has_variance=amount != erp,
            documents=1,
        )
        DocumentFigures.objects.create(
            run=run,
            connection=conn,
            procore_project_id=pid,
            currency=currency,
            kind="commitment",
            procore_id=f"c-{pid}",
            commitment_id=f"c-{pid}",
            number=f"SC-{pid}",
            title='=HYPERLINK("http://evil")',
            vendor_name="@vendor",
            committed_procore=amount,
            committed_erp=erp,
            has_variance=amount != erp,
        )
    return run
