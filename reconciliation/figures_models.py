"""What the PM reports read: per project and per document, both sides, as of a run.

ProjectTotals (models.py) keeps the run's own per-project comparison. The reports need more:
each commitment, requisition and ERP-only document with both sides' figures (the project
page and its drill-down), and per project the facts the portfolio filters on (subsidiary,
status) with figures that add up exactly to its documents. Both are written once per project
by ``reconciliation.figures.figures_store`` while the run has both sides in memory, so a
report never calls Procore or the ERP.

Committed is original + approved change orders (Procore's ``approved_change_orders``), the
PM's definition; billed is the work claimed (retainage not deducted); paid what was paid;
retained the retainage held to date less what was released.
"""

from __future__ import annotations

from django.db import models

from sync.models import Connection

FIGURES = ("committed", "billed", "paid", "retained")


def _money():
    return models.DecimalField(max_digits=18, decimal_places=2, default=0)


class FiguresBase(models.Model):
    committed_procore = _money()
    committed_erp = _money()
    billed_procore = _money()
    billed_erp = _money()
    paid_procore = _money()
    paid_erp = _money()
    retained_procore = _money()
    retained_erp = _money()

    class Meta:
        abstract = True

    def variance(self, figure: str):
        return getattr(self, f"{figure}_procore") - getattr(self, f"{figure}_erp")

    def differs(self) -> bool:
        return any(self.variance(f) for f in FIGURES)


class ProjectFigures(FiguresBase):
    """One project in one currency as of one run (the portfolio's row)."""

    run = models.ForeignKey(
        "reconciliation.ReconciliationRun", on_delete=models.CASCADE, related_name="project_figures"
    )
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    procore_project_id = models.CharField(max_length=64)
    project_name = models.CharField(max_length=200, blank=True, default="")
    project_number = models.CharField(max_length=60, blank=True, default="")
    active = models.BooleanField(default=True)
    subsidiary_id = models.CharField(max_length=40, blank=True, default="")
    currency = models.CharField(max_length=3)
    as_of = models.DateTimeField()
    # Any of the four figures differs (stored: the "only with variances" filter is indexed).
    has_variance = models.BooleanField(default=False)
    documents = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "procore_project_id", "currency"], name="project_figures_once"
            )
        ]
        indexes = [models.Index(fields=["procore_project_id", "run"])]

    def __str__(self) -> str:
        return f"{self.project_name or self.procore_project_id} {self.currency} (run {self.run_id})"


class DocKind(models.TextChoices):
    COMMITMENT = "commitment", "Commitment"
    REQUISITION = "requisition", "Pay application"
    ERP_PO = "erp_po", "ERP purchase order only"
    ERP_BILL = "erp_bill", "ERP bill only"


class DocumentFigures(FiguresBase):
    """One document pair as of one run: a Procore commitment or requisition with the ERP
    document it is bound to (or matched by number), or an ERP document nothing in Procore
    accounts for. A commitment row carries committed; a requisition row billed / paid /
    retained; the project's figures are the sum of its rows."""

    run = models.ForeignKey(
        "reconciliation.ReconciliationRun", on_delete=models.CASCADE, related_name="documents"
    )
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    procore_project_id = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=12, choices=DocKind.choices)
    procore_id = models.CharField(max_length=64, blank=True, default="")
    # The commitment a requisition bills against (its own id on a commitment row).
    commitment_id = models.CharField(max_length=64, blank=True, default="")
    number = models.CharField(max_length=100, blank=True, default="")
    title = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=40, blank=True, default="")
    vendor_id = models.CharField(max_length=64, blank=True, default="")  # Procore's
    vendor_name = models.CharField(max_length=200, blank=True, default="")
    erp_vendor_id = models.CharField(max_length=64, blank=True, default="")
    erp_type = models.CharField(max_length=40, blank=True, default="")
    erp_id = models.CharField(max_length=64, blank=True, default="")
    erp_number = models.CharField(max_length=100, blank=True, default="")
    # "binding" (synced), "number" (an unbound ERP copy with the same number), "" (none).
    matched_by = models.CharField(max_length=10, blank=True, default="")
    has_variance = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["run", "procore_project_id", "kind"]),
            models.Index(fields=["run", "has_variance"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number or self.procore_id or self.erp_id} (run {self.run_id})"
