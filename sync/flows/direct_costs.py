"""Direct costs → the ERP, by cost code.

Decision (issue 6 leaves it open): a direct cost of type *invoice* with a vendor is a supplier's
bill, payable to that vendor, so it becomes a NetSuite ``vendorBill`` / QuickBooks ``Bill``
(its lines by cost code like a subcontractor's bill, no retainage, numbered with the supplier's
invoice number: SUSPECTED_DUPLICATE applies). Anything else (payroll, expenses, an invoice
without a vendor) has no payee in the ERP, so it becomes a ``journalEntry`` / ``JournalEntry``:
debit the cost code's GL account per line (with the job and the class), credit the account
mapped to the *suspense* role, the clearing account the payroll run or the card statement is
reconciled against. A journal needs an account: a cost code mapped only to an item holds the
direct cost as UNMAPPED_COST_CODE until an account is added to that mapping.

Only approved direct costs go to the ERP; a deleted one that reached it proposes the delete
(SOURCE_DELETED).
"""

from __future__ import annotations

from connectors.procore.schemas import DirectCost
from connectors.procore.writes import Origin
from sync.flows.base import Plan
from sync.flows.documents import DocumentFlow, cached, docs_for, vendor_holds, void_plan
from sync.lookups import MappingMissing
from sync.mappers import line_amount, line_codes, total
from sync.models import Kind, Operation

APPROVED = ("approved",)


def _direct_costs(ctx, project_id: str) -> list[DirectCost]:
    def load():
        path = f"/rest/v1.1/projects/{project_id}/direct_costs"
        params = {"view": "extended", "filters[include_deleted]": "with"}
        out = []
        for row in ctx.procore.rows(path, params):
            lines = None
            if "line_items" not in row:
                lines_path = f"/rest/v1.0/projects/{project_id}/direct_costs/{row['id']}/line_items"
                lines = list(ctx.procore.rows(lines_path))
            out.append(DirectCost.parse(row, lines))
        return out

    return cached(ctx, f"direct_costs:{project_id}", load)


def is_bill(dc: DirectCost) -> bool:
    return (dc.direct_cost_type or "").lower() == "invoice" and bool(dc.vendor_id)


class DirectCostsFlow(DocumentFlow):
    name = "direct_costs"
    binding_type = "direct_cost"

    def fetch(self, ctx, procore_id=None):
        for project, target in ctx.projects():
            if target is None:
                continue
            for dc in _direct_costs(ctx, project.id):
                if procore_id and dc.id != str(procore_id):
                    continue
                source = self.source(dc.id, dc, project.id)
                if dc.deleted_at is not None:
                    source.deleted = True
                elif (dc.status or "").lower() not in APPROVED:
                    source.skip = f"status {dc.status}"
                yield source

    def _debits(self, ctx, dc, target, project_id):
        out = []
        for line in dc.lines:
            code, ctype = line_codes(line)
            cost = ctx.lookup.cost(
                cost_code=code,
                cost_type=ctype,
                subsidiary_id=target.subsidiary_id,
                procore_project_id=project_id,
            )
            if not cost.account_id:
                raise MappingMissing(
                    table="cost_code",
                    key={"cost_code": code, "cost_type": ctype},
                    subsidiary=target.subsidiary_id,
                    project=project_id,
                    reason_code="UNMAPPED_COST_CODE",
                    connection_id=ctx.connection.pk,
                )
            memo = f"{code} {line.description or ''}".strip()
            out.append((cost.account_id, cost.class_id, memo, line_amount(line)))
        return out

    def propose(self, ctx, source, binding):
        dc = source.record
        number = dc.invoice_number or dc.id
        facts = {
            "procore_project_id": source.project_id or "",
            "vendor": dc.vendor_id or "",
            "document": f"direct cost {number} ({dc.direct_cost_type or 'cost'})",
            "document_number": number,
        }
        if source.deleted:
            return void_plan(binding, facts)
        target = ctx.lookup.project(source.project_id)
        job_id = target.erp_job_id or target.erp_customer_id
        docs = docs_for(ctx)
        holds = []
        if is_bill(dc):
            vendor = ctx.lookup.vendor(dc.vendor_id)
            payload = docs.direct_cost_bill(
                dc,
                ctx.lookup,
                target=target,
                job_id=job_id,
                project_id=source.project_id,
                vendor_id=vendor.erp_vendor_id,
            )
            erp_type = docs.VENDOR_BILL if ctx.kind == Kind.NETSUITE else docs.BILL
            holds = vendor_holds(ctx, vendor, target, source.project_id)
        else:
            payload = docs.direct_cost_journal(
                dc,
                self._debits(ctx, dc, target, source.project_id),
                target=target,
                job_id=job_id,
                credit_account=ctx.lookup.account("suspense", subsidiary_id=target.subsidiary_id),
            )
            erp_type = docs.JOURNAL_ENTRY
        facts.update(
            subsidiary=target.subsidiary_id or "",
            currency=target.currency,
            amount=total(dc.lines),
        )
        plan = Plan(
            operation=Operation.UPDATE if binding else Operation.CREATE,
            erp_type=binding.erp_type if binding else erp_type,
            erp_id=binding.erp_id if binding else "",
            payload=payload,
            number=payload.get("tranId") or payload.get("DocNumber") or number,
            facts=facts,
            check_duplicates=erp_type != docs.JOURNAL_ENTRY,
            context={"kind": dc.direct_cost_type or ""},
        )
        plan.holds += holds
        return plan

    def write_back(self, ctx, binding):
        context = self._sent_context(ctx, binding)
        ctx.procore.set_direct_cost_origin(
            binding.procore_id,
            context.get("project_id", ""),
            Origin(ctx.origin_id(binding.erp_id), self.origin_data(ctx, binding)),
        )
