from django.conf import settings
from django.db import models

from accounts.roles import CAPABILITIES


class Capability(models.Model):
    """Holds the area permissions ("accounts.view_reports", …); it has no table and no rows.

    Django attaches permissions to a model, and these belong to no product model.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = CAPABILITIES
        verbose_name_plural = "capabilities"

    def __str__(self) -> str:
        return "capability"


class ProjectAccess(models.Model):
    """Which Procore projects a project manager follows (their items in the exception queue,
    read only). Minimal on purpose: one row per (user, Procore project id); edited in the
    admin by integration admins. A later issue may grow it (roles per project, sync from
    Procore's project directory)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_access"
    )
    procore_project_id = models.CharField("Procore project id", max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "project access"
        verbose_name_plural = "project access"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "procore_project_id"], name="accounts_project_access_unique"
            )
        ]
        indexes = [models.Index(fields=["procore_project_id"])]

    def __str__(self) -> str:
        return f"{self.user} → Procore project {self.procore_project_id}"
