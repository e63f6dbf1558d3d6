"""Reconciliation: compare both systems, open / auto-resolve RECONCILIATION_DRIFT items, store
per-project totals.

``reconcile_connection`` reads once per side (Procore: per mapped project its commitments and
requisitions; the ERP: its POs, bills and bill payments, ``erp_docs``), then

* compares every bound commitment (PO amount; its lines against what we last wrote; void in
  Procore while the PO lives on) and every bound requisition (bill amount, paid date / paid);
* looks for ERP bills on the project's job with no Procore source (no binding, no requisition
  with that invoice number) and counts Procore documents not in the ERP yet;
* keeps one active drift item per record: a second run over the same drift updates nothing,
  a changed difference is recorded on the item, a drift that disappeared auto-resolves;
* stores ProjectTotals per project and currency, both sides, as of the read.

Records with an active engine item (a held change, a dead letter) are not reported again: the
queue already shows that they differ.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from reconciliation.erp_docs import ZERO, ErpDoc, dec, erp_docs
from reconciliation.models import ProjectTotals, ReconciliationRun, ReconStatus
from sync.fingerprint import canonical
from sync.models import ACTIVE_STATUSES, Binding, Connection, ExceptionItem, ItemStatus
from sync.reasons import explain, reason
from sync.services.exceptions import item_event, item_transition
from sync.services.locks import lock_acquire, lock_release

log = logging.getLogger(__name__)

DRIFT = "RECONCILIATION_DRIFT"
LOCK = "reconciliation"
ERP_BILL = "erp_bill"  # object type of a drift item about an ERP bill with no Procore source
COMMITTED_STATUSES = ("Approved", "Complete", "Closed")
VOIDED = ("Void", "Terminated")


@dataclass
class Drift:
    object_type: str
    procore_id: str
    document: str
    difference: dict[str, dict[str, Any]]
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Procore:
    """What one project holds in Procore, read once."""

    project: Any
    commitments: dict[str, Any] = field(default_factory=dict)
    requisitions: dict[str, Any] = field(default_factory=dict)


def _context(connection, clients, lookup):
    from sync.services.runs import build_context

    return build_context(connection, clients=clients, lookup=lookup)


def _calls(ctx) -> int:
    return int(getattr(ctx.procore, "calls", 0)) + int(ctx.erp.calls)


# -- the run ------------------------------------------------------------------------------


def reconcile_connection(
    *, connection_id: int, trigger: str = "manual", clients=None, lookup=None
) -> ReconciliationRun:
    connection = Connection.objects.select_related("procore_connection").get(pk=connection_id)
    run = ReconciliationRun.objects.create(connection=connection, trigger=trigger)
    token = lock_acquire(connection_id=connection.pk, flow=LOCK)
    if token is None:
        return _finish(run, ReconStatus.LOCKED, "another reconciliation is running")
    ctx = None
    try:
        ctx = _context(connection, clients, lookup)
        projects = [(p, t) for p, t in ctx.projects() if t is not None]
        ReconciliationRun.objects.filter(pk=run.pk).update(total=len(projects))
        as_of = timezone.now()
        docs = erp_docs(connection.kind, ctx.erp.client)
        seen: list[Drift] = []
        for project, target in projects:
            side = _read_procore(ctx, project)
            seen += _compare_project(ctx, run, side, target, docs)
            _store_totals(run, connection, side, target, docs, as_of)
            ReconciliationRun.objects.filter(pk=run.pk).update(done=F("done") + 1)
        opened, resolved = _apply_drifts(connection, seen, full=True)
        run.refresh_from_db()
        ReconciliationRun.objects.filter(pk=run.pk).update(
            as_of=as_of,
            drifts_open=len(seen),
            drifts_opened=opened,
            drifts_resolved=resolved,
            api_calls=_calls(ctx),
        )
        return _finish(run, ReconStatus.SUCCEEDED)
    except Exception as exc:
        if ctx is not None:
            ReconciliationRun.objects.filter(pk=run.pk).update(api_calls=_calls(ctx))
        _finish(run, ReconStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        lock_release(connection_id=connection.pk, flow=LOCK, token=token)


def _finish(run: ReconciliationRun, status: str, error: str = "") -> ReconciliationRun:
    ReconciliationRun.objects.filter(pk=run.pk).update(
        status=status, error=error[:5000], finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def _read_procore(ctx, project) -> Procore:
    side = Procore(project=project)
    for c in ctx.procore.commitments(project.id, with_lines=True):
        side.commitments[c.id] = c
    for r in ctx.procore.requisitions(project.id):
        if r.deleted_at is None:
            side.requisitions[r.id] = r
    return side


def _currency(side: Procore, target) -> str:
    for c in side.commitments.values():
        if c.currency:
            return str(c.currency)[:3]
    code = str(target.currency or "")
    return code if len(code) == 3 and code.isalpha() else "USD"


def _job(target) -> str:
    return str(target.erp_job_id or target.erp_customer_id or "")


# -- per-project totals ---------------------------------------------------------------------


def procore_totals(side: Procore) -> dict[str, Decimal]:
    """Committed: approved commitments' lines; billed: each requisition's amount this period;
    paid: what was due on requisitions Procore shows paid; retained: each commitment's latest
    requisition's retainage to date."""
    from sync.mappers import total

    committed = sum(
        (
            total(c.lines)
            for c in side.commitments.values()
            if c.status in COMMITTED_STATUSES and c.deleted_at is None
        ),
        ZERO,
    )
    reqs = [r for r in side.requisitions.values() if (r.status or "draft") != "draft"]
    billed = sum((dec(r.total_claimed_amount) for r in reqs), ZERO)
    paid = sum((dec(r.g702.current_payment_due) for r in reqs if r.payment_date), ZERO)
    latest: dict[str, Any] = {}
    for r in reqs:
        key = str(r.commitment_id)
        if key not in latest or int(r.number or 0) > int(latest[key].number or 0):
            latest[key] = r
    retained = sum((dec(r.g702.total_retainage) for r in latest.values()), ZERO)
    return {"committed": committed, "billed": billed, "paid": paid, "retained": retained}


