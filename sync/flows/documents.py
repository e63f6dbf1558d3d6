"""What the Procore → ERP billing document flows share (requisitions, retainage releases,
owner invoices, direct costs): per-run caches of Procore reads, the vendor checks, the
SOURCE_DELETED proposal and the ``origin_id`` / ``origin_data`` write-back.

A synced document is written once; the engine's fingerprint makes a second run a no-op. A
document deleted in Procore after it reached the ERP proposes the ERP delete (SOURCE_DELETED),
which only a controller can approve.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.procore.schemas import Commitment, Requisition
from sync.flows.base import Flow, Hold, Plan, Source
from sync.mappers import netsuite_documents as ns_docs
from sync.mappers import quickbooks_documents as qbo_docs
from sync.models import Binding, Kind, Operation

APPROVED = ("approved", "approved_as_noted")


def docs_for(ctx):
    return ns_docs if ctx.kind == Kind.NETSUITE else qbo_docs


def cached(ctx, key: str, load):
    if key not in ctx.cache:
        ctx.cache[key] = load()
    return ctx.cache[key]


def project_commitments(ctx, project_id: str) -> dict[str, Commitment]:
    """The project's commitments with their lines, read once per run."""
    return cached(
        ctx,
        f"commitments:{project_id}",
        lambda: {c.id: c for c in ctx.procore.commitments(project_id, with_lines=True)},
    )


def project_requisitions(ctx, project_id: str) -> list[Requisition]:
    """Every requisition of the project with its contract items (v1.1 ``view=extended``) and
    the deleted ones (``include_deleted=with``): one paged read per project and run."""

    def load():
        params = {
            "project_id": str(project_id),
            "view": "extended",
            "filters[include_deleted]": "with",
        }
        rows = ctx.procore.rows("/rest/v1.1/requisitions", params)
        return [Requisition.parse(r) for r in rows]

    return cached(ctx, f"requisitions:{project_id}", load)


def commitment_binding(ctx, commitment_id: str) -> Binding | None:
    known = ctx.cache.get("bindings", {})
    if ("commitment", str(commitment_id)) in known:  # prefetched for the batch
        return known[("commitment", str(commitment_id))]
    return Binding.objects.filter(
        connection=ctx.connection, object_type="commitment", procore_id=str(commitment_id)
    ).first()


def vendor_holds(ctx, vendor, target, project_id: str) -> list[Hold]:
    subs = vendor.subsidiary_ids
    if ctx.kind == Kind.NETSUITE and subs and target.subsidiary_id not in subs:
        return [
            Hold(
                "VENDOR_NOT_IN_SUBSIDIARY",
                {
                    "vendor": vendor.erp_vendor_id,
                    "subsidiary": target.subsidiary_id,
                    "project": project_id,
                },
            )
        ]
    return []


def void_plan(binding: Binding | None, facts: dict[str, Any]) -> Plan | None:
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


class DocumentFlow(Flow):
    """Base of the document flows: the write-back needs the Procore scope the change kept."""

    concurrent_writes = True  # write/write_back are HTTP only (sync.writer.send_changes)

    def _sent_context(self, ctx, binding: Binding) -> dict[str, Any]:
        sent = ctx.cache.get("sent", {}).get((self.binding_type, binding.procore_id))
        if sent is not None:  # the change this run just sent
            return sent.context
        change = (
            ctx.connection.changes.filter(
                object_type=self.binding_type, procore_id=binding.procore_id, state="sent"
            )
            .order_by("-pk")
            .first()
        )
        if change is not None:
            return change.context
        # Bound by a full resync to a document already in the ERP: no Change was sent, so
        # the resync kept the Procore project on the binding (sync.services.resync.bind_existing).
        project_id = (binding.payload or {}).get("_project_id")
        return {"project_id": project_id} if project_id else {}

    def origin_data(self, ctx, binding: Binding) -> str:
        return json.dumps({"erp": ctx.kind, "type": binding.erp_type, "number": binding.erp_number})

    def source(self, procore_id: str, record: Any, project_id: str, parent_id: str = "") -> Source:
        return Source(str(procore_id), record, project_id=str(project_id), parent_id=parent_id)
