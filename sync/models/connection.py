"""A Connection: one configured external system (a Procore company, a NetSuite account, a
QuickBooks realm) with its settings, its encrypted secrets and tokens, and its health.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models

from erpbridge.fields import EncryptedTextField


class Kind(models.TextChoices):
    PROCORE = "procore", "Procore"
    NETSUITE = "netsuite", "NetSuite"
    QUICKBOOKS = "quickbooks", "QuickBooks Online"


class ConnectionStatus(models.TextChoices):
    NEW = "new", "Not connected yet"
    OK = "ok", "Healthy"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"
    UNHEALTHY = "unhealthy", "Unhealthy"
    DISABLED = "disabled", "Disabled"


# Which settings a kind needs, and which of its credentials are secrets (kept encrypted in
# `secrets`, never in `settings`). The connectors read the merged dict.
SETTINGS_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.PROCORE: (
        "auth_base_url",
        "api_base_url",
        "client_id",
        "company_id",
        "grant",
        "redirect_uri",
    ),
    Kind.NETSUITE: ("account_id", "base_url", "auth_method", "client_id", "certificate_id"),
    Kind.QUICKBOOKS: (
        "auth_url",
        "token_url",
        "revoke_url",
        "api_base_url",
        "client_id",
        "realm_id",
        "redirect_uri",
        "minorversion",
    ),
}
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.PROCORE: ("client_secret",),
    Kind.NETSUITE: (
        "private_key_pem",
        "consumer_key",
        "consumer_secret",
        "token_id",
        "token_secret",
    ),
    Kind.QUICKBOOKS: ("client_secret",),
}


class Connection(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # For an ERP connection: the Procore company it keeps in agreement with.
    procore_connection = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="erp_connections",
        limit_choices_to={"kind": Kind.PROCORE},
    )
    settings = models.JSONField(default=dict, blank=True, help_text="Non-secret settings")
    secrets_encrypted = EncryptedTextField(blank=True, default="")
    token_encrypted = EncryptedTextField(blank=True, default="")
    # Per object type: "push" (Procore -> ERP), "pull" (ERP -> Procore), "both" or "off".
    directions = models.JSONField(default=dict, blank=True)
    # Routing policies (thresholds, auto-create vendors, change-order strategy...).
    policies = models.JSONField(default=dict, blank=True)

    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.NEW
    )
    status_reason = models.TextField(blank=True, default="")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("connect_connection", "Can run the connect (authorisation) flow")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    # Secrets and tokens are JSON inside encrypted text; these read them, services write them.

    @property
    def secrets(self) -> dict[str, Any]:
        return json.loads(self.secrets_encrypted) if self.secrets_encrypted else {}

    @property
    def token(self) -> dict[str, Any] | None:
        return json.loads(self.token_encrypted) if self.token_encrypted else None

    @property
    def is_erp(self) -> bool:
        return self.kind in (Kind.NETSUITE, Kind.QUICKBOOKS)

    def client_settings(self) -> dict[str, Any]:
        """What a connector's ``from_settings`` takes: settings plus decrypted secrets."""
        return {**self.settings, **self.secrets}


class OAuthState(models.Model):
    """A pending authorisation-code flow: the ``state`` we sent and the PKCE verifier.

    Kept server-side (not only in the session) so the callback can prove the state is ours,
    single-use and recent, whichever worker answers it.
    """

    state = models.CharField(max_length=128, unique=True)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    code_verifier = EncryptedTextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"authorisation of {self.connection_id} started {self.created_at:%Y-%m-%d %H:%M}"
