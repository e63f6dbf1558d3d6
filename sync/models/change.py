"""A Change: one planned ERP write, stored before the remote call (DESIGN.md rule 4).

Its state says exactly where it stopped:

    planned ──► sending ──► sent
       │           ├──► failed (dead letter, replayable) ──► sending …
       ▼           └──► held (a conflict found while sending)
     held ──► approved ──► sending …
       └──► rejected
    planned / held / approved / failed ──► superseded (a newer version of the record)

Every move is a conditional UPDATE (``sync.services.changes``) whose row count proves it.
"""

from __future__ import annotations

from django.db import models

from sync.models.connection import Connection


class ChangeState(models.TextChoices):
    PLANNED = "planned", "Planned"
    HELD = "held", "Needs a person"
    APPROVED = "approved", "Approved"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


# States in which a change still waits to reach the ERP.
PENDING_STATES = (
    ChangeState.PLANNED,
    ChangeState.HELD,
    ChangeState.APPROVED,
    ChangeState.FAILED,
)


class Operation(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    VOID = "void", "Void"
    REVISE = "revise", "Revise"  # a separate revision document linked to the original
    LINK = "link", "Link"  # bind to an ERP record that exists already; nothing is written


class Change(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="changes")
    object_type = models.CharField(max_length=40)
    procore_id = models.CharField(max_length=64)
    operation = models.CharField(max_length=10, choices=Operation.choices)
    erp_type = models.CharField(max_length=40)
    erp_id = models.CharField(max_length=64, blank=True, default="")  # target, when known
    payload = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.CharField(max_length=120, unique=True)
    # The ERP version the write expects (SyncToken / lastModifiedDate) and, for revisions,
    # everything the writer needs besides the payload (revision number, parent binding...).
    expected_version = models.CharField(max_length=64, blank=True, default="")
    context = models.JSONField(default=dict, blank=True)
    reason_code = models.CharField(max_length=40, blank=True, default="")
    explanation = models.TextField(blank=True, default="")
    state = models.CharField(
        max_length=12, choices=ChangeState.choices, default=ChangeState.PLANNED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    run = models.ForeignKey(
        "sync.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["connection", "object_type", "procore_id", "state"]),
            models.Index(fields=["state", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.object_type} {self.procore_id} ({self.state})"
