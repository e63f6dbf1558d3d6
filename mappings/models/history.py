"""The change history of the mapping tables and the uploads that caused changes.

Written by the services (not by signals or save()), so bulk applies are recorded too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UploadStatus(models.TextChoices):
    PREVIEWED = "previewed", "Waiting for review"
    APPLIED = "applied", "Applied"
    DISCARDED = "discarded", "Discarded"
    REFUSED = "refused", "Refused (errors)"


class MappingUpload(models.Model):
    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=20)
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4)
    # The file itself, kept between preview and apply so any worker can apply it; cleared
    # once applied or discarded (the history keeps what changed).
    content = models.BinaryField(blank=True, default=b"")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=20, choices=UploadStatus.choices, default=UploadStatus.PREVIEWED
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # {"create": n, "update": n, "unchanged": n, "error": n, "rows": n}
    counts = models.JSONField(default=dict, blank=True)
    # What the preview page shows: file-level problems, warnings and the first rows of each
    # outcome (the full error list is rebuilt from the file when downloaded).
    preview = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.table}, {self.get_status_display()})"


class MappingChange(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin site"
        UPLOAD = "upload", "File upload"
        INLINE = "inline", "Exception queue"
        SUGGESTION = "suggestion", "Confirmed suggestion"
        API = "api", "API"
        SYSTEM = "system", "System"

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=20)
    row_id = models.BigIntegerField()
    key = models.JSONField(default=dict)
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=12, choices=Source.choices)
    upload = models.ForeignKey(
        MappingUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["table", "row_id"]),
            models.Index(fields=["connection", "table", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.table} #{self.row_id}"
