"""The audit log: one append-only row per action that changed data.

Rows are written by ``audit.services.audit_record`` and never changed: the model refuses a
second save and deletes, the queryset refuses bulk updates and deletes, the admin is read
only, and on PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE in the database
itself. The actor is kept by id *and* name without a foreign-key constraint, so deleting a
user neither touches nor loses their history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    """An audit row was about to be changed or deleted."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("audit entries are append-only")

    def delete(self):
        raise AppendOnly("audit entries are append-only")


class Source(models.TextChoices):
    WEB = "web", "Web pages"
    API = "api", "API"
    ADMIN = "admin", "Admin site"
    SYSTEM = "system", "System (jobs, commands)"


class AuditEntry(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField("actor", max_length=150, blank=True, default="")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_repr = models.CharField("object", max_length=200, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SYSTEM)
    request_id = models.CharField(max_length=64, blank=True, default="")
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        default_permissions = ("view",)
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"]),
            models.Index(fields=["action", "at"]),
            models.Index(fields=["actor", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label or 'system'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries are append-only")
