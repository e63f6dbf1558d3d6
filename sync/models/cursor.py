"""Cursor: where incremental polling resumes, per connection and object type."""

from __future__ import annotations

from django.db import models

from sync.models.connection import Connection


class Cursor(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="cursors")
    object_type = models.CharField(max_length=40)
    position = models.CharField(max_length=200, blank=True, default="")
    watermark = models.DateTimeField(null=True, blank=True)  # updated_at of the newest record
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_type"], name="cursor_unique_per_flow"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} cursor at {self.watermark or self.position or 'start'}"
