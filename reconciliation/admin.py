from django.contrib import admin

from reconciliation.models import ProjectTotals, ReconciliationRun


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "connection", "trigger", "status", "started_at", "as_of", "drifts_open")
    list_filter = ("status", "connection")
    readonly_fields = [f.name for f in ReconciliationRun._meta.fields]


@admin.register(ProjectTotals)
class ProjectTotalsAdmin(admin.ModelAdmin):
    list_display = ("project_name", "currency", "as_of", "committed_procore", "committed_erp")
    list_filter = ("connection", "currency")
    readonly_fields = [f.name for f in ProjectTotals._meta.fields]
