"""Connection in the Django admin: status at a glance, directions and policies editable,
secrets and tokens never displayed (the encrypted fields are excluded; masks are read-only).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from erpbridge import crypto
from sync.models import Connection
from sync.services.connections import connection_mark_needs_reauth


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "status_reason_short", "last_success_at")
    list_filter = ("kind", "status")
    search_fields = ("name",)
    exclude = ("secrets_encrypted", "token_encrypted")
    readonly_fields = (
        "kind",
        "status",
        "status_reason",
        "status_changed_at",
        "last_success_at",
        "stored_secrets",
        "stored_token",
        "connections_page",
        "created_at",
        "updated_at",
    )
    fields = (
        "name",
        "kind",
        "connections_page",
        "procore_connection",
        "settings",
        "directions",
        "policies",
        "status",
        "status_reason",
        "status_changed_at",
        "last_success_at",
        "stored_secrets",
        "stored_token",
        "created_at",
        "updated_at",
    )
    actions = ["mark_needs_reauth"]

    def get_queryset(self, request):
        # The list never decrypts secrets or tokens.
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            qs = qs.defer("secrets_encrypted", "token_encrypted")
        return qs

    def save_model(self, request, obj, form, change):
        from audit.services import audit_record

        super().save_model(request, obj, form, change)
        changed = [f for f in form.changed_data if f not in self.exclude]
        if changed:
            audit_record(
                actor=request.user,
                action="connection.update",
                target=obj,
                before={f: form.initial.get(f) for f in changed},
                after={f: form.cleaned_data.get(f) for f in changed},
            )

    def has_add_permission(self, request) -> bool:
        # Secrets are entered (and NetSuite credentials validated) on the Connections pages.
        return False

    @admin.display(description="Reason")
    def status_reason_short(self, obj: Connection) -> str:
        reason = obj.status_reason or ""
        return reason if len(reason) <= 80 else reason[:79] + "…"

    @admin.display(description="Credentials")
    def connections_page(self, obj: Connection) -> str:
        url = reverse("sync:connection_edit", args=[obj.pk])
        return format_html('<a href="{}">Edit credentials and connect</a>', url)

    @admin.display(description="Stored secrets")
    def stored_secrets(self, obj: Connection) -> str:
        shown = []
        for name, value in sorted(obj.secrets.items()):
            mask = "PEM key stored" if name == "private_key_pem" else crypto.mask(str(value))
            shown.append(f"{name}: {mask}")
        return "; ".join(shown) or "none"

    @admin.display(description="Token")
    def stored_token(self, obj: Connection) -> str:
        token = obj.token
        if not token:
            return "none"
        expires = token.get("expires_at")
        if expires:
            moment = datetime.fromtimestamp(float(expires), tz=UTC)
            return f"stored; access token expires {moment:%Y-%m-%d %H:%M} UTC"
        return "stored"

    @admin.action(description="Mark as needing re-authorisation", permissions=["change"])
    def mark_needs_reauth(self, request, queryset) -> None:
        who = request.user.get_username()
        marked = sum(
            connection_mark_needs_reauth(connection_id=pk, reason=f"marked in the admin by {who}")
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            f"{marked} connection(s) marked as needing re-authorisation.",
            messages.SUCCESS if marked else messages.WARNING,
        )
