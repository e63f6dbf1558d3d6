"""Owner invoices (Procore prime contract payment applications) → NetSuite invoice / QuickBooks
Invoice to the project's customer/job, with retainage receivable.

The invoice bills the work of the period with the connection's *billing item* and takes the
retainage withheld by the owner off with the *retainage item* (a negative line; the item's
income account is retention receivable), as the seeded ERP history does. Neither ERP can put an
account on an invoice line, so the two items are connection settings
(``policies["owner_billing_item_id"]``, ``policies["owner_retainage_item_id"]``); a missing one
holds the invoice as UNMAPPED_ACCOUNT.

Only approved payment applications go to the ERP; the invoice number is Procore's invoice
number (SUSPECTED_DUPLICATE compares the customer/job, number and amount); a deleted
application that reached the ERP proposes the delete (SOURCE_DELETED).
"""

from __future__ import annotations

from connectors.procore.schemas import PaymentApplication
from connectors.procore.writes import Origin
from sync.flows.base import Plan
from sync.flows.documents import APPROVED, DocumentFlow, cached, docs_for, void_plan
from sync.lookups import MappingMissing
from sync.mappers.billing import owner_figures
from sync.models import Operation

SETTINGS = {
    "billing": "owner_billing_item_id",
    "retainage": "owner_retainage_item_id",
}


def _applications(ctx, project_id: str) -> list[PaymentApplication]:
    def load():
        params = {"project_id": str(project_id), "filters[include_deleted]": "with"}
        rows = ctx.procore.rows("/rest/v1.0/payment_applications", params)
        return [PaymentApplication.parse(r) for r in rows]

    return cached(ctx, f"payment_applications:{project_id}", load)


def _item(ctx, which: str, subsidiary: str | None) -> str:
    value = (ctx.connection.policies or {}).get(SETTINGS[which])
    if not value:
        raise MappingMissing(
            table="account_role",
            key={"role": f"owner invoice {which} item (setting {SETTINGS[which]})"},
            subsidiary=subsidiary,
            reason_code="UNMAPPED_ACCOUNT",
            connection_id=ctx.connection.pk,
        )
    return str(value)


class OwnerInvoicesFlow(DocumentFlow):
    name = "owner_invoices"
    binding_type = "owner_invoice"

    def fetch(self, ctx, procore_id=None):
        for project, target in ctx.projects():
            if target is None:
                continue
            for pa in _applications(ctx, project.id):
                if procore_id and pa.id != str(procore_id):
                    continue
                source = self.source(pa.id, pa, project.id, parent_id=pa.prime_contract_id or "")
                if pa.deleted_at is not None:
                    source.deleted = True
                elif (pa.status or "") not in APPROVED:
                    source.skip = f"status {pa.status}"
                yield source

    def _previous(self, ctx, source, pa) -> PaymentApplication | None:
        earlier = [
            x
            for x in _applications(ctx, source.project_id)
            if x.prime_contract_id == pa.prime_contract_id
            and x.deleted_at is None
            and int(x.number or 0) < int(pa.number or 0)
        ]
        return max(earlier, key=lambda x: int(x.number or 0), default=None)

    def propose(self, ctx, source, binding):
        pa = source.record
        contract = (pa.raw.get("contract") or {}).get("number") or pa.prime_contract_id
        label = f"{contract} payment application #{pa.number}"
        number = pa.invoice_number or f"{contract}-{pa.number}"
        facts = {
            "procore_project_id": source.project_id or "",
            "document": f"{label} ({number})",
            "document_number": number,
        }
        if source.deleted:
            return void_plan(binding, facts)
        target = ctx.lookup.project(source.project_id)
        job_id = target.erp_job_id or target.erp_customer_id
        figures = owner_figures(pa, self._previous(ctx, source, pa))
        docs = docs_for(ctx)
        payload = docs.owner_invoice(
            figures,
            target=target,
            job_id=job_id,
            billing_item=_item(ctx, "billing", target.subsidiary_id),
            retainage_item=_item(ctx, "retainage", target.subsidiary_id),
            number=number,
            day=pa.billing_date or pa.period_end,
            memo=label,
        )
        facts.update(
            subsidiary=target.subsidiary_id or "",
            currency=target.currency,
            amount=figures.net,
            vendor=job_id,  # the queue's party filter: the customer/job billed
        )
        return Plan(
            operation=Operation.UPDATE if binding else Operation.CREATE,
            erp_type=docs.INVOICE,
            erp_id=binding.erp_id if binding else "",
            payload=payload,
            number=number,
            facts=facts,
            check_duplicates=True,
            context={"work": str(figures.work), "retainage": str(figures.retainage)},
        )

    def write_back(self, ctx, binding):
        context = self._sent_context(ctx, binding)
        ctx.procore.set_payment_application_origin(
            binding.procore_id,
            binding.parent_procore_id,
            context.get("project_id", ""),
            Origin(ctx.origin_id(binding.erp_id), self.origin_data(ctx, binding)),
        )
