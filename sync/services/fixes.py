"""The queue's inline fix: add the mapping an item waits for, then re-check every item blocked
on it at once, so one fix clears a whole class of items.

The mapping is written by ``mappings.services.mapping_create`` (validated against the
reference cache, recorded in the mapping history as an inline change). Adding it also fires
``mappings.events``, which queues the same re-evaluation as a task; running it here too lets
the controller see at once how many items cleared. The two passes cannot write twice: each
record's run holds the flow lease and the second finds nothing blocked or nothing changed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from mappings import events
from mappings.models import MappingChange
from mappings.services import mapping_create
from mappings.specs import TABLES
from sync.models import ACTIVE_STATUSES, ExceptionEvent, ExceptionItem
from sync.reasons import REASONS
from sync.services.exceptions import blocked_key
from sync.services.review import ActionRefused, _taken


@dataclass
class FixResult:
    mapping: Any
    blocked: int  # items waiting for this mapping when it was added
    cleared: int  # of those, no longer waiting for anything
    still_open: dict[str, int] = field(default_factory=dict)  # reason title -> items
    locked: int = 0  # records another run was busy with (that run re-checks them)
    still_blocked: int = 0  # still waiting for this mapping (e.g. the ERP refused the read)
    mapping_table: str = ""

    @property
    def message(self) -> str:
        spec = TABLES[self.mapping_table]
        text = (
            f"{spec.label[:-1] if spec.label.endswith('s') else spec.label} mapping added. "
            f"{self.blocked} item{'s' if self.blocked != 1 else ''} waited for it: "
            f"{self.cleared} cleared"
        )
        if self.still_open:
            parts = ", ".join(f"{n} now {title.lower()}" for title, n in self.still_open.items())
            text += f"; {parts}"
        if self.still_blocked:
            text += f"; {self.still_blocked} still waiting"
        if self.locked:
            text += f"; {self.locked} being re-checked by a sync already running"
        return text + "."


def blocked_items(*, connection_id: int, table: str, key: dict[str, Any]) -> list[ExceptionItem]:
    """Active items waiting for the mapping (table, key); a blank part of the key matches any
    value (the same rule as ``items_reevaluate``)."""
    items = ExceptionItem.objects.filter(
        connection_id=connection_id, blocked_table=table, status__in=ACTIVE_STATUSES
    )
    wanted = {k: v for k, v in key.items() if v not in (None, "")}
    if len(wanted) == len(key):
        return list(items.filter(blocked_key=blocked_key(key)))
    return [
        item for item in items if wanted.items() <= json.loads(item.blocked_key or "{}").items()
    ]


_KEY_FIELDS = (
    "procore_project_id",
    "cost_code",
    "cost_type",
    "procore_vendor_id",
    "role",
    "currency",
)


def mapping_defaults(item: ExceptionItem) -> dict[str, str]:
    """What the item already says about the missing mapping (its key, subsidiary, project)."""
    missing = (item.details or {}).get("mapping") or {}
    values = {k: "" if v is None else str(v) for k, v in (missing.get("key") or {}).items()}
    if missing.get("subsidiary"):
        values.setdefault("subsidiary_id", str(missing["subsidiary"]))
    if item.blocked_table == "project" and missing.get("project"):
        values.setdefault("procore_project_id", str(missing["project"]))
    return values


def item_fix_mapping(
    *,
    item_id: int,
    actor: Any,
    values: dict[str, Any],
    clients=None,
    lookup=None,
) -> FixResult:
    from sync.services.runs import items_reevaluate

    item = ExceptionItem.objects.select_related("connection").get(pk=item_id)
    if not item.blocked_table:
        raise ActionRefused("This item does not wait for a mapping.")
    if item.status not in ACTIVE_STATUSES:
        raise _taken(item)
    spec = TABLES[item.blocked_table]
    # Which items wait for this mapping, read *before* adding it: adding it also fires
    # mappings.events, whose task may clear them before we look (inline in tests).
    key = events.event_key(spec.name, {k: str(values.get(k) or "") for k in _KEY_FIELDS})
    waiting = blocked_items(connection_id=item.connection_id, table=spec.name, key=key)
    try:
        # One transaction: the timeline says who fixed it before the re-check closes items.
        with transaction.atomic():
            mapping = mapping_create(
                table=spec.name,
                connection=item.connection,
                values=values,
                user=actor,
                source=MappingChange.Source.INLINE,
            )
            ExceptionEvent.objects.bulk_create(
                ExceptionEvent(
                    item=w,
                    action="mapping_added",
                    actor=actor,
                    note=f"{actor.get_username()} added the missing mapping: {mapping}.",
                    after={"table": spec.name, "mapping_id": mapping.pk},
                )
                for w in waiting
            )
    except ValidationError as exc:
        raise ActionRefused(" ".join(exc.messages)) from exc
    runs = items_reevaluate(
        connection_id=item.connection_id, table=spec.name, key=key, clients=clients, lookup=lookup
    )
    ids = [w.pk for w in waiting]
    still_blocked = set(
        ExceptionItem.objects.filter(pk__in=ids, status__in=ACTIVE_STATUSES).values_list(
            "pk", flat=True
        )
    )
    records = {(w.object_type, w.procore_id) for w in waiting if w.pk not in still_blocked}
    reopened: Counter[str] = Counter()
    if records:
        for object_type, procore_id, code in ExceptionItem.objects.filter(
            connection_id=item.connection_id,
            status__in=ACTIVE_STATUSES,
            procore_id__in={p for _o, p in records},
        ).values_list("object_type", "procore_id", "reason_code"):
            if (object_type, procore_id) in records:
                reopened[REASONS[code].title if code in REASONS else code] += 1
    result = FixResult(
        mapping=mapping,
        blocked=len(waiting),
        cleared=len(waiting) - len(still_blocked) - sum(reopened.values()),
        still_open=dict(reopened),
        locked=sum(1 for r in runs if r.status == "locked"),
        still_blocked=len(still_blocked),
        mapping_table=spec.name,
    )
    return result
