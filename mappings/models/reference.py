"""A local copy of the records the mappings point at, read from each connection.

ERP connections: subsidiaries, currencies, accounts, classes, departments, locations, items,
vendors, customers (and NetSuite jobs). Procore connections: projects, cost codes, cost types,
vendors. Uploads and the admin validate references against it; the coverage view and the
vendor suggestions read it. Filled by `mappings.jobs.reference_cache_refresh`.
"""

from __future__ import annotations

from django.db import models


class ReferenceRecord(models.Model):
    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    remote_id = models.CharField(max_length=60)
    name = models.CharField(max_length=255, blank=True, default="")
    # A human code: account number, cost code, currency symbol, project number...
    code = models.CharField(max_length=100, blank=True, default="")
    subsidiary_ids = models.JSONField(default=list, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    tax_id = models.CharField(max_length=40, blank=True, default="")
    active = models.BooleanField(default=True)
    # How many documents (Procore commitments and their lines) use this record; see jobs.py.
    document_count = models.PositiveIntegerField(default=0)
    raw = models.JSONField(default=dict, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["connection", "kind", "code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "remote_id"], name="mappings_reference_unique"
            )
        ]
        indexes = [models.Index(fields=["connection", "kind", "code"])]

    def __str__(self) -> str:
        label = f"{self.code} {self.name}".strip() or self.remote_id
        return f"{self.kind} {self.remote_id}: {label}"
