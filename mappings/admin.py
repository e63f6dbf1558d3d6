"""Django admin for every mapping table: search, filters, plain-language validation (the same
checks as uploads, against the reference cache), bulk actions, and links to the history.
Saves and deletes go through the services so every change is recorded."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from mappings import services
from mappings.models import (
    AccountRoleMapping,
    CostCodeMapping,
    CurrencyMapping,
    MappingChange,
    MappingUpload,
    ProjectMapping,
    ReferenceRecord,
    VendorMapping,
)
from mappings.specs import LIST_SEPARATOR, TABLE_OF_MODEL
from mappings.validation import ReferenceIndex, validate_row


class MappingForm(forms.ModelForm):
    """Runs the upload's row validation and reports each problem in plain words."""

    def clean(self):
        cleaned = super().clean()
        spec = TABLE_OF_MODEL[self._meta.model]
        connection = cleaned.get("connection")
        if connection is None:
            return cleaned
        row = services.rows._as_row(spec, {**cleaned})
        problems = validate_row(spec, row, ReferenceIndex.load(connection))
        if problems:
            raise ValidationError(problems)
        return cleaned


class SubsidiaryListField(forms.CharField):
    def prepare_value(self, value):
        if isinstance(value, list):
            return LIST_SEPARATOR.join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


class VendorForm(MappingForm):
    subsidiary_ids = SubsidiaryListField(
        required=False, help_text="NetSuite subsidiary ids separated by '|', e.g. 1|3."
    )

    class Meta:
        model = VendorMapping
        fields = ["connection", "procore_vendor_id", "erp_vendor_id", "subsidiary_ids", "notes"]


class MappingAdmin(admin.ModelAdmin):
    form = MappingForm
    list_select_related = ("connection",)
    readonly_fields = ("created_at", "updated_at", "history_link")
    actions = ["delete_with_history", "export_csv"]
    list_per_page = 100

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # QuerySet.delete would skip the history
        return actions

    @admin.display(description="History")
    def history_link(self, obj):
        if not obj.pk:
            return "-"
        spec = TABLE_OF_MODEL[type(obj)]
        url = reverse("mappings:history", args=[obj.connection_id, spec.name])
        return format_html('<a href="{}?row={}">Changes to this row</a>', url, obj.pk)

    def save_model(self, request, obj, form, change):
        spec = TABLE_OF_MODEL[type(obj)]
        values = {name: form.cleaned_data.get(name) for name in spec.column_names}
        values["notes"] = form.cleaned_data.get("notes", "")
        if change:
            services.mapping_update(obj=obj, values=values, user=request.user)
        else:
            created = services.mapping_create(
                table=spec.name,
                connection=form.cleaned_data["connection"],
                values=values,
                user=request.user,
            )
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.mapping_delete(obj=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                services.mapping_delete(obj=obj, user=request.user)

    @admin.action(
        description="Delete selected rows (recorded in the history)", permissions=["delete"]
    )
    def delete_with_history(self, request, queryset):
        count = queryset.count()
        self.delete_queryset(request, queryset)
        self.message_user(request, f"{count} row(s) deleted.", messages.SUCCESS)

    @admin.action(description="Export the selected connection's table (CSV)", permissions=["view"])
    def export_csv(self, request, queryset):
        from django.shortcuts import redirect

        connections = set(queryset.values_list("connection_id", flat=True))
        if len(connections) != 1:
            self.message_user(
                request, "Select rows of one connection to export its table.", messages.ERROR
            )
            return None
        spec = TABLE_OF_MODEL[self.model]
        url = reverse("mappings:export", args=[connections.pop(), spec.name])
        return redirect(f"{url}?format=csv")


@admin.register(ProjectMapping)
class ProjectMappingAdmin(MappingAdmin):
    list_display = (
        "procore_project_id",
        "erp_customer_id",
        "erp_job_id",
        "subsidiary_id",
        "currency",
        "class_id",
        "connection",
    )
    list_filter = ("connection", "currency", "subsidiary_id")
    search_fields = ("procore_project_id", "erp_customer_id", "erp_job_id", "notes")


@admin.register(CostCodeMapping)
class CostCodeMappingAdmin(MappingAdmin):
    list_display = (
        "cost_code",
        "cost_type",
        "subsidiary_id",
        "procore_project_id",
        "effective_from",
        "item_id",
        "account_id",
        "class_id",
        "connection",
    )
    list_filter = ("connection", "subsidiary_id", "cost_type", "effective_from")
    search_fields = ("cost_code", "item_id", "account_id", "procore_project_id", "notes")


@admin.register(VendorMapping)
class VendorMappingAdmin(MappingAdmin):
    form = VendorForm
    list_display = ("procore_vendor_id", "erp_vendor_id", "subsidiary_ids", "connection")
    list_filter = ("connection",)
    search_fields = ("procore_vendor_id", "erp_vendor_id", "notes")


@admin.register(AccountRoleMapping)
class AccountRoleMappingAdmin(MappingAdmin):
    list_display = ("role", "subsidiary_id", "effective_from", "account_id", "connection")
    list_filter = ("connection", "role", "subsidiary_id")
    search_fields = ("account_id", "subsidiary_id", "notes")


@admin.register(CurrencyMapping)
class CurrencyMappingAdmin(MappingAdmin):
    list_display = ("currency", "erp_currency_id", "connection")
    list_filter = ("connection",)
    search_fields = ("currency", "erp_currency_id")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MappingChange)
class MappingChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "table", "row_id", "key", "action", "source", "user", "upload")
    list_filter = ("table", "action", "source", "connection")
    search_fields = ("key", "upload__filename", "user__username")
    date_hierarchy = "at"


@admin.register(MappingUpload)
class MappingUploadAdmin(ReadOnlyAdmin):
    list_display = ("uploaded_at", "filename", "table", "status", "counts", "uploaded_by")
    list_filter = ("status", "table", "connection")
    search_fields = ("filename",)
    exclude = ("content",)


@admin.register(ReferenceRecord)
class ReferenceRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "kind",
        "remote_id",
        "code",
        "name",
        "active",
        "document_count",
        "connection",
        "refreshed_at",
    )
    list_filter = ("connection", "kind", "active")
    search_fields = ("remote_id", "code", "name")
