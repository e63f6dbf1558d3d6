"""API permissions: the same role permissions (accounts/roles.py) the pages check."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts import roles


def any_of(*perms: str) -> type[BasePermission]:
    """A permission class satisfied by any one of ``perms``."""

    class AnyOf(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and any(user.has_perm(p) for p in perms))

    AnyOf.__name__ = "AnyOf_" + "_".join(p.split(".")[-1] for p in perms)
    return AnyOf


ReadQueue = any_of(roles.WORK_EXCEPTION_QUEUE, roles.VIEW_REPORTS)
WorkQueue = any_of(roles.WORK_EXCEPTION_QUEUE)
ReadRuns = any_of("sync.view_syncrun")
# A run's records name documents of every project: controllers and integration admins (who
# see every project) hold this permission, project managers do not.
ReadRunRecords = any_of("sync.view_syncrunrecord")
ManageConnections = any_of(roles.MANAGE_CONNECTIONS)
ManageMappings = any_of(roles.MANAGE_MAPPINGS)
# As the PM reports (reconciliation.report_selectors.can_view): PMs read their projects,
# controllers and integration admins every project.
ReadReports = any_of(roles.VIEW_REPORTS, roles.WORK_EXCEPTION_QUEUE, roles.MANAGE_CONNECTIONS)
ReadAudit = any_of("audit.view_auditentry")
