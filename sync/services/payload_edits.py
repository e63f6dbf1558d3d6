"""Edit the proposed write's fields before approving: stored as a diff in the timeline
(``payload_edited`` with before/after per path), conditional on the version the person saw,
and remembered for segregation of duties (``sync.services.review.edited_by``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from sync.config import policies
from sync.fingerprint import canonical
from sync.models import Change, ChangeState, Operation
from sync.services.exceptions import item_event
from sync.services.review import DECIDABLE, ActionRefused, ReviewResult, _load, _taken


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A payload's scalar leaves by dotted path (list positions are numbers)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}{key}."))
    elif isinstance(value, list):
        for n, part in enumerate(value):
            out.update(flatten(part, f"{prefix}{n}."))
    else:
        out[prefix[:-1]] = value
    return out


def _set_path(payload: Any, path: str, value: Any) -> None:
    parts = path.split(".")
    node = payload
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _numeric(path: str) -> bool:
    """Amount fields (the adapters' NUMERIC sets) are stored as exact decimal strings."""
    from sync.erp.netsuite import NUMERIC as NS_NUMERIC
    from sync.erp.quickbooks import NUMERIC as QBO_NUMERIC

    name = next((p for p in reversed(path.split(".")) if not p.isdigit()), "")
    return name in NS_NUMERIC or name in QBO_NUMERIC


def _typed(old: Any, text: str, path: str = "") -> Any:
    """The edited text in the type the payload had (numbers stay exact)."""
    text = text.strip()
    if isinstance(old, bool):
        if text.lower() not in ("true", "false"):
            raise ActionRefused(f"{path}: {text!r} is not true or false.")
        return text.lower() == "true"
    if isinstance(old, int):
        try:
            return int(text)
        except ValueError:
            raise ActionRefused(f"{path}: {text!r} is not a whole number.") from None
    if isinstance(old, float | Decimal) or _numeric(path):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ActionRefused(f"{path}: {text!r} is not a number.") from None
        if not number.is_finite():
            raise ActionRefused(f"{path}: {text!r} is not a number.")
        return str(number)
    if old is None and text == "":
        return None
    return text


def item_edit_payload(
    *, item_id: int, actor: Any, values: dict[str, str], seen: str, note: str = ""
) -> ReviewResult:
    """Change fields of the proposed write before approving; the diff goes in the timeline.

    ``seen`` is the change's ``updated_at`` (ISO) when the form was shown: an edit made by a
    colleague meanwhile is not overwritten."""
    item = _load(item_id)
    change = item.change
    if change is None or item.blocked_table or item.status not in DECIDABLE:
        raise ActionRefused("Only a proposed write waiting for a decision can be edited.")
    if change.operation in (Operation.VOID, Operation.LINK):
        raise ActionRefused("A void or a link has no fields to edit.")
    leaves = flatten(change.payload)
    diff = []
    payload = canonical(change.payload)
    for path, text in values.items():
        if path not in leaves:
            raise ActionRefused(f"{path} is not a field of this write.")
        old = leaves[path]
        new = _typed(old, text, path)
        if str(new if new is not None else "") != str(old if old is not None else ""):
            diff.append({"path": path, "before": old, "after": new})
            _set_path(payload, path, new)
    if not diff:
        return ReviewResult(item, "Nothing changed.")
    with transaction.atomic():
        moved = (
            Change.objects.filter(
                Q(updated_at=_parse_seen(seen)), pk=change.pk, state=ChangeState.HELD
            ).update(payload=payload, updated_at=timezone.now())
            == 1
        )
        if moved:
            item_event(
                item=item,
                action="payload_edited",
                actor=actor,
                note=note or ", ".join(d["path"] for d in diff),
                before={d["path"]: d["before"] for d in diff},
                after={d["path"]: d["after"] for d in diff},
            )
            audit_record(
                actor=actor,
                action="exception.edit_payload",
                target=item,
                before={d["path"]: d["before"] for d in diff},
                after={d["path"]: d["after"] for d in diff},
                note=note,
            )
    if not moved:
        raise _taken(item)
    extra = ""
    if policies(item.connection).segregation_of_duties:
        extra = " Another controller must approve it (segregation of duties)."
    n = len(diff)
    return ReviewResult(item, f"{n} field{'s' if n != 1 else ''} changed.{extra}")


def _parse_seen(seen: str):
    from django.utils.dateparse import parse_datetime

    value = parse_datetime(seen or "")
    if value is None:
        raise ActionRefused("The form is out of date; open the item again.")
    return value
