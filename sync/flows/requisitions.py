"""Subcontractor invoices (Procore requisitions) → NetSuite vendorBill / QuickBooks Bill, and
retainage releases → a bill for the released amount on retention payable.

One Procore requisition belongs to exactly one of the two flows: a requisition that bills no
work and releases retainage is a *retainage release* (``retainage_releases``); any other is a
*subcontractor invoice* (``requisitions``), whose bill also carries a release made on the same
pay app as a positive retention-payable line (as the seeded ERP history does).

Rules of these flows, on top of the engine's:

* only approved requisitions go to the ERP (``approved``, ``approved_as_noted``); the bill is
  numbered with the subcontractor's own invoice number, as bills keyed in by hand are, which
  is what SUSPECTED_DUPLICATE compares (vendor + number + amount);
* the vendor must be linked (UNKNOWN_VENDOR) and, in NetSuite, assigned to the project's
  subsidiary (VENDOR_NOT_IN_SUBSIDIARY); the document takes the project's subsidiary and
  currency;
* OVER_COMMITMENT: a pay app billing more than the commitment's remaining balance
  (commitment + approved change orders − earlier pay apps), or whose lines do not add up to
  its header (G702 ``current_payment_due`` / ``total_claimed_amount``), or that releases more
  retainage than is held, waits for a controller with the figures in the explanation;
* the bill links to the commitment's ERP PO when the commitment is bound (NetSuite per item
  line with ``orderDoc``/``orderLine``, QuickBooks with ``LinkedTxn``); a commitment the ERP
  does not hold through erpbridge yet gives an unlinked bill (noted in the change's context).
"""

from __future__ import annotations

from connectors.procore.writes import Origin
from sync.flows.base import Hold, Plan
from sync.flows.documents import (
    APPROVED,
    DocumentFlow,
    commitment_binding,
    docs_for,
    project_commitments,
    project_requisitions,
    vendor_holds,
    void_plan,
)
from sync.mappers.billing import (
    addition_problems,
    balance_before,
    requisition_figures,
    retainage_held_before,
)
from sync.models import Binding, Kind, Operation


