"""The one write of the audit log (HackSoft style)."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from audit import context
from audit.models import AuditEntry


def _plain(value: Any) -> Any:
    """JSON-safe (Decimal, dates, UUIDs become text) so the row reads back as written."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def _describe(target: Any) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        meta = target._meta
        return f"{meta.app_label}.{meta.model_name}", str(target.pk or ""), str(target)[:200]
    if isinstance(target, tuple):  # (object_type, object_id[, repr])
        kind, pk, *rest = target
        return str(kind), str(pk), str(rest[0] if rest else "")[:200]
    raise TypeError(f"audit target must be a model instance or a tuple, not {type(target)}")


def audit_record(
    *,
    actor: Any,
    action: str,
    target: Any = None,
    before: Any = None,
    after: Any = None,
    source: str | None = None,
    note: str = "",
) -> AuditEntry:
    """Append one entry. ``target`` is a model instance or ``(object_type, id[, label])``;
    ``source`` defaults to the current request's channel (web, api, admin) or ``system``;
    ``actor=None`` means the signed-in user of the current request, if any.
    Called inside the caller's transaction, so a rolled-back change leaves no entry."""
    object_type, object_id, object_repr = _describe(target)
    ctx = context.current()
    if actor is None:
        actor = ctx.user()
    user = actor if getattr(actor, "pk", None) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=user.get_username() if user else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        before=_plain(before),
        after=_plain(after),
        note=note[:2000],
        source=source or ctx.source,
        request_id=ctx.request_id,
        ip=ctx.ip,
    )
