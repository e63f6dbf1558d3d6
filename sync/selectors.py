"""Reads for the connections pages and the admins' banner (HackSoft style: no writes here)."""

from __future__ import annotations

from django.db.models import QuerySet

from sync.models import Connection, ConnectionStatus

ATTENTION = (ConnectionStatus.NEEDS_REAUTH, ConnectionStatus.UNHEALTHY)


def connection_list() -> QuerySet[Connection]:
    """Every connection with its paired Procore connection; secrets and tokens not loaded."""
    return (
        Connection.objects.select_related("procore_connection")
        .defer(
            "secrets_encrypted",
            "token_encrypted",
            "procore_connection__secrets_encrypted",
            "procore_connection__token_encrypted",
        )
        .order_by("name")
    )


def connections_needing_attention() -> list[dict]:
    """Connections an admin must act on: one small query of plain columns, for every page."""
    return list(
        Connection.objects.filter(status__in=ATTENTION)
        .order_by("name")
        .values("id", "name", "kind", "status", "status_reason")
    )
