"""Commitments (subcontracts and purchase order contracts) with their lines → NetSuite
purchaseOrder / QuickBooks PurchaseOrder.

Rules of this flow, on top of the engine's:

* the vendor must be linked (UNKNOWN_VENDOR) and, in NetSuite, assigned to the project's
  subsidiary (VENDOR_NOT_IN_SUBSIDIARY);
* a change after the ERP PO was approved (QuickBooks has no approval: always, and so is
  every change while ``all_revisions_need_approval``) is REVISION_AFTER_APPROVAL, applied by
  the connection's change-order strategy: *separate_transaction* creates ``PO-1042-R1``
  with the line differences, linked to the original by its memo; *amend_in_place* updates
  the original PO against its version (SyncToken / lastModifiedDate);
* a commitment deleted or voided in Procore proposes the ERP void (SOURCE_DELETED).
"""

from __future__ import annotations

import json

from connectors.procore.writes import Origin
from sync.config import AMEND_IN_PLACE
from sync.flows.base import Flow, Hold, Plan, Source
from sync.mappers import netsuite as ns
from sync.mappers import quickbooks as qbo
from sync.mappers import total
from sync.models import Binding, Kind, Operation

VOIDED = ("Void", "Terminated")
REVISION = "commitment_revision"
CHANGE_ORDER = "commitment_change_order"


def mapper_for(ctx):
    return ns if ctx.kind == Kind.NETSUITE else qbo


def revision_count(ctx, commitment_id: str) -> int:
    return Binding.objects.filter(
        connection=ctx.connection,
        object_type__in=(REVISION, CHANGE_ORDER),
        parent_procore_id=str(commitment_id),
        erp_id__regex=r"^[^:]+$",  # amend-in-place change orders are lines, not documents
    ).count()


def amended_lines(ctx, commitment_id: str) -> list[dict]:
    """Lines that approved change orders added to the PO in place (amend_in_place)."""
    prefetched = ctx.cache.get("amended")
    if prefetched is not None and str(commitment_id) in prefetched["ids"]:
        return prefetched["lines"].get(str(commitment_id), [])
    return [
        b.payload.get("lines") or {}
        for b in Binding.objects.filter(
            connection=ctx.connection,
            object_type=CHANGE_ORDER,
            parent_procore_id=str(commitment_id),
            erp_id__contains=":",
        ).order_by("pk")
    ]


