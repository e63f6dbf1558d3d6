"""Connection forms, one per kind. Secrets are entered in password fields that are never
rendered back; the help text shows a mask of what is stored, and a blank keeps it."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives import serialization
from django import forms

from connectors.errors import AuthError
from connectors.netsuite.auth import load_signing_key
from erpbridge import crypto
from sync.models import Connection, Kind
from sync.models.connection import SECRET_FIELDS, SETTINGS_FIELDS

MAX_KEY_BYTES = 64 * 1024
KEEP = "Leave blank to keep the stored value."


def secret_field(label: str, *, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def url_field(**kwargs: Any) -> forms.URLField:
    return forms.URLField(assume_scheme="https", **kwargs)


def key_summary(pem: str) -> str:
    """What may be shown of a stored private key: its type, size and public-key fingerprint."""
    _, alg = load_signing_key(pem)  # raises AuthError for anything NetSuite would refuse
    public = serialization.load_pem_private_key(pem.encode(), password=None).public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fingerprint = hashlib.sha256(der).hexdigest()[:16]
    size = getattr(public, "key_size", None) or public.curve.key_size
    kind = "RSA" if alg == "PS256" else "EC"
    return f"{kind} {size}-bit key, public key SHA-256 {fingerprint}…"


class ConnectionForm(forms.Form):
    kind: str = ""
    name = forms.CharField(max_length=100)

    def __init__(self, *args: Any, instance: Connection | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": instance.name, **instance.settings}
            if instance.procore_connection_id:
                kwargs["initial"]["procore_connection"] = instance.procore_connection_id
        super().__init__(*args, **kwargs)
        stored = instance.secrets if instance is not None else {}
        for name in SECRET_FIELDS[self.kind]:
            field = self.fields.get(name)
            if field is None or not stored.get(name):
                continue
            field.help_text = f"Stored: {crypto.mask(stored[name])}. {KEEP}"
        if "procore_connection" in self.fields:
            self.fields["procore_connection"].queryset = Connection.objects.filter(
                kind=Kind.PROCORE
            ).only("id", "name", "kind")

    def stored_secret(self, name: str) -> bool:
        return bool(self.instance is not None and self.instance.secrets.get(name))

    def require_secret(self, name: str) -> None:
        if not self.cleaned_data.get(name) and not self.stored_secret(name):
            self.add_error(name, "This field is required.")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Connection.objects.filter(name=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("Another connection already has this name.")
        return name

    def settings_values(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in SETTINGS_FIELDS[self.kind] if k in self.fields}

    def secret_values(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in SECRET_FIELDS[self.kind] if k in self.fields}


class ErpForm(ConnectionForm):
    procore_connection = forms.ModelChoiceField(
        queryset=Connection.objects.none(),
        required=False,
        label="Procore connection",
        help_text="The Procore company this ledger is kept in agreement with.",
    )


class ProcoreForm(ConnectionForm):
    kind = Kind.PROCORE
    grant = forms.ChoiceField(
        label="How erpbridge signs in",
        choices=[
            ("authorization_code", "A Procore user connects the app (Connect Procore)"),
            ("client_credentials", "Service account (DMSA, client credentials)"),
        ],
    )
    client_id = forms.CharField(label="Client id", max_length=200)
    client_secret = secret_field("Client secret")
    company_id = forms.RegexField(label="Company id", regex=r"^\d+$", required=False, max_length=20)
    auth_base_url = url_field(
        label="Login host", required=False, help_text="Blank: https://login.procore.com"
    )
    api_base_url = url_field(
        label="API host", required=False, help_text="Blank: https://api.procore.com"
    )
    redirect_uri = url_field(
        label="Redirect URI",
        required=False,
        help_text="Blank: this site's /connections/procore/callback. Must match the app's.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.require_secret("client_secret")
        return data


class QuickBooksForm(ErpForm):
    kind = Kind.QUICKBOOKS
    client_id = forms.CharField(label="Client id", max_length=200)
    client_secret = secret_field("Client secret")
    auth_url = url_field(
        label="Authorize URL",
        required=False,
        help_text="Blank: https://appcenter.intuit.com/connect/oauth2",
    )
    token_url = url_field(label="Token URL", required=False, help_text="Blank: Intuit's")
    api_base_url = url_field(
        label="API host",
        required=False,
        help_text="Blank: https://quickbooks.api.intuit.com (production)",
    )
    redirect_uri = url_field(
        label="Redirect URI",
        required=False,
        help_text="Blank: this site's /connections/quickbooks/callback. Must match the app's.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.require_secret("client_secret")
        return data


class NetSuiteForm(ErpForm):
    kind = Kind.NETSUITE
    account_id = forms.RegexField(
        label="Account id", regex=r"^[A-Za-z0-9_-]+$", max_length=40, help_text="e.g. 1234567_SB1"
    )
    base_url = url_field(
        label="REST host", required=False, help_text="Blank: the account's SuiteTalk host"
    )
    auth_method = forms.ChoiceField(
        label="Authentication",
        choices=[
            ("m2m", "OAuth 2.0 client credentials (certificate)"),
            ("tba", "Token-based authentication (TBA)"),
        ],
    )
    client_id = forms.CharField(label="Client id", max_length=200, required=False)
    certificate_id = forms.CharField(label="Certificate id", max_length=200, required=False)
    private_key = forms.FileField(
        label="Private key (PEM file, RSA or EC)",
        required=False,
        help_text="The key whose certificate is mapped to the integration in NetSuite.",
    )
    consumer_key = secret_field("Consumer key")
    consumer_secret = secret_field("Consumer secret")
    token_id = secret_field("Token id")
    token_secret = secret_field("Token secret")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pem = self.instance.secrets.get("private_key_pem") if self.instance else None
        if pem:
            try:
                summary = key_summary(pem)
            except AuthError:
                summary = "a key that can no longer be read"
            self.fields[
                "private_key"
            ].help_text = (
                f"Stored: {summary}. Upload a new file to replace it; leave empty to keep it."
            )

    def clean_private_key(self) -> str:
        upload = self.cleaned_data.get("private_key")
        if not upload:
            return ""
        if upload.size > MAX_KEY_BYTES:
            raise forms.ValidationError("This file is too large to be a private key.")
        try:
            pem = upload.read().decode("ascii")
            load_signing_key(pem)
        except (UnicodeDecodeError, AuthError) as exc:
            raise forms.ValidationError(
                "This file is not an unencrypted PEM private key (RSA, or EC P-256/384/521)."
            ) from exc
        return pem

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("auth_method") == "tba":
            for name in ("consumer_key", "consumer_secret", "token_id", "token_secret"):
                self.require_secret(name)
        else:
            for name in ("client_id", "certificate_id"):
                if not data.get(name):
                    self.add_error(name, "This field is required.")
            if not data.get("private_key") and not self.stored_secret("private_key_pem"):
                self.add_error("private_key", "Upload the private key.")
        return data

    def secret_values(self) -> dict[str, Any]:
        values = super().secret_values()
        values["private_key_pem"] = self.cleaned_data.get("private_key") or ""
        return values


FORMS: dict[str, type[ConnectionForm]] = {
    Kind.PROCORE: ProcoreForm,
    Kind.NETSUITE: NetSuiteForm,
    Kind.QUICKBOOKS: QuickBooksForm,
}
