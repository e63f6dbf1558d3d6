"""Per-document and per-project figures for the PM reports, written by the reconciliation run
(``figures_store``, called once per project while both sides are in memory).

Pairs: a Procore commitment with the ERP purchase order it is bound to (plus separate change
order documents bound under it), else an unbound ERP purchase order on the project's job with
the same number (a copy entered by hand, waiting to be linked); a requisition with its bound
bill, else an unbound bill with the same invoice number. ERP documents on the job that none
of these account for get rows of their own. Figures:

* committed: Procore original lines + approved change orders when the commitment is approved
  / complete / closed; ERP the PO total (and its change-order documents);
* billed: work claimed (Procore ``total_claimed_amount``; ERP bill lines other than
  retainage); paid: Procore what was due on paid requisitions, ERP what was paid on the
  bill; retained: Procore the latest requisition's retainage to date, ERP held less released
  on the bills.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from reconciliation.erp_docs import ZERO, ErpDoc, dec
from reconciliation.figures_models import FIGURES, DocKind, DocumentFigures, ProjectFigures
from sync.models import Binding

COMMITTED_STATUSES = ("Approved", "Complete", "Closed")


def _norm(text: Any) -> str:
    return str(text or "").strip().lower()


def _vendor(c) -> tuple[str, str]:
    raw = (getattr(c, "raw", None) or {}).get("vendor") or {}
    return str(c.vendor_id or ""), str(raw.get("company") or raw.get("name") or "")[:200]


def procore_committed(c) -> Decimal:
    from sync.mappers import total

    if c.status not in COMMITTED_STATUSES or c.deleted_at is not None:
        return ZERO
    return dec(total(c.lines)) + dec(c.approved_change_orders)


def _procore_billing(requisitions) -> dict[str, dict[str, Decimal]]:
    """Per requisition id: billed, paid and (on the commitment's latest one) retained."""
    out: dict[str, dict[str, Decimal]] = {}
    latest: dict[str, Any] = {}
    for r in requisitions:
        if (r.status or "draft") == "draft":
            continue
        out[r.id] = {
            "billed": dec(r.total_claimed_amount),
            "paid": dec(r.g702.current_payment_due) if r.payment_date else ZERO,
            "retained": ZERO,
        }
        key = str(r.commitment_id)
        if key not in latest or int(r.number or 0) > int(latest[key].number or 0):
            latest[key] = r
    for r in latest.values():
        out[r.id]["retained"] = dec(r.g702.total_retainage)
    return out


def _row(**kw) -> DocumentFigures:
    row = DocumentFigures(**kw)
    row.has_variance = row.differs()
    return row


def document_rows(*, run, connection, side, target, docs, currency: str) -> list[DocumentFigures]:
    project_id = str(side.project.id)
    job = str(target.erp_job_id or target.erp_customer_id or "")
    pos = {d.erp_id: d for d in docs["po"].values() if d.job == job}
    bills = {d.erp_id: d for d in docs["bill"].values() if d.job == job}
    ids = list(side.commitments) + list(side.requisitions)
    bindings = list(
        Binding.objects.filter(connection=connection, procore_id__in=ids).values(
            "object_type", "procore_id", "erp_id", "erp_number"
        )
    ) + list(
        Binding.objects.filter(
            connection=connection,
            object_type="commitment_change_order",
            parent_procore_id__in=list(side.commitments),
        ).values("object_type", "procore_id", "erp_id", "erp_number", "parent_procore_id")
    )
    bound = {(b["object_type"], b["procore_id"]): b for b in bindings}
    co_docs: dict[str, list[str]] = defaultdict(list)
    for b in bindings:
        if b["object_type"] == "commitment_change_order" and ":" not in b["erp_id"]:
            co_docs[b["parent_procore_id"]].append(b["erp_id"])  # a separate revision PO
    used: set[str] = set()
    base = {
        "run": run,
        "connection": connection,
        "procore_project_id": project_id,
        "currency": currency,
    }
    pos_by_number = defaultdict(list)
    for d in pos.values():
        pos_by_number[_norm(d.number)].append(d)
    bills_by_number = defaultdict(list)
    for d in bills.values():
        bills_by_number[_norm(d.number)].append(d)
    all_bound = {b["erp_id"] for b in bindings}

    def pick(binding, by_number, everything, number) -> tuple[ErpDoc | None, str]:
        if binding is not None:  # the binding decides, whatever job the lines name
            doc = everything.get(binding["erp_id"])
            if doc is not None:
                used.add(doc.erp_id)
            return doc, "binding"
        for doc in by_number.get(_norm(number), ()) if number else ():
            if doc.erp_id not in used and doc.erp_id not in all_bound:
                used.add(doc.erp_id)
                return doc, "number"
        return None, ""

    rows: list[DocumentFigures] = []
    vendors: dict[str, tuple[str, str]] = {}
    for c in side.commitments.values():
        vendors[c.id] = _vendor(c)
        binding = bound.get(("commitment", c.id))
        doc, how = pick(binding, pos_by_number, docs["po"], c.number)
        erp_committed = doc.total if doc else ZERO
        for erp_id in co_docs.get(c.id, ()):
            extra = docs["po"].get(erp_id)
            if extra is not None:
                used.add(erp_id)
                erp_committed += extra.total
        committed = procore_committed(c)
        if not committed and doc is None and (c.deleted_at or c.status not in COMMITTED_STATUSES):
            continue  # a draft / void commitment with nothing in the ERP: nothing to report
        vendor_id, vendor_name = vendors[c.id]
        rows.append(
            _row(
                **base,
                kind=DocKind.COMMITMENT,
                procore_id=c.id,
                commitment_id=c.id,
                number=str(c.number or "")[:100],
                title=str(c.title or "")[:200],
                status="Deleted" if c.deleted_at else str(c.status or "")[:40],
                vendor_id=vendor_id,
                vendor_name=vendor_name,
                erp_vendor_id=doc.vendor if doc else "",
                erp_type=doc.erp_type if doc else "",
                erp_id=doc.erp_id if doc else (binding or {}).get("erp_id", ""),
                erp_number=(doc.number if doc else (binding or {}).get("erp_number", ""))[:100],
                matched_by=how,
                committed_procore=committed,
                committed_erp=erp_committed,
            )
        )
    billing = _procore_billing(side.requisitions.values())
    for r in side.requisitions.values():
        figures = billing.get(r.id)
        binding = bound.get(("requisition", r.id))
        doc, how = pick(binding, bills_by_number, docs["bill"], r.invoice_number)
        if figures is None and doc is None:
            continue  # a draft pay app
        figures = figures or {"billed": ZERO, "paid": ZERO, "retained": ZERO}
        vendor_id, vendor_name = vendors.get(str(r.commitment_id), ("", ""))
        rows.append(
            _row(
                **base,
                kind=DocKind.REQUISITION,
                procore_id=r.id,
                commitment_id=str(r.commitment_id or ""),
                number=str(r.invoice_number or r.number or "")[:100],
                title=f"Pay application #{r.number}" if r.number else "Pay application",
                status=str(r.status or "")[:40],
                vendor_id=vendor_id,
                vendor_name=vendor_name,
                erp_vendor_id=doc.vendor if doc else "",
                erp_type=doc.erp_type if doc else "",
                erp_id=doc.erp_id if doc else (binding or {}).get("erp_id", ""),
                erp_number=(doc.number if doc else (binding or {}).get("erp_number", ""))[:100],
                matched_by=how,
                billed_procore=figures["billed"],
                paid_procore=figures["paid"],
                retained_procore=figures["retained"],
                billed_erp=doc.gross if doc else ZERO,
                paid_erp=doc.paid if doc else ZERO,
                retained_erp=doc.retained if doc else ZERO,
            )
        )
    for kind, pool in ((DocKind.ERP_PO, pos), (DocKind.ERP_BILL, bills)):
        for doc in pool.values():
            if doc.erp_id in used:
                continue
            figures = (
                {"committed_erp": doc.total}
                if kind == DocKind.ERP_PO
                else {"billed_erp": doc.gross, "paid_erp": doc.paid, "retained_erp": doc.retained}
            )
            rows.append(
                _row(
                    **base,
                    kind=kind,
                    number=doc.number[:100],
                    title=f"{doc.erp_type} {doc.number or doc.erp_id}"[:200],
                    erp_vendor_id=doc.vendor,
                    erp_type=doc.erp_type,
                    erp_id=doc.erp_id,
                    erp_number=doc.number[:100],
                    **figures,
                )
            )
    return rows


def project_row(*, run, connection, side, target, currency, as_of, rows) -> ProjectFigures:
    sums = {f"{f}_{s}": ZERO for f in FIGURES for s in ("procore", "erp")}
    for row in rows:
        for name in sums:
            sums[name] += getattr(row, name)
    project = side.project
    out = ProjectFigures(
        run=run,
        connection=connection,
        procore_project_id=str(project.id),
        project_name=str(getattr(project, "name", "") or "")[:200],
        project_number=str(getattr(project, "project_number", "") or "")[:60],
        active=bool(getattr(project, "active", True)),
        subsidiary_id=str(getattr(target, "subsidiary_id", "") or "")[:40],
        currency=currency,
        as_of=as_of,
        documents=len(rows),
        **sums,
    )
    out.has_variance = out.differs()
    return out


def figures_store(*, run, connection, side, target, docs, currency: str, as_of) -> None:
    rows = document_rows(
        run=run, connection=connection, side=side, target=target, docs=docs, currency=currency
    )
    DocumentFigures.objects.bulk_create(rows, batch_size=1000)
    project_row(
        run=run,
        connection=connection,
        side=side,
        target=target,
        currency=currency,
        as_of=as_of,
        rows=rows,
    ).save()
