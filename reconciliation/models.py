"""Reconciliation runs and the per-project totals they store (read by the PM reports).

A run compares every bound record of one ERP connection on both sides, looks for ERP bills
without a Procore source, opens / auto-resolves RECONCILIATION_DRIFT items through the engine's
exception services, and stores one ProjectTotals row per project and currency: committed,
billed, paid and retained as Procore says and as the ERP says, "as of" the run.
"""

from __future__ import annotations

from django.db import models

from sync.models import Connection


class ReconStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    LOCKED = "locked", "Skipped: another reconciliation is running"


class ReconciliationRun(models.Model):
    connection = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="reconciliation_runs"
    )
    trigger = models.CharField(max_length=30, default="manual")
    status = models.CharField(
        max_length=12, choices=ReconStatus.choices, default=ReconStatus.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The moment both sides were read from: what the PM report prints as "as of".
    as_of = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)  # projects to compare
    done = models.PositiveIntegerField(default=0)
    compared = models.PositiveIntegerField(default=0)  # bound records compared
    drifts_open = models.PositiveIntegerField(default=0)  # drifts seen by this run
    drifts_opened = models.PositiveIntegerField(default=0)  # new items
    drifts_resolved = models.PositiveIntegerField(default=0)  # items whose drift disappeared
    unbound_procore = models.PositiveIntegerField(default=0)
    unbound_erp = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["connection", "started_at"])]

    def __str__(self) -> str:
        return f"reconciliation {self.pk} of {self.connection_id} ({self.status})"


class ProjectTotals(models.Model):
    """One project's figures in one currency, both sides, as of a reconciliation run."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="totals")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    procore_project_id = models.CharField(max_length=64)
    project_name = models.CharField(max_length=200, blank=True, default="")
    currency = models.CharField(max_length=3)
    as_of = models.DateTimeField()
    committed_procore = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    committed_erp = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    billed_procore = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    billed_erp = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    paid_procore = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    paid_erp = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    retained_procore = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    retained_erp = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "procore_project_id", "currency"], name="totals_once_per_run"
            )
        ]
        indexes = [models.Index(fields=["connection", "procore_project_id", "as_of"])]

    def __str__(self) -> str:
        return f"{self.project_name or self.procore_project_id} {self.currency} as of {self.as_of}"

    FIGURES = ("committed", "billed", "paid", "retained")

    def variance(self, figure: str):
        return getattr(self, f"{figure}_procore") - getattr(self, f"{figure}_erp")


# The PM reports' figures (per project and per document) live in their own module.
from reconciliation.figures_models import DocumentFigures, ProjectFigures  # noqa: E402, F401