def erp_totals(docs: dict[str, dict[str, ErpDoc]], job: str) -> dict[str, Decimal]:
    pos = [d for d in docs["po"].values() if d.job == job]
    bills = [d for d in docs["bill"].values() if d.job == job]
    return {
        "committed": sum((d.total for d in pos), ZERO),
        "billed": sum((d.gross for d in bills), ZERO),
        "paid": sum((d.paid for d in bills), ZERO),
        "retained": sum((d.retained for d in bills), ZERO),
    }


def _store_totals(run, connection, side, target, docs, as_of) -> None:
    ours, theirs = procore_totals(side), erp_totals(docs, _job(target))
    ProjectTotals.objects.create(
        run=run,
        connection=connection,
        procore_project_id=str(side.project.id),
        project_name=str(getattr(side.project, "name", "") or "")[:200],
        currency=_currency(side, target),
        as_of=as_of,
        **{f"{k}_procore": v for k, v in ours.items()},
        **{f"{k}_erp": v for k, v in theirs.items()},
    )
    # The PM reports' per-document figures (reconciliation/figures.py), from the same reads.
    from reconciliation.figures import figures_store

    figures_store(
        run=run,
        connection=connection,
        side=side,
        target=target,
        docs=docs,
        currency=_currency(side, target),
        as_of=as_of,
    )


# -- record comparisons ---------------------------------------------------------------------


def _busy(connection, object_type: str, procore_id: str) -> bool:
    """The engine already has an active item for this record (held change, dead letter)."""
    return (
        ExceptionItem.objects.filter(
            connection=connection,
            object_type=object_type,
            procore_id=procore_id,
            status__in=ACTIVE_STATUSES,
        )
        .exclude(reason_code=DRIFT)
        .exists()
    )


def _amended(connection, commitment_id: str) -> Decimal:
    """Change-order lines written into the PO itself (amend in place): part of the PO total."""
    extra = ZERO
    for b in Binding.objects.filter(
        connection=connection,
        object_type="commitment_change_order",
        parent_procore_id=commitment_id,
        erp_id__contains=":",
    ):
        lines = (b.payload or {}).get("lines") or []
        for line in lines if isinstance(lines, list) else [lines]:
            if isinstance(line, dict):
                extra += dec(line.get("Amount", line.get("amount")))
    return extra


def _diff(field_name: str, procore: Any, erp: Any) -> dict[str, dict[str, Any]]:
    return (
        {}
        if procore == erp
        else {field_name: {"procore": canonical(procore), "erp": canonical(erp)}}
    )


def _commitment_drift(ctx, binding, c, doc: ErpDoc | None) -> Drift | None:
    from sync.mappers import total

    document = (c.number if c else "") or binding.erp_number or binding.procore_id
    diff: dict[str, dict[str, Any]] = {}
    if doc is None:
        if c is not None and c.status not in VOIDED and c.deleted_at is None:
            diff["exists"] = {"procore": True, "erp": False}
    elif c is None or c.deleted_at is not None or c.status in VOIDED:
        diff["status"] = {
            "procore": "deleted" if c is None or c.deleted_at else c.status,
            "erp": "open",
        }
    else:
        expected = dec(total(c.lines)) + _amended(ctx.connection, c.id)
        diff.update(_diff("amount", expected, doc.total))
        if not diff:
            last = ctx.erp.summary(binding.erp_type, binding.payload).get("lines")
            now = ctx.erp.summary(binding.erp_type, doc.raw).get("lines")
            # Bulk reads may carry no sublists (NetSuite's SuiteQL rows): compare only what
            # both sides show.
            if last and now and last != now and not _amended(ctx.connection, c.id):
                diff["lines"] = {"procore": last, "erp": now}
    if not diff:
        return None
    return Drift(
        "commitment", binding.procore_id, document, diff, {"vendor": c.vendor_id if c else ""}
    )


