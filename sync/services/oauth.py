"""The server-side half of an authorisation-code flow: the ``state`` we sent.

A state is single-use, expires after ``STATE_TTL``, and belongs to the user and connection
that started the flow; the callback claims it with a conditional UPDATE whose row count
proves that this request, and no other, used it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sync.models import Connection, OAuthState

STATE_TTL = timedelta(minutes=10)
# Pending states older than this are deleted when a new flow starts (housekeeping only).
STATE_KEEP = timedelta(days=1)


class StateRefused(Exception):
    """The callback's state is not one we can honour; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def oauth_state_start(*, connection: Connection, user, code_verifier: str = "") -> OAuthState:
    now = timezone.now()
    OAuthState.objects.filter(created_at__lt=now - STATE_KEEP).delete()
    return OAuthState.objects.create(
        state=secrets.token_urlsafe(32),
        connection=connection,
        code_verifier=code_verifier or "",
        created_by=user,
    )


def oauth_state_consume(*, state: str, user, kind: str) -> OAuthState:
    """Claim ``state`` for ``user``; raise :class:`StateRefused` saying why it cannot be used."""
    row = (
        OAuthState.objects.select_related("connection").filter(state=state).first()
        if state
        else None
    )
    if row is None or row.connection.kind != kind:
        raise StateRefused(
            "unknown",
            "This sign-in answer does not belong to a connection flow started here. "
            "Nothing was changed; start the connection again from the Connections page.",
        )
    if row.created_by_id != user.pk:
        raise StateRefused(
            "other_user",
            "This sign-in was started by another user. Nothing was changed; start the "
            "connection again yourself.",
        )
    if row.used_at is not None:
        raise StateRefused(
            "replayed",
            "This sign-in answer was already used. Nothing was changed; if the connection "
            "still needs it, start the connection again.",
        )
    now = timezone.now()
    if row.created_at < now - STATE_TTL:
        raise StateRefused(
            "expired",
            f"The sign-in took longer than {int(STATE_TTL.total_seconds() // 60)} minutes and "
            "expired. Nothing was changed; start the connection again.",
        )
    with transaction.atomic():
        claimed = OAuthState.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
    if claimed != 1:
        raise StateRefused(
            "replayed",
            "This sign-in answer was already used. Nothing was changed.",
        )
    return row
