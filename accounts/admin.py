from django.contrib import admin

from accounts.models import ProjectAccess


@admin.register(ProjectAccess)
class ProjectAccessAdmin(admin.ModelAdmin):
    list_display = ("user", "procore_project_id", "created_at")
    list_filter = ("user",)
    search_fields = ("user__username", "procore_project_id")