def _requisition_drift(ctx, binding, r, doc: ErpDoc | None) -> Drift | None:
    document = (r.invoice_number if r else "") or binding.erp_number or binding.procore_id
    diff: dict[str, dict[str, Any]] = {}
    if r is None:
        diff["exists"] = {"procore": False, "erp": True}
    elif doc is None:
        diff["exists"] = {"procore": True, "erp": False}
    else:
        diff.update(_diff("amount", dec(r.total_claimed_amount), doc.gross))
        erp_paid = doc.paid > 0 and doc.paid >= doc.total
        if doc.paid_on is not None:
            diff.update(_diff("paid_date", r.payment_date, doc.paid_on))
        else:  # the ERP's copy carries no payment date (NetSuite bills): paid or not
            diff.update(_diff("paid", r.payment_date is not None, erp_paid))
    if not diff:
        return None
    return Drift("requisition", binding.procore_id, document, diff)


def _compare_project(ctx, run, side: Procore, target, docs) -> list[Drift]:
    drifts: list[Drift] = []
    conn = ctx.connection
    job = _job(target)
    compared = 0
    bindings = Binding.objects.filter(
        connection=conn, object_type__in=("commitment", "requisition")
    )
    commitment_ids, requisition_ids = set(side.commitments), set(side.requisitions)
    for b in bindings:
        if b.object_type == "commitment" and (
            b.procore_id in commitment_ids or b.parent_procore_id == str(side.project.id)
        ):
            if _busy(conn, b.object_type, b.procore_id):
                continue
            compared += 1
            d = _commitment_drift(
                ctx, b, side.commitments.get(b.procore_id), docs["po"].get(b.erp_id)
            )
        elif b.object_type == "requisition" and b.procore_id in requisition_ids:
            if _busy(conn, b.object_type, b.procore_id):
                continue
            compared += 1
            d = _requisition_drift(
                ctx, b, side.requisitions.get(b.procore_id), docs["bill"].get(b.erp_id)
            )
        else:
            continue
        if d is not None:
            d.facts.update(
                procore_project_id=str(side.project.id),
                project_name=getattr(side.project, "name", ""),
            )
            drifts.append(d)
    # ERP bills on this project's job that no Procore requisition accounts for.
    bound = set(Binding.objects.filter(connection=conn).values_list("erp_id", flat=True))
    numbers = {str(r.invoice_number or "").strip().lower() for r in side.requisitions.values()}
    unbound_erp = 0
    for doc in docs["bill"].values():
        if doc.job != job or doc.erp_id in bound:
            continue
        unbound_erp += 1
        if doc.number.strip().lower() in numbers and doc.number:
            continue  # its requisition exists: the bills flow / a full resync binds it
        drifts.append(
            Drift(
                ERP_BILL,
                f"erp:{doc.erp_id}",
                f"{doc.erp_type} {doc.number or doc.erp_id}",
                {
                    "source": {
                        "procore": None,
                        "erp": f"{doc.erp_type} {doc.number or doc.erp_id} ({doc.total})",
                    }
                },
                {
                    "procore_project_id": str(side.project.id),
                    "project_name": getattr(side.project, "name", ""),
                    "document_number": doc.number,
                    "amount": doc.total,
                    "vendor": doc.vendor,
                },
            )
        )
    bound_procore = set(
        Binding.objects.filter(connection=conn, object_type="commitment").values_list(
            "procore_id", flat=True
        )
    )
    unbound_procore = sum(
        1
        for c in side.commitments.values()
        if c.status in COMMITTED_STATUSES and c.deleted_at is None and c.id not in bound_procore
    )
    ReconciliationRun.objects.filter(pk=run.pk).update(
        compared=F("compared") + compared,
        unbound_erp=F("unbound_erp") + unbound_erp,
        unbound_procore=F("unbound_procore") + unbound_procore,
    )
    return drifts


# -- drift items ----------------------------------------------------------------------------


def _describe(difference: dict[str, dict[str, Any]]) -> str:
    return "; ".join(
        f"{name}: Procore {v.get('procore') if v.get('procore') is not None else '—'}, "
        f"ERP {v.get('erp') if v.get('erp') is not None else '—'}"
        for name, v in sorted(difference.items())
    )