class RequisitionsFlow(DocumentFlow):
    name = "requisitions"
    binding_type = "requisition"
    releases = False  # True: the retainage_releases flow

    def fetch(self, ctx, procore_id=None):
        for project, target in ctx.projects():
            if target is None:
                continue
            commitments = None
            for req in project_requisitions(ctx, project.id):
                if procore_id and req.id != str(procore_id):
                    continue
                if commitments is None:
                    commitments = project_commitments(ctx, project.id)
                source = self.source(req.id, req, project.id, parent_id=req.commitment_id or "")
                commitment = commitments.get(req.commitment_id or "")
                if req.deleted_at is not None:
                    source.deleted = True
                elif commitment is None:
                    source.skip = "its commitment is not readable in Procore"
                else:
                    figures = requisition_figures(req, commitment, ctx.codebook(project.id))
                    if figures.is_release != self.releases:
                        other = (
                            "a subcontractor invoice" if self.releases else "a retainage release"
                        )
                        source.skip = f"{other} (the other flow's record)"
                    elif (req.status or "") not in APPROVED:
                        source.skip = f"status {req.status}"
                if source.deleted and self.releases != self._bound_as_release(ctx, req.id):
                    continue  # the void belongs to the flow that wrote it
                if not source.skip and commitment is not None:
                    source.cache = self._carried(ctx, project.id, req, commitment)
                yield source

    def document_numbers(self, sources) -> list[str]:
        """The bills' numbers (as ``propose`` makes them), for the batch's duplicate search."""
        numbers = []
        for source in sources:
            req = source.record
            if req.invoice_number:
                numbers.append(req.invoice_number)
                continue
            cached = (source.cache or {}).get(f"commitments:{source.project_id}", {})
            commitment = cached.get(req.commitment_id or "")
            if commitment is not None:
                numbers.append(f"{commitment.number}-{req.number}")
        return numbers

    def _carried(self, ctx, project_id, req, commitment) -> dict:
        """What ``propose`` reads for this pay app: its commitment, the commitment's pay apps
        (the earlier ones are the balance), the project's code book."""
        pid = str(project_id)
        siblings = [
            r for r in project_requisitions(ctx, pid) if r.commitment_id == req.commitment_id
        ]
        return {
            f"commitments:{pid}": {commitment.id: commitment},
            f"requisitions:{pid}": siblings,
            f"codes:{pid}": ctx.codebook(pid),
        }

    def _bound_as_release(self, ctx, procore_id: str) -> bool:
        return Binding.objects.filter(
            connection=ctx.connection, object_type="retainage_release", procore_id=procore_id
        ).exists()

    def _earlier(self, ctx, source, req):
        return [
            r
            for r in project_requisitions(ctx, source.project_id)
            if r.commitment_id == req.commitment_id
            and r.deleted_at is None
            and int(r.number or 0) < int(req.number or 0)
        ]

    def propose(self, ctx, source, binding):
        req = source.record
        commitment = project_commitments(ctx, source.project_id).get(req.commitment_id or "")
        label = f"{commitment.number if commitment else req.commitment_id} pay app #{req.number}"
        facts = {
            "procore_project_id": source.project_id or "",
            "vendor": (commitment.vendor_id if commitment else "") or "",
            "document": f"{label} ({req.invoice_number or req.id})",
            "document_number": req.invoice_number or "",
        }
        if source.deleted:
            return void_plan(binding, facts)
        codes = ctx.codebook(source.project_id)
        figures = requisition_figures(req, commitment, codes)
        target = ctx.lookup.project(source.project_id)
        vendor = ctx.lookup.vendor(commitment.vendor_id or "")
        job_id = target.erp_job_id or target.erp_customer_id
        docs = docs_for(ctx)
        po = commitment_binding(ctx, commitment.id)
        number = req.invoice_number or f"{commitment.number}-{req.number}"
        day = req.billing_date or req.period_end
        common = {
            "target": target,
            "job_id": job_id,
            "project_id": source.project_id,
            "vendor_id": vendor.erp_vendor_id,
            "number": number,
            "day": day,
            "memo": label,
        }
        if ctx.kind == Kind.NETSUITE:
            payload = docs.vendor_bill(
                figures,
                ctx.lookup,
                po_id=po.erp_id if po else None,
                po_lines=docs.po_line_numbers(
                    commitment.lines, ctx.lookup, target=target, project_id=source.project_id
                )
                if po
                else None,
                **common,
            )
        else:
            payload = docs.bill(
                figures,
                ctx.lookup,
                pay_app_number=req.number,
                po_id=po.erp_id if po else None,
                **common,
            )
        facts.update(
            subsidiary=target.subsidiary_id or "",
            currency=target.currency,
            amount=figures.net,
        )
        plan = Plan(
            operation=Operation.UPDATE if binding else Operation.CREATE,
            erp_type=docs.VENDOR_BILL if ctx.kind == Kind.NETSUITE else docs.BILL,
            erp_id=binding.erp_id if binding else "",
            payload=payload,
            number=number,
            facts=facts,
            check_duplicates=True,
            context={
                "commitment_id": commitment.id,
                "po_linked": po.erp_id if po else "",
                "gross": str(figures.gross),
                "retainage_held": str(figures.held),
                "retainage_released": str(figures.released),
            },
        )
        plan.holds += self.over_commitment(ctx, source, req, commitment, figures, label)
        plan.holds += vendor_holds(ctx, vendor, target, source.project_id)
        return plan

    def over_commitment(self, ctx, source, req, commitment, figures, label) -> list[Hold]:
        earlier = self._earlier(ctx, source, req)
        codes = ctx.codebook(source.project_id)
        problems = addition_problems(req, figures)
        details = {
            "gross": figures.gross,
            "retainage_held": figures.held,
            "retainage_released": figures.released,
            "payable": figures.net,
        }
        amount, remaining = str(figures.gross), ""
        if figures.gross:
            bal = balance_before(commitment, earlier)
            details.update(
                commitment=bal.commitment,
                approved_change_orders=bal.approved_change_orders,
                previously_billed=bal.previously_billed,
                remaining=bal.remaining,
            )
            remaining = (
                f"{bal.remaining} (commitment {bal.commitment} + approved change orders "
                f"{bal.approved_change_orders} − previously billed {bal.previously_billed})"
            )
            if figures.gross > bal.remaining:
                problems.insert(0, f"bills {figures.gross - bal.remaining} over the remaining")
        if figures.released:
            held = retainage_held_before(earlier, commitment, codes) + figures.held
            details["retainage_held_before"] = held
            if figures.released > held:
                problems.append(f"releases {figures.released} of retainage, {held} is held")
                if not figures.gross:
                    amount = f"{figures.released} of retainage"
                    remaining = f"{held} of retainage held"
        if not problems:
            return []
        details["problems"] = problems
        return [
            Hold(
                "OVER_COMMITMENT",
                {
                    "document": label,
                    "amount": amount,
                    "remaining": (remaining or "n/a") + "; " + "; ".join(problems),
                },
                {k: str(v) if not isinstance(v, list) else v for k, v in details.items()},
            )
        ]

    def write_back(self, ctx, binding):
        context = self._sent_context(ctx, binding)
        project_id = context.get("project_id", "")
        ctx.procore.set_requisition_origin(
            binding.procore_id,
            project_id,
            Origin(ctx.origin_id(binding.erp_id), self.origin_data(ctx, binding)),
        )


class RetainageReleasesFlow(RequisitionsFlow):
    name = "retainage_releases"
    binding_type = "retainage_release"
    releases = True
