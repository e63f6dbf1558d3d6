"""Connection writes: secrets, tokens, health transitions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from connectors.tokens import Token
from sync.models import Connection, ConnectionStatus
from sync.models.connection import SECRET_FIELDS, SETTINGS_FIELDS


def connection_set_secrets(*, connection: Connection, secrets: dict[str, Any]) -> Connection:
    """Replace the connection's secrets (kept encrypted; blanks keep the stored value)."""
    merged = {**connection.secrets}
    for name, value in secrets.items():
        if value not in (None, ""):
            merged[name] = value
    connection.secrets_encrypted = json.dumps(merged) if merged else ""
    connection.save(update_fields=["secrets_encrypted", "updated_at"])
    return connection


def connection_set_status(
    *,
    connection_id: int,
    status: str,
    reason: str = "",
    only_from: tuple[str, ...] | None = None,
) -> bool:
    """Move the connection to ``status``; the row count proves the transition happened.

    ``only_from`` makes it conditional (``UPDATE … WHERE status IN (…)``) so two workers that
    race to mark a connection see exactly one of them win.
    """
    rows = Connection.objects.filter(pk=connection_id)
    if only_from is not None:
        rows = rows.filter(status__in=only_from)
    else:
        rows = rows.exclude(status=status, status_reason=reason)
    now = timezone.now()
    fields: dict[str, Any] = {"status": status, "status_reason": reason[:2000]}
    fields["status_changed_at"] = now
    if status == ConnectionStatus.OK:
        fields["last_success_at"] = now
    return rows.update(**fields) == 1


def connection_mark_needs_reauth(*, connection_id: int, reason: str) -> bool:
    return connection_set_status(
        connection_id=connection_id,
        status=ConnectionStatus.NEEDS_REAUTH,
        reason=reason,
        only_from=(ConnectionStatus.NEW, ConnectionStatus.OK, ConnectionStatus.UNHEALTHY),
    )


def connection_save_token(*, connection_id: int, token: Token) -> None:
    """Store a new token (encrypted) and mark the connection healthy."""
    connection = Connection.objects.get(pk=connection_id)
    connection.token_encrypted = json.dumps(token)
    connection.save(update_fields=["token_encrypted", "updated_at"])
    connection_set_status(
        connection_id=connection_id,
        status=ConnectionStatus.OK,
        reason="",
        only_from=(ConnectionStatus.NEW, ConnectionStatus.NEEDS_REAUTH, ConnectionStatus.UNHEALTHY),
    )


class ConnectionTokenStore:
    """``connectors.tokens.TokenStore`` backed by the Connection row.

    ``locked()`` opens a transaction and takes the row lock (``SELECT … FOR UPDATE`` on
    PostgreSQL; SQLite's IMMEDIATE transactions serialise writers the same way), then re-reads
    the token: a worker that waited for the lock sees the token the other one just saved and
    does not spend the single-use refresh token a second time.
    """

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id

    def load(self) -> Token | None:
        row = Connection.objects.only("token_encrypted").get(pk=self.connection_id)
        return row.token

    @contextmanager
    def locked(self) -> Iterator[Token | None]:
        with transaction.atomic():
            row = (
                Connection.objects.select_for_update()
                .only("token_encrypted")
                .get(pk=self.connection_id)
            )
            yield row.token

    def save(self, token: Token) -> None:
        # QuerySet.update() still runs the field's get_prep_value: the token is encrypted.
        Connection.objects.filter(pk=self.connection_id).update(
            token_encrypted=json.dumps(token), updated_at=timezone.now()
        )
        connection_set_status(
            connection_id=self.connection_id,
            status=ConnectionStatus.OK,
            only_from=(ConnectionStatus.NEW, ConnectionStatus.UNHEALTHY),
        )

    def mark_needs_reauth(self, reason: str) -> None:
        connection_mark_needs_reauth(connection_id=self.connection_id, reason=reason)


def _clean_settings(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Only the kind's known settings, blanks dropped (a blank means "use the default")."""
    allowed = SETTINGS_FIELDS[kind]
    return {k: v for k, v in values.items() if k in allowed and v not in (None, "")}


def _merged_secrets(kind: str, current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The stored secrets with the given ones applied; a blank keeps the stored value."""
    allowed = SECRET_FIELDS[kind]
    merged = {k: v for k, v in current.items() if k in allowed}
    merged.update({k: v for k, v in given.items() if k in allowed and v not in (None, "")})
    return merged


def connection_save(
    *,
    connection: Connection | None,
    kind: str,
    name: str,
    settings: dict[str, Any],
    secrets: dict[str, Any],
    procore_connection: Connection | None = None,
    keep_settings: tuple[str, ...] = (),
) -> Connection:
    """Create or edit a connection from the admin's form.

    Settings are replaced by the form's values, except ``keep_settings`` (values the
    connect flow captured, such as QuickBooks' ``realm_id``, which the form does not edit);
    secrets left blank keep their stored value.
    """
    current = connection.settings if connection else {}
    before = _audited(connection) if connection else None
    new_settings = _clean_settings(kind, settings)
    for key in keep_settings:
        if current.get(key) not in (None, ""):
            new_settings[key] = current[key]
    merged = _merged_secrets(kind, connection.secrets if connection else {}, secrets)
    if connection is None:
        connection = Connection(kind=kind)
    connection.name = name
    connection.settings = new_settings
    connection.secrets_encrypted = json.dumps(merged) if merged else ""
    connection.procore_connection = procore_connection if connection.is_erp else None
    with transaction.atomic():
        connection.save()
        audit_record(
            actor=None,  # the signed-in admin (audit reads the request)
            action="connection.update" if before else "connection.create",
            target=connection,
            before=before,
            after={
                **_audited(connection),
                "secrets_changed": sorted(k for k in secrets if secrets[k] not in (None, "")),
            },
        )
    return connection


def _audited(connection: Connection) -> dict[str, Any]:
    """What the audit log keeps of a connection: never a secret, only their names."""
    return {
        "name": connection.name,
        "kind": connection.kind,
        "settings": dict(connection.settings or {}),
        "procore_connection": connection.procore_connection_id,
        "status": connection.status,
    }


def connection_authorised(
    *,
    connection_id: int,
    token: Token | None,
    settings_update: dict[str, Any] | None = None,
) -> None:
    """A grant was obtained (connect flow, validated credentials, a passed test): store the
    token encrypted, merge what the grant told us into settings, and mark the connection
    healthy. A disabled connection keeps its status: only an admin re-enables it."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            Connection.objects.select_for_update().only("settings", "status").get(pk=connection_id)
        )
        fields: dict[str, Any] = {"updated_at": now, "last_success_at": now}
        if token is not None:
            fields["token_encrypted"] = json.dumps(token)
        if settings_update:
            fields["settings"] = {**row.settings, **settings_update}
        if row.status != ConnectionStatus.DISABLED:
            fields.update(status=ConnectionStatus.OK, status_reason="", status_changed_at=now)
        Connection.objects.filter(pk=connection_id).update(**fields)
        audit_record(
            actor=None,
            action="connection.authorise",
            target=("sync.connection", connection_id),
            before={"status": row.status},
            after={
                "status": fields.get("status", row.status),
                "token_stored": token is not None,
                "settings_update": sorted(settings_update or {}),
            },
        )
