"""Where a bound ERP document lives in Procore, and what its paid status looks like there.

The payment-status pull finds the Procore side of a bill or invoice through its Binding; a
write to Procore also needs the record's project (and for a requisition its commitment, for a
payment application its prime contract). They come, cheapest first, from what we stored on an
earlier pull, from the context of the Change that created the ERP document (the engine stores
``project_id`` / ``parent_id`` there), or from one listing of the mapped projects' requisitions
(or payment applications) per run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sync.erp.payments import DocState
from sync.models import Binding, Change, ChangeState

PAID, PARTIAL, UNPAID = "paid", "partially_paid", "unpaid"


@dataclass
class Target:
    """A Procore requisition (``side="vendor"``) or payment application (``"customer"``)."""

    procore_id: str
    project_id: str
    parent_id: str  # commitment id / prime contract id


def locate(ctx: Any, side: str, binding: Binding, stored: dict[str, Any] | None) -> Target | None:
    if stored and stored.get("project_id") and stored.get("parent_id"):
        return Target(binding.procore_id, stored["project_id"], stored["parent_id"])
    context = (
        Change.objects.filter(
            connection=ctx.connection,
            object_type=binding.object_type,
            procore_id=binding.procore_id,
            state=ChangeState.SENT,
        )
        .order_by("-pk")
        .values_list("context", flat=True)
        .first()
    ) or {}
    project = context.get("project_id")
    if project and side == "vendor":  # one GET says which commitment the invoice is on
        req = ctx.procore.requisition(binding.procore_id, project)
        return Target(binding.procore_id, str(project), str(req.commitment_id or ""))
    if project and context.get("parent_id"):
        return Target(binding.procore_id, str(project), str(context["parent_id"]))
    found = _index(ctx, side).get(binding.procore_id)
    return Target(binding.procore_id, *found) if found is not None else None


def _index(ctx: Any, side: str) -> dict[str, tuple[str, str]]:
    """Procore id → (project id, parent id) for every requisition / pay app on the mapped
    projects, listed once per run (a page per project) when a location is not known yet."""
    key = f"payments:index:{side}"
    if key not in ctx.cache:
        index: dict[str, tuple[str, str]] = {}
        for project, target in ctx.projects():
            if target is None:
                continue
            if side == "vendor":
                for req in ctx.procore.requisitions(project.id):
                    index[req.id] = (str(project.id), str(req.commitment_id or ""))
            else:
                for pa in ctx.procore.payment_applications(project.id):
                    index[pa.id] = (str(project.id), str(pa.prime_contract_id or ""))
        ctx.cache[key] = index
    return ctx.cache[key]


def paid_status(doc: DocState | None, paid: Decimal) -> str:
    if doc is not None and doc.total > 0 and doc.remaining <= 0:
        return PAID
    if paid > 0 or (doc is not None and doc.paid > 0):
        return PARTIAL
    return UNPAID


def origin_data(kind: str, doc_type: str, doc: DocState | None, payments: list[dict]) -> str:
    """What the Procore record says about its ERP document: type, number, paid, balance and
    the payments applied, as JSON (``origin_data`` is free text, §5)."""
    body: dict[str, Any] = {"erp": kind, "type": doc_type}
    if doc is not None:
        body.update(number=doc.number, total=str(doc.total), balance=str(doc.remaining))
    body["paid"] = str(sum((Decimal(p["amount"]) for p in payments), Decimal("0.00")))
    body["payments"] = payments
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
