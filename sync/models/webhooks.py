"""WebhookDelivery: one POST a sender made to /webhooks/, kept whatever its verdict.

Recorded before anything else happens, so a refused signature, a malformed body or a dropped
echo leaves a row an admin can read. ``event_id`` is the sender's own id for the delivery
(Procore ``id``/``ulid``, NetSuite ``eventId``, Intuit CloudEvents ``id`` or a hash of a legacy
notification's body): unique per connection among accepted rows, so a replay or a duplicate
delivery is answered 200 and recorded as a duplicate without enqueuing anything.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sync.models.connection import Connection


class Verdict(models.TextChoices):
    ACCEPTED = "accepted", "Accepted (a job will sync it)"
    DUPLICATE = "duplicate", "Duplicate of an earlier delivery"
    ECHO = "echo", "Echo of our own write (dropped)"
    IGNORED = "ignored", "Nothing to sync"
    UNAUTHORISED = "unauthorised", "Refused: bad signature or secret"
    MALFORMED = "malformed", "Refused: malformed body"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Processing failed"


class WebhookDelivery(models.Model):
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    source = models.CharField(max_length=20)  # the connection's kind at receipt
    event_id = models.CharField(max_length=120, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    remote_addr = models.CharField(max_length=64, blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)  # secrets masked
    body = models.TextField(blank=True, default="")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    error = models.TextField(blank=True, default="")
    # What the delivery names: [{"kind": "procore"|"erp", "type": ..., "id": ...}]
    events = models.JSONField(default=list, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "event_id"],
                condition=Q(verdict__in=["accepted", "processed", "failed", "echo", "ignored"]),
                name="webhook_event_once",
            )
        ]
        indexes = [models.Index(fields=["connection", "received_at"])]

    def __str__(self) -> str:
        return f"{self.source} delivery {self.event_id or self.pk} ({self.verdict})"