def _apply_drifts(connection, drifts: list[Drift], *, full: bool, scope=None) -> tuple[int, int]:
    """Open or update one item per drifting record; auto-resolve the ones no longer drifting
    (every active drift item of the connection after a full run; ``scope`` records after a
    targeted one)."""
    opened = 0
    keys = set()
    for d in drifts:
        keys.add((d.object_type, d.procore_id))
        opened += drift_open(connection=connection, drift=d)
    active = ExceptionItem.objects.filter(
        connection=connection, reason_code=DRIFT, status__in=ACTIVE_STATUSES
    )
    resolved = 0
    for item in active:
        key = (item.object_type, item.procore_id)
        if key in keys or (not full and key not in (scope or set())):
            continue
        resolved += item_transition(
            item=item,
            to=ItemStatus.AUTO_RESOLVED,
            action="auto_resolved",
            note="reconciliation: both systems agree again",
        )
    return opened, resolved


def drift_open(*, connection: Connection, drift: Drift) -> int:
    """1 when a new item was opened; an existing active item for the same record is updated
    only when the difference changed."""
    details = {
        "difference": {
            name: {side: canonical(v) for side, v in sides.items()}
            for name, sides in drift.difference.items()
        },
        "document": drift.document,
    }
    explanation = explain(DRIFT, document=drift.document, difference=_describe(drift.difference))
    facts = drift.facts
    item = (
        ExceptionItem.objects.filter(
            connection=connection,
            reason_code=DRIFT,
            object_type=drift.object_type,
            procore_id=drift.procore_id,
            status__in=ACTIVE_STATUSES,
        )
        .order_by("pk")
        .first()
    )
    if item is not None:
        if item.details != details:
            before = item.details
            ExceptionItem.objects.filter(pk=item.pk).update(
                details=details, explanation=explanation, updated_at=timezone.now()
            )
            item_event(
                item=item, action="drift_changed", note=explanation, before=before, after=details
            )
        return 0
    amount = facts.get("amount")
    item = ExceptionItem.objects.create(
        connection=connection,
        object_type=drift.object_type,
        procore_id=drift.procore_id,
        reason_code=DRIFT,
        explanation=explanation,
        fix=reason(DRIFT).fix,
        details=details,
        procore_project_id=str(facts.get("procore_project_id") or "")[:64],
        project_name=str(facts.get("project_name") or "")[:200],
        vendor=str(facts.get("vendor") or "")[:64],
        document_number=str(facts.get("document_number") or drift.document or "")[:100],
        amount=dec(amount) if amount is not None else None,
    )
    item_event(item=item, action="opened", note=explanation, after={"reason": DRIFT})
    return 1


def bindings_reconcile(
    *, connection_id: int, binding_ids: list[int], clients=None, lookup=None
) -> int:
    """Compare a few bound records now (an ERP webhook named them); returns how many."""
    connection = Connection.objects.select_related("procore_connection").get(pk=connection_id)
    ctx = _context(connection, clients, lookup)
    bindings = list(
        Binding.objects.filter(pk__in=binding_ids, object_type__in=("commitment", "requisition"))
    )
    if not bindings:
        return 0
    docs = erp_docs(connection.kind, ctx.erp.client)
    drifts, scope = [], set()
    by_project: dict[str, Any] = {}
    for project, target in ctx.projects():
        if target is not None:
            by_project[str(project.id)] = _read_procore(ctx, project)
    for b in bindings:
        scope.add((b.object_type, b.procore_id))
        if _busy(connection, b.object_type, b.procore_id):
            continue
        for side in by_project.values():
            if b.object_type == "commitment" and b.procore_id in side.commitments:
                d = _commitment_drift(
                    ctx, b, side.commitments[b.procore_id], docs["po"].get(b.erp_id)
                )
            elif b.object_type == "requisition" and b.procore_id in side.requisitions:
                d = _requisition_drift(
                    ctx, b, side.requisitions[b.procore_id], docs["bill"].get(b.erp_id)
                )
            else:
                continue
            if d is not None:
                d.facts.update(
                    procore_project_id=str(side.project.id),
                    project_name=getattr(side.project, "name", ""),
                )
                drifts.append(d)
            break
    _apply_drifts(connection, drifts, full=False, scope=scope)
    return len(bindings)


def per_currency(totals) -> dict[str, dict[str, Decimal]]:
    """Sum ProjectTotals rows per currency (the PM report's footer)."""
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in totals:
        for figure in ProjectTotals.FIGURES:
            for side in ("procore", "erp"):
                out[row.currency][f"{figure}_{side}"] += getattr(row, f"{figure}_{side}")
    return {k: dict(v) for k, v in out.items()}
