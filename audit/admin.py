"""The audit log in the admin: read only, filterable, exportable as CSV (the filtered view)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from audit.models import AuditEntry
from audit.selectors import audit_csv_lines


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "source", "ip")
    list_filter = ("action", "object_type", "source", ("at", admin.DateFieldListFilter))
    search_fields = ("actor_label", "object_id", "object_repr", "request_id", "note")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def get_urls(self):
        urls = super().get_urls()
        export = path(
            "export.csv", self.admin_site.admin_view(self.export_csv), name="audit_export_csv"
        )
        return [export, *urls]

    def export_csv(self, request):
        """The entries the changelist shows with the same filters and search, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        entries = changelist.get_queryset(request)
        response = StreamingHttpResponse(
            audit_csv_lines(entries), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
        return response
