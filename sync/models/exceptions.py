"""The exception queue's model: a Change (or a failed one) waiting for a person.

It belongs to the engine, not the UI (DESIGN.md §4): the engine opens, auto-resolves and
re-evaluates items; the controller queue (exceptions_ui) reads them and calls
``sync.services.exceptions``. The filter fields are denormalised copies so a queue of a
million rows filters on indexed columns without joins.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sync.models.change import Change
from sync.models.connection import Connection


class ItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval", "Awaiting second approval"
    RESOLVED = "resolved", "Resolved"
    AUTO_RESOLVED = "auto_resolved", "Resolved automatically"
    REJECTED = "rejected", "Rejected"
    DEAD_LETTER = "dead_letter", "Failed (dead letter)"


# Items a person still has to act on.
ACTIVE_STATUSES = (
    ItemStatus.OPEN,
    ItemStatus.AWAITING_SECOND_APPROVAL,
    ItemStatus.DEAD_LETTER,
)


class ExceptionItem(models.Model):
    change = models.OneToOneField(
        Change, null=True, blank=True, on_delete=models.SET_NULL, related_name="item"
    )
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="items")
    object_type = models.CharField(max_length=40)
    procore_id = models.CharField(max_length=64)
    status = models.CharField(max_length=30, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    reason_code = models.CharField(max_length=40)
    explanation = models.TextField(blank=True, default="")
    fix = models.CharField(max_length=200, blank=True, default="")
    # Reason-specific facts: the three-way diff, the missing mapping, the suggested match,
    # the connector error with its masked request/response.
    details = models.JSONField(default=dict, blank=True)
    # A missing mapping this item waits for (re-evaluated when mappings.events reports it).
    blocked_table = models.CharField(max_length=30, blank=True, default="")
    blocked_key = models.CharField(max_length=300, blank=True, default="")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exception_items",
    )
    # Denormalised filter fields.
    subsidiary = models.CharField(max_length=64, blank=True, default="")
    procore_project_id = models.CharField(max_length=64, blank=True, default="")
    project_name = models.CharField(max_length=200, blank=True, default="")
    vendor = models.CharField(max_length=64, blank=True, default="")
    vendor_name = models.CharField(max_length=200, blank=True, default="")
    document_number = models.CharField(max_length=100, blank=True, default="")
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "opened_at"]),
            models.Index(fields=["status", "connection", "opened_at"]),
            models.Index(fields=["status", "reason_code"]),
            models.Index(fields=["status", "subsidiary"]),
            models.Index(fields=["status", "procore_project_id"]),
            models.Index(fields=["status", "vendor"]),
            models.Index(fields=["status", "object_type"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["connection", "object_type", "procore_id", "status"]),
            models.Index(fields=["connection", "blocked_table", "blocked_key", "status"]),
            # The queue's keyset pages: a reason tab sorted by age, a tab sorted by amount.
            models.Index(
                fields=["status", "reason_code", "opened_at"], name="sync_item_reason_age"
            ),
            models.Index(fields=["status", "amount"], name="sync_item_status_amount"),
            # A reason chip sorted by amount (the age sort has sync_item_reason_age).
            models.Index(
                fields=["status", "reason_code", "amount"], name="sync_item_reason_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason_code} on {self.object_type} {self.procore_id} ({self.status})"


class ExceptionEvent(models.Model):
    """Append-only: who did what to an item, when, with the before/after of what changed."""

    item = models.ForeignKey(ExceptionItem, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    note = models.TextField(blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["item", "at"])]

    def __str__(self) -> str:
        return f"{self.action} on item {self.item_id}"
