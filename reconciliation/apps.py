from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    """Nightly (and on demand) comparison of both systems: drift items and per-project totals."""

    name = "reconciliation"
