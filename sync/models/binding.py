"""A Binding: one Procore record linked to one ERP record, unique both ways (DESIGN.md §2).

It also keeps what we last wrote: the canonical payload's fingerprint (to skip unchanged
records without an ERP call), the payload itself (the "last synced" column of the three-way
diff) and the ERP's version after our write (QBO SyncToken / NetSuite lastModifiedDate).
"""

from __future__ import annotations

from django.db import models

from sync.models.connection import Connection


class Binding(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="bindings")
    object_type = models.CharField(max_length=40)
    procore_id = models.CharField(max_length=64)
    # The Procore record this one hangs off (a revision's commitment, a CCO's commitment).
    parent_procore_id = models.CharField(max_length=64, blank=True, default="")
    erp_type = models.CharField(max_length=40)
    erp_id = models.CharField(max_length=64)
    erp_number = models.CharField(max_length=100, blank=True, default="")
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    erp_version = models.CharField(max_length=64, blank=True, default="")
    written_back_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_type", "procore_id"], name="binding_procore_unique"
            ),
            models.UniqueConstraint(
                fields=["connection", "object_type", "erp_id"], name="binding_erp_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["connection", "object_type", "parent_procore_id"]),
            # Bindings found by the ERP's id without the object type: the duplicate check's
            # candidates (erp_type), a payment's documents, an ERP webhook's records. The
            # unique index leads with the object type, so these searched the connection's
            # bindings one by one.
            models.Index(fields=["connection", "erp_id"], name="binding_conn_erp_id"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.procore_id} -> {self.erp_type} {self.erp_id}"
