"""The full resync's first step for a record without a binding: find the ERP document that
already holds it (NetSuite by our externalId, either ERP by document number + vendor through
the adapter's duplicate search) and *bind* it instead of creating a second one.

A batch of a full-resync run (``sync.services.batches``, trigger ``full_resync``) asks this
for each of its records before planning them; a record it binds costs no ERP write, the others
go through the engine as usual.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.errors import ConnectorError
from sync.engine import _binding
from sync.fingerprint import canonical, fingerprint
from sync.lookups import MappingMissing
from sync.models import Binding, Kind
from sync.services.exceptions import items_auto_resolve
from sync.writer import write_back

log = logging.getLogger(__name__)

TRIGGER = "full_resync"
BOUND = "bound to existing"  # how a bound record's note starts


def _bound_payload(full, plan, source) -> dict:
    """The payload of a binding made without a Change: the flows' write-backs read the Procore
    kind and project from it, as they would from the Change (summaries ignore ``_`` keys)."""
    payload = canonical(full)
    if plan.context.get("kind"):
        payload["_kind"] = plan.context["kind"]
    project_id = plan.context.get("project_id") or source.project_id
    if project_id:
        payload["_project_id"] = str(project_id)
    return payload


def bind_existing(ctx, flow, source) -> str | None:
    """Bind an unbound Procore record to the one ERP document that already holds it; a note
    when bound, ``None`` to let the engine plan it as usual."""
    if _binding(ctx, flow, source.procore_id) is not None:  # the batch read it already
        return None
    try:
        plan = flow.propose(ctx, source, None)
    except MappingMissing:
        return None  # the engine opens the UNMAPPED_* item
    if plan is None or plan.holds or plan.operation != "create" or not plan.erp_type:
        return None
    try:
        remote = _existing(ctx, flow, source, plan)
    except ConnectorError as exc:
        # Not known: plan it as usual. Its create still checks for duplicates by number and
        # vendor (SUSPECTED_DUPLICATE), and a NetSuite create is an upsert by our externalId.
        log.warning(
            "resync of %s %s: looking in the ERP failed: %s", flow.name, source.procore_id, exc
        )
        return None
    if remote is None:
        return None
    full = plan.full_payload if plan.full_payload is not None else plan.payload
    try:
        with transaction.atomic():
            binding = Binding.objects.create(
                connection=ctx.connection,
                object_type=flow.binding_type,
                procore_id=source.procore_id,
                # As the flows' own bindings: the parent record, else the project (what a
                # write-back without a Change reads).
                parent_procore_id=str(source.parent_id or source.project_id or ""),
                erp_type=plan.erp_type,
                erp_id=remote.erp_id,
                erp_number=remote.number or plan.number,
                fingerprint=fingerprint(full),
                payload=_bound_payload(full, plan, source),
                erp_version=remote.version,
                synced_at=timezone.now(),
            )
    except IntegrityError:
        return None  # that ERP document is bound to another record already
    try:
        write_back(ctx, flow, binding)  # best effort: the next run repeats a missing one
    except Exception:  # noqa: BLE001 - a flow's write-back must not stop the resync
        log.exception("write-back after binding %s %s failed", flow.name, source.procore_id)
    items_auto_resolve(
        connection_id=ctx.connection.pk,
        object_type=flow.binding_type,
        procore_id=source.procore_id,
        note=f"full resync bound it to ERP {plan.erp_type} {remote.number or remote.erp_id}",
    )
    return f"{BOUND} {plan.erp_type} {remote.number or remote.erp_id} (nothing written)"


def _taken(ctx, erp_type: str, erp_ids: list[str]) -> set[str]:
    """Which of these ERP documents are bound already: asked for the candidates only (the
    whole type's bindings, read per record, made a resync quadratic)."""
    return set(
        Binding.objects.filter(
            connection=ctx.connection, erp_type=erp_type, erp_id__in=erp_ids
        ).values_list("erp_id", flat=True)
    )


def _existing(ctx, flow, source, plan) -> Any:
    if ctx.kind == Kind.NETSUITE:
        client = getattr(ctx.erp, "client", None)
        found = (
            client.find_by_external_id(plan.erp_type, flow.external_id(ctx, source.procore_id))
            if client
            else None
        )
        if found and not _taken(ctx, plan.erp_type, [str(found.get("id"))]):
            return ctx.erp.read(plan.erp_type, str(found["id"]))
    if not plan.check_duplicates:
        return None
    found = ctx.erp.find_duplicates(plan.erp_type, canonical(plan.payload))
    taken = _taken(ctx, plan.erp_type, [r.erp_id for r in found])
    candidates = [r for r in found if r.erp_id not in taken]
    if len(candidates) != 1:
        return None  # none, or ambiguous: the engine's SUSPECTED_DUPLICATE asks a person
    return ctx.erp.read(plan.erp_type, candidates[0].erp_id) or candidates[0]
