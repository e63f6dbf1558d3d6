"""API tokens in the admin: an admin creates one for a user (the secret is shown once, on
the page that follows, never again), and revokes; rows are never deleted."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from api.models import ApiToken
from api.services import api_token_create, api_token_revoke


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "expires_at")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        if "user" in self.fields:
            self.fields["user"].queryset = get_user_model().objects.filter(is_active=True)

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user.is_superuser and not (self.request and self.request.user.is_superuser):
            raise forms.ValidationError("Only a superuser may create a token for a superuser.")
        return user


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "shown_prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "user__username", "prefix")
    actions = ["revoke"]

    @admin.display(description="token starts with")
    def shown_prefix(self, obj):
        return f"erpb_{obj.prefix}_…"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class WithRequest(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, request=request, **kw)

        return WithRequest

    form = ApiTokenForm

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "user",
            "name",
            "expires_at",
            "shown_prefix",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
            "revoked_by",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name", "expires_at")
        return self.get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on a token is editable after creation
        issued = api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
            created_by=request.user,
        )
        obj.pk = issued.token.pk
        obj.prefix = issued.token.prefix
        obj._state.adding = False
        request._issued_token_key = issued.key

    def response_add(self, request, obj, post_url_continue=None):
        response = TemplateResponse(
            request,
            "admin/api/apitoken/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "token": obj,
                "key": request._issued_token_key,
                "title": "API token created",
            },
        )
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(api_token_revoke(token=t, actor=request.user) for t in queryset)
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)
