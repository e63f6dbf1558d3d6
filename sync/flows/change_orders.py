"""Commitment change orders → a PO revision, by the connection's strategy (issue 6).

* separate_transaction (NetSuite default): a new PO numbered ``<PO>-R<n>`` carrying the
  change order's lines, linked to the original by its memo; bound as its own document.
* amend_in_place (QuickBooks default): the original PO gets the change order's lines,
  written against its version (SyncToken / lastModifiedDate); the commitment's binding takes
  the new version and payload, so its next sync sees no difference.

Either way a controller approves it (REVISION_AFTER_APPROVAL) and the before/after (last
synced / ERP now / proposed) is on the item. Only approved change orders of commitments that
are in the ERP are proposed; others wait (skipped, retried on the next run).
"""

from __future__ import annotations

from sync.config import AMEND_IN_PLACE
from sync.fingerprint import canonical, fingerprint
from sync.flows.base import Flow, Hold, Plan, Source
from sync.flows.commitments import CHANGE_ORDER, mapper_for, revision_count
from sync.mappers import total
from sync.models import Binding, Operation


class ChangeOrdersFlow(Flow):
    name = "commitment_change_orders"
    binding_type = CHANGE_ORDER
    writes_back = False  # the v1.0 CCO endpoints take no origin_id (reference §5.2)

    def fetch(self, ctx, procore_id=None):
        for project, target in ctx.projects():
            if target is None:
                continue
            for cco in ctx.procore.commitment_change_orders(project.id):
                if procore_id and cco.id != str(procore_id):
                    continue
                source = Source(cco.id, cco, project_id=project.id, parent_id=cco.contract_id or "")
                if (cco.status or "").lower() != "approved":
                    source.skip = f"status {cco.status}"
                yield source

    def _parent(self, ctx, source) -> Binding | None:
        return Binding.objects.filter(
            connection=ctx.connection, object_type="commitment", procore_id=source.parent_id
        ).first()

    def propose(self, ctx, source: Source, binding):
        if binding is not None:
            return None  # an approved change order is written once
        cco = source.record
        parent = self._parent(ctx, source)
        if parent is None:
            source.skip = "its commitment is not in the ERP yet"
            return None
        mapper = mapper_for(ctx)
        target = ctx.lookup.project(source.project_id)
        job_id = target.erp_job_id or target.erp_customer_id
        lines = mapper.change_order_lines(
            cco,
            ctx.lookup,
            target=target,
            job_id=job_id,
            project_id=source.project_id,
            codes=ctx.codebook(source.project_id),
        )
        strategy = ctx.policies.change_order_strategy
        facts = {
            "procore_project_id": source.project_id,
            "document": f"{parent.erp_number} change order {cco.number or cco.id}",
            "document_number": cco.number or "",
            "subsidiary": target.subsidiary_id or "",
            "currency": target.currency,
            "amount": total(cco.lines),
            "strategy": strategy.replace("_", " "),
        }
        hold = Hold("REVISION_AFTER_APPROVAL", {}, {"strategy": strategy})
        if strategy == AMEND_IN_PLACE:
            full = mapper.append_lines(parent.payload, lines)
            return Plan(
                operation=Operation.UPDATE,
                erp_type=parent.erp_type,
                erp_id=parent.erp_id,
                payload=full,
                number=parent.erp_number,
                facts=facts,
                holds=[hold],
                compare=parent,
                context={"lines": canonical(lines), "strategy": strategy},
            )
        n = revision_count(ctx, parent.procore_id) + 1
        number = f"{parent.erp_number}-R{n}"
        payload = mapper.revision(
            parent.payload,
            lines,
            number=number,
            memo=f"Revision {n} of {parent.erp_number} (ERP id {parent.erp_id}): "
            f"change order {cco.number or cco.id} {cco.title or ''}".strip(),
        )
        return Plan(
            operation=Operation.CREATE,
            erp_type=parent.erp_type,
            payload=payload,
            number=number,
            facts=facts,
            holds=[hold],
            context={"revision": n, "strategy": strategy},
        )

    def binds_plainly(self, change):
        return change.context.get("strategy") != AMEND_IN_PLACE and super().binds_plainly(change)

    def bind(self, ctx, change, written):
        if change.context.get("strategy") != AMEND_IN_PLACE:
            return super().bind(ctx, change, written)
        parent_id = change.context.get("parent_id", "")
        binding, _ = Binding.objects.update_or_create(
            connection=ctx.connection,
            object_type=self.binding_type,
            procore_id=change.procore_id,
            defaults={
                "parent_procore_id": parent_id,
                "erp_type": change.erp_type,
                # Lines on the commitment's PO, not a document of their own.
                "erp_id": f"{written.erp_id}:{change.procore_id}",
                "erp_number": change.context.get("number", ""),
                "fingerprint": change.fingerprint,
                "payload": {"lines": change.context.get("lines", {})},
                "erp_version": written.version,
                "synced_at": ctx.now(),
            },
        )
        Binding.objects.filter(
            connection=ctx.connection, object_type="commitment", procore_id=parent_id
        ).update(
            payload=change.payload,
            fingerprint=fingerprint(change.payload),
            erp_version=written.version,
            synced_at=ctx.now(),
        )
        return binding
