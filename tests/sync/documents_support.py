"""Helpers for the billing document flow tests: the mappings those flows need on top of the
engine worlds, person actions in the Procore sandbox, and the ERP documents read back in one
shape for both ERPs (so expectations are written once)."""

from __future__ import annotations

from decimal import Decimal

from sync.lookups import CostTarget

CENT = Decimal("0.01")
GENERAL_CONDITIONS = ("01-310", "01-450", "01-500", "01-740")


def prepare(world):
    """Account roles, owner invoice items and GL accounts for the general-conditions codes."""
    e = world.eids
    world.lookup.accounts.update(
        accounts_payable=e["account:ap"],
        retention_payable=e["account:retention_payable"],
        retention_receivable=e["account:retention_receivable"],
        suspense=e["account:suspense"],
    )
    if world.kind == "netsuite":
        items = {"owner_billing_item_id": e["item:progress_billing"]}
    else:
        items = {"owner_billing_item_id": e["item:billing"]}
    items["owner_retainage_item_id"] = e["item:retainage"]
    world.set_policies(**items)
    for code in GENERAL_CONDITIONS:
        old = world.lookup.costs.get(code)
        world.lookup.costs[code] = CostTarget(
            old.item_id if old else None, e["account:cost_labor"], None
        )
    return world


def erp_docs(world, erp_type: str) -> list[dict]:
    if world.kind == "netsuite":
        return list(world.erp.store.collection(erp_type).values())
    return world.erp.records(erp_type)


def number(world, doc) -> str:
    return doc.get("tranId") if world.kind == "netsuite" else doc.get("DocNumber")


def numbered(world, erp_type: str, num: str) -> list[dict]:
    return [d for d in erp_docs(world, erp_type) if number(world, d) == num]


def doc_id(world, doc) -> str:
    return str(doc.get("id") or doc.get("Id"))


def _id(ref):
    if isinstance(ref, dict):
        return str(ref.get("id") or ref.get("value") or "") or None
    return None


def lines(world, doc) -> list[tuple[str | None, str | None, Decimal]]:
    """(item, account, amount) per line; journals: amount positive for debits."""
    out = []
    if world.kind == "netsuite":
        for sub in ("item", "expense"):
            for ln in (doc.get(sub) or {}).get("items", []):
                out.append(
                    (_id(ln.get("item")), _id(ln.get("account")), Decimal(str(ln["amount"])))
                )
        for ln in (doc.get("line") or {}).get("items", []):
            amount = Decimal(str(ln.get("debit") or 0)) - Decimal(str(ln.get("credit") or 0))
            out.append((None, _id(ln.get("account")), amount))
        return out
    for ln in doc.get("Line", []):
        dtype = ln.get("DetailType")
        if dtype == "SubTotalLineDetail":
            continue
        detail = ln.get(dtype) or {}
        amount = Decimal(str(ln["Amount"]))
        if detail.get("PostingType") == "Credit":
            amount = -amount
        out.append((_id(detail.get("ItemRef")), _id(detail.get("AccountRef")), amount))
    return out


def total(world, doc) -> Decimal:
    return Decimal(str(doc.get("total") if world.kind == "netsuite" else doc.get("TotalAmt")))


def set_policies(world, **policies) -> None:
    """Add to the connection's policies (``World.set_policies`` replaces them)."""
    current = type(world.erp_conn).objects.get(pk=world.erp_conn.pk).policies or {}
    world.set_policies(**{**current, **policies})


def writes(world) -> int:
    return world.writes()


def commitment_rec(world, pid: str) -> dict:
    return world.procore.store.get("commitments", int(pid))


def new_requisition(
    world,
    commitment_pid: str,
    work: dict[int, str],
    *,
    invoice: str,
    released: str | None = None,
    status: str = "approved",
) -> str:
    """A pay app on a commitment as the subcontractor and the PM would enter it."""
    sb = world.procore
    with sb.as_person():
        made = sb.create_requisition(
            commitment_rec(world, commitment_pid),
            {
                "invoice_number": invoice,
                "status": "draft",
                "requisition_start": "2025-07-01",
                "requisition_end": "2025-07-31",
                "billing_date": "2025-07-31",
            },
        )
        for index, item in enumerate(made["_items"]):
            data = {"work_completed_this_period": Decimal(work.get(index, "0"))}
            if released and index == 0:
                data["work_completed_retainage_released_this_period"] = Decimal(released)
            sb.update_requisition_item(made, item["id"], data, person=True)
        sb.update_requisition(made, {"status": status}, person=True)
    return str(made["id"])


def approve_requisition(world, rid: str) -> None:
    sb = world.procore
    with sb.as_person():
        sb.update_requisition(
            sb.store.get("requisitions", int(rid)), {"status": "approved"}, person=True
        )


def ten_percent(amount: Decimal) -> Decimal:
    return (amount * Decimal("0.10")).quantize(CENT)