class CommitmentsFlow(Flow):
    name = "commitments"
    binding_type = "commitment"
    concurrent_writes = True  # write/write_back are HTTP only (sync.writer.send_changes)

    def fetch(self, ctx, procore_id=None):
        for project, target in ctx.projects():
            if target is None:
                continue
            for c in ctx.procore.commitments(project.id, with_lines=procore_id is None):
                if procore_id and c.id != str(procore_id):
                    continue
                if procore_id:
                    c = ctx.procore.commitment(c.kind, c.id, project.id)
                yield self._source(ctx, c, project.id)
            for c in ctx.procore.commitments(project.id, with_lines=False, include_deleted="only"):
                if procore_id and c.id != str(procore_id):
                    continue
                yield Source(c.id, c, project_id=project.id, deleted=True)
        if procore_id and self._unmapped_project(ctx):
            for project, target in ctx.projects():
                if target is None:
                    for c in ctx.procore.commitments(project.id, with_lines=False):
                        if c.id == str(procore_id):
                            yield self._source(ctx, c, project.id)

    def _unmapped_project(self, ctx) -> bool:
        return ctx.policies.projects_scope == "all"

    def _source(self, ctx, c, project_id) -> Source:
        source = Source(c.id, c, project_id=str(project_id))
        if c.status in VOIDED:
            source.deleted = True
        elif c.status not in ctx.policies.commitment_statuses:
            source.skip = f"status {c.status}"
        return source

    def propose(self, ctx, source: Source, binding):
        c = source.record
        mapper = mapper_for(ctx)
        facts = {
            "procore_project_id": source.project_id or "",
            "vendor": c.vendor_id or "",
            "document": c.number or c.id,
            "document_number": c.number or "",
        }
        if source.deleted:
            if binding is None:
                return None
            return Plan(
                operation=Operation.VOID,
                erp_type=binding.erp_type,
                erp_id=binding.erp_id,
                payload={"void": binding.erp_id},
                number=binding.erp_number,
                facts=facts,
                holds=[Hold("SOURCE_DELETED", {"erp_id": binding.erp_id})],
            )
        target = ctx.lookup.project(source.project_id)
        vendor = ctx.lookup.vendor(c.vendor_id or "")
        job_id = target.erp_job_id or target.erp_customer_id
        payload = mapper.purchase_order(
            c, ctx.lookup, target=target, job_id=job_id, vendor_id=vendor.erp_vendor_id
        )
        if ctx.policies.change_order_strategy == AMEND_IN_PLACE:
            for extra in amended_lines(ctx, c.id):
                payload = mapper.append_lines(payload, extra)
        facts.update(
            subsidiary=target.subsidiary_id or "",
            currency=target.currency,
            amount=total(c.lines),
        )
        plan = Plan(
            operation=Operation.UPDATE if binding else Operation.CREATE,
            erp_type=mapper.PURCHASE_ORDER,
            erp_id=binding.erp_id if binding else "",
            payload=payload,
            number=c.number or c.id,
            facts=facts,
            check_duplicates=True,
            context={"kind": c.kind},
        )
        subs = vendor.subsidiary_ids
        if ctx.kind == Kind.NETSUITE and subs and target.subsidiary_id not in subs:
            plan.holds.append(
                Hold(
                    "VENDOR_NOT_IN_SUBSIDIARY",
                    {
                        "vendor": vendor.erp_vendor_id,
                        "subsidiary": target.subsidiary_id,
                        "project": source.project_id,
                    },
                )
            )
        return plan

    def review(self, ctx, source, binding, plan, remote):
        if plan.operation != Operation.UPDATE or binding is None or remote is None:
            return
        if not (remote.approved or ctx.policies.all_revisions_need_approval):
            return
        strategy = ctx.policies.change_order_strategy
        plan.holds.append(
            Hold(
                "REVISION_AFTER_APPROVAL",
                {"strategy": strategy.replace("_", " ")},
                {"strategy": strategy, "approved_in_erp": remote.approved},
            )
        )
        if strategy == AMEND_IN_PLACE:
            return
        mapper = mapper_for(ctx)
        n = revision_count(ctx, source.procore_id) + 1
        number = f"{binding.erp_number or plan.number}-R{n}"
        delta = mapper.delta_lines(binding.payload, plan.payload)
        plan.full_payload = plan.payload
        plan.payload = mapper.revision(
            plan.payload,
            delta,
            number=number,
            memo=f"Revision {n} of {binding.erp_number} (ERP id {binding.erp_id})",
        )
        plan.operation = Operation.REVISE
        plan.context.update(revision=n, revision_number=number, original_id=binding.erp_id)

    def write(self, ctx, change):
        if change.operation != Operation.REVISE:
            return super().write(ctx, change)
        n = change.context["revision"]
        return ctx.erp.create(
            change.erp_type,
            change.payload,
            external_id=f"{self.external_id(ctx, change.procore_id)}-R{n}",
            key=change.idempotency_key,
        )

    def bind(self, ctx, change, written):
        if change.operation != Operation.REVISE:
            return super().bind(ctx, change, written)
        n = change.context["revision"]
        Binding.objects.update_or_create(
            connection=ctx.connection,
            object_type=REVISION,
            procore_id=f"{change.procore_id}-R{n}",
            defaults={
                "parent_procore_id": change.procore_id,
                "erp_type": change.erp_type,
                "erp_id": written.erp_id,
                "erp_number": change.context.get("revision_number", ""),
                "fingerprint": change.fingerprint,
                "payload": change.payload,
                "erp_version": written.version,
                "synced_at": ctx.now(),
            },
        )
        # The commitment is now in line with Procore; its original PO is untouched.
        Binding.objects.filter(
            connection=ctx.connection, object_type=self.binding_type, procore_id=change.procore_id
        ).update(
            fingerprint=change.fingerprint,
            payload=change.context.get("full_payload", change.payload),
            synced_at=ctx.now(),
        )
        return None

    def write_back(self, ctx, binding):
        c_kind = (binding.payload or {}).get("_kind")
        data = json.dumps({"erp": ctx.kind, "type": binding.erp_type, "number": binding.erp_number})
        project_id = binding.parent_procore_id or ""
        change = ctx.cache.get("sent", {}).get((self.binding_type, binding.procore_id))
        if change is None:  # written by an earlier run (a repaired write-back)
            change = (
                ctx.connection.changes.filter(
                    object_type=self.binding_type, procore_id=binding.procore_id, state="sent"
                )
                .order_by("-pk")
                .first()
            )
        if change is not None:
            project_id = change.context.get("project_id", project_id)
            c_kind = change.context.get("kind", c_kind)
        ctx.procore.set_commitment_origin(
            c_kind or "work_order_contract",
            binding.procore_id,
            project_id,
            Origin(ctx.origin_id(binding.erp_id), data),
        )


def prefetch_amended(ctx, commitment_ids: list[str]) -> None:
    """``amended_lines`` of a batch's commitments in one query (sync.services.batches)."""
    ids = {str(i) for i in commitment_ids}
    lines: dict[str, list[dict]] = {}
    for parent, payload in (
        Binding.objects.filter(
            connection=ctx.connection,
            object_type=CHANGE_ORDER,
            parent_procore_id__in=ids,
            erp_id__contains=":",
        )
        .order_by("pk")
        .values_list("parent_procore_id", "payload")
    ):
        lines.setdefault(parent, []).append((payload or {}).get("lines") or {})
    ctx.cache["amended"] = {"ids": ids, "lines": lines}
