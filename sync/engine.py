"""Plan and route one record (DESIGN.md §2): map → diff against the binding and the ERP's
current copy → a Change stored in one transaction, clean or held for a person.

The ERP is read *before* the transaction (no network call while a transaction is open) and
only when it matters: an unchanged record (same fingerprint as its binding) costs no ERP call.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from sync.context import SyncContext
from sync.fingerprint import canonical, fingerprint
from sync.flows.base import Flow, Hold, Plan, Source
from sync.lookups import MappingMissing
from sync.models import (
    ACTIVE_STATUSES,
    Binding,
    Change,
    ChangeState,
    ExceptionItem,
    Operation,
    Outcome,
)
from sync.reasons import explain
from sync.services.changes import STALE_SENDING, change_transition
from sync.services.exceptions import item_open, items_auto_resolve

log = logging.getLogger(__name__)

UPDATE_OPS = (Operation.UPDATE, Operation.REVISE, Operation.VOID)


@dataclass
class Planned:
    outcome: str  # an Outcome, or "send" when the change is clean and should be written now
    change: Change | None = None
    note: str = ""


def _binding(ctx: SyncContext, flow: Flow, procore_id: str) -> Binding | None:
    known = ctx.cache.get("bindings", {})
    key = (flow.binding_type, str(procore_id))
    if key in known:  # prefetched for the batch (sync.services.batches)
        return known[key]
    return Binding.objects.filter(
        connection=ctx.connection, object_type=flow.binding_type, procore_id=procore_id
    ).first()


def prefetch(ctx: SyncContext, flow: Flow, procore_ids: list[str]) -> None:
    """Read what planning a batch needs in a few queries instead of several per record: the
    records' bindings, their Changes and their open items. Planning consults these instead of
    asking per record; a record the prefetch did not cover is asked about as before."""
    ids = sorted({str(i) for i in procore_ids})
    bindings = ctx.cache.setdefault("bindings", {})
    for pid in ids:
        bindings[(flow.binding_type, pid)] = None
    for b in Binding.objects.filter(
        connection=ctx.connection, object_type=flow.binding_type, procore_id__in=ids
    ):
        bindings[(b.object_type, b.procore_id)] = b
    changes = ctx.cache.setdefault("changes", {})
    for pid in ids:
        changes[(flow.binding_type, pid)] = []
    for c in Change.objects.filter(
        connection=ctx.connection, object_type=flow.binding_type, procore_id__in=ids
    ).order_by("pk"):
        changes[(c.object_type, c.procore_id)].append(c)
    items = ctx.cache.setdefault("active_items", set())
    items.update(
        (t, pid)
        for t, pid in ExceptionItem.objects.filter(
            connection=ctx.connection,
            object_type=flow.binding_type,
            procore_id__in=ids,
            status__in=ACTIVE_STATUSES,
        ).values_list("object_type", "procore_id")
    )
    ctx.cache.setdefault("prefetched", set()).update((flow.binding_type, pid) for pid in ids)


def _prefetched(ctx: SyncContext, flow: Flow, procore_id: str) -> bool:
    return (flow.binding_type, str(procore_id)) in ctx.cache.get("prefetched", ())


def _blocked_plan(flow: Flow, binding: Binding | None, missing: MappingMissing) -> Plan:
    facts = {**missing.key, "subsidiary": missing.subsidiary or "", "project": missing.project}
    return Plan(
        operation=Operation.UPDATE if binding else Operation.CREATE,
        erp_type=binding.erp_type if binding else "",
        erp_id=binding.erp_id if binding else "",
        payload={"blocked": missing.as_dict()},
        facts={"procore_project_id": missing.project or "", "subsidiary": missing.subsidiary or ""},
        holds=[Hold(missing.reason_code, facts, {"mapping": missing.as_dict()})],
    )


def plan_record(ctx: SyncContext, flow: Flow, source: Source, *, save: bool = True) -> Planned:
    """Plan one record. With ``save=False`` a clean Change for a record that has none yet
    comes back unsaved (``pk`` None): the caller stores several at once with ``store_new``,
    and must have before sending any of them (rule 4)."""
    if source.skip:
        return Planned(Outcome.SKIPPED, note=source.skip)
    binding = _binding(ctx, flow, source.procore_id)
    try:
        plan = flow.propose(ctx, source, binding)
    except MappingMissing as missing:
        plan = _blocked_plan(flow, binding, missing)
    if plan is None:
        return Planned(Outcome.SKIPPED, note="nothing to write")
    full = plan.full_payload if plan.full_payload is not None else plan.payload
    fp = fingerprint({"op": "void"} if plan.operation == Operation.VOID else full)

    if binding is not None and binding.fingerprint == fp and not plan.holds:
        _supersede(ctx, flow, source.procore_id, keep=None, note="the ERP already matches")
        return Planned(Outcome.SKIPPED, note="unchanged")

    compare = plan.compare or binding
    remote = None
    if plan.operation in UPDATE_OPS and compare is not None and not _blocked(plan):
        remote = ctx.erp.read(compare.erp_type, compare.erp_id)
        _check_erp_edited(ctx, plan, compare, remote, full)
    if not plan.holds or all(h.code != "ERP_EDITED" for h in plan.holds):
        flow.review(ctx, source, binding, plan, remote)
    if plan.operation == Operation.CREATE and plan.check_duplicates and not _blocked(plan):
        _check_duplicates(ctx, flow, plan)
    _check_threshold(ctx, flow, plan)
    if plan.operation == Operation.VOID and not any(h.code == "SOURCE_DELETED" for h in plan.holds):
        plan.holds.append(Hold("SOURCE_DELETED", {"erp_id": plan.erp_id}))
    return _store(ctx, flow, source, plan, fp, full, compare, remote, save)


def _blocked(plan: Plan) -> bool:
    return "blocked" in plan.payload


def _check_erp_edited(ctx, plan: Plan, compare: Binding, remote, full) -> None:
    """Rule 2: stop when the ERP copy's *content* changed since our last write.

    A new version alone (an approval, a status change in the ERP) is accepted: the write will
    expect the version seen now. A content difference (party, number, memo, lines) is a hand
    edit: nothing is written, a person sees last synced / ERP now / proposed side by side."""
    erp_type = compare.erp_type
    last = ctx.erp.summary(erp_type, compare.payload)
    now = ctx.erp.summary(erp_type, remote.raw) if remote is not None else None
    proposed = ctx.erp.summary(erp_type, canonical(full))
    plan.context["diff"] = {"last_synced": last, "erp_now": now, "proposed": proposed}
    if remote is None:
        plan.holds.append(
            Hold(
                "ERP_EDITED",
                {"document": plan.number or compare.erp_number},
                {**plan.context["diff"], "note": "the ERP record no longer exists"},
            )
        )
        return
    plan.context["expected_version"] = remote.version
    if now != last:
        plan.holds.append(
            Hold(
                "ERP_EDITED",
                {"document": plan.number or compare.erp_number},
                {
                    **plan.context["diff"],
                    "erp_version": remote.version,
                    "synced_version": compare.erp_version,
                },
            )
        )


def _check_duplicates(ctx: SyncContext, flow: Flow, plan: Plan) -> None:
    found = ctx.erp.find_duplicates(plan.erp_type, canonical(plan.payload))
    if not found:
        return
    # Only the candidates' ids: reading every bound id of the type per record grew with the
    # company (a 5,000-PO run read 12.5 million ids).
    bound = set(
        Binding.objects.filter(
            connection=ctx.connection,
            erp_type=plan.erp_type,
            erp_id__in=[r.erp_id for r in found],
        ).values_list("erp_id", flat=True)
    )
    candidates = [r for r in found if r.erp_id not in bound]
    if not candidates:
        return
    first = candidates[0]
    amount = plan.facts.get("amount")
    same = amount is not None and first.amount is not None and Decimal(str(amount)) == first.amount
    amounts = ", same amount" if same else f", amount {first.amount} there vs {amount} in Procore"
    plan.holds.append(
        Hold(
            "SUSPECTED_DUPLICATE",
            {
                "erp_type": plan.erp_type,
                "erp_number": first.number,
                "erp_id": first.erp_id,
                "amounts": amounts,
            },
            {
                "candidates": [
                    {"erp_id": r.erp_id, "number": r.number, "amount": r.amount} for r in candidates
                ],
                "same_amount": same,
            },
        )
    )


def _check_threshold(ctx: SyncContext, flow: Flow, plan: Plan) -> None:
    limit = ctx.policies.threshold(flow.name)
    amount = plan.facts.get("amount")
    if limit is None or amount is None or _blocked(plan):
        return
    if Decimal(str(amount)) > limit:
        plan.holds.append(
            Hold("APPROVAL_THRESHOLD", {"amount": amount, "threshold": limit}, {"threshold": limit})
        )


def _key(ctx: SyncContext, flow: Flow, procore_id: str, fp: str) -> str:
    return f"eb-{ctx.connection.pk}-{flow.binding_type}-{procore_id}-{fp[:12]}"


PENDING = (ChangeState.PLANNED, ChangeState.HELD, ChangeState.APPROVED, ChangeState.FAILED)


def _supersede(ctx: SyncContext, flow: Flow, procore_id: str, *, keep, note: str) -> None:
    if _prefetched(ctx, flow, procore_id):
        key = (flow.binding_type, str(procore_id))
        known = ctx.cache["changes"].get(key, [])
        others = [c for c in known if c.state in PENDING and (keep is None or c.pk != keep.pk)]
        if not others and key not in ctx.cache["active_items"]:
            return  # nothing pending, no open item: the prefetch already asked
    pending = Change.objects.filter(
        connection=ctx.connection,
        object_type=flow.binding_type,
        procore_id=procore_id,
        state__in=(ChangeState.PLANNED, ChangeState.HELD, ChangeState.APPROVED, ChangeState.FAILED),
    )
    if keep is not None:
        pending = pending.exclude(pk=keep.pk)
    for old in pending:
        change_transition(change=old, to=ChangeState.SUPERSEDED, from_states=(old.state,))
    items_auto_resolve(
        connection_id=ctx.connection.pk,
        object_type=flow.binding_type,
        procore_id=procore_id,
        note=f"Closed automatically: {note}.",
        exclude_change=keep.pk if keep is not None else None,
    )


def _store(
    ctx, flow: Flow, source: Source, plan: Plan, fp: str, full, compare, remote, save=True
) -> Planned:
    base = _key(ctx, flow, source.procore_id, fp)
    facts = {**plan.facts, "document": plan.number or plan.facts.get("document", "")}
    context = {
        **plan.context,
        "facts": canonical(facts),
        "number": plan.number,
        "parent_id": source.parent_id,
        "project_id": source.project_id or "",
    }
    if plan.full_payload is not None:
        context["full_payload"] = canonical(plan.full_payload)
    if compare is not None and compare is not getattr(plan, "_own", None):
        context["compare_binding"] = compare.pk
    hold = plan.holds[0] if plan.holds else None
    record = (flow.binding_type, str(source.procore_id))
    if hold is None and _prefetched(ctx, flow, source.procore_id):
        known = ctx.cache["changes"].get(record, [])
        if not known and record not in ctx.cache["active_items"]:
            # No change at all for this record, no open item (the prefetch asked): nothing to
            # supersede or resolve, so one INSERT, no transaction needed; a run that stored
            # the same change meanwhile makes it fail on the unique key.
            # Unsaved (``save=False``): the caller inserts it with the batch's others.
            change = _new_change(
                ctx, flow, source, plan, fp, compare, context, facts, base, None, save=False
            )
            if save:  # a savepoint only inside an outer block, to keep that block usable
                in_block = transaction.get_connection().in_atomic_block
                with transaction.atomic() if in_block else nullcontext():
                    change.save(force_insert=True)
            return Planned("send", change)
    with transaction.atomic():
        existing = (
            Change.objects.select_for_update()
            .filter(idempotency_key__startswith=base)
            .order_by("-pk")
            .first()
        )
        if existing is not None and existing.state == ChangeState.SENDING:
            if existing.updated_at > ctx.now() - STALE_SENDING:
                return Planned(Outcome.SKIPPED, existing, "being sent by another worker")
            # Its worker died mid-send. Only the recovery job re-sends it: it first looks for
            # the document the dead attempt may have made (QuickBooks forgets a requestid
            # after a while, and its POs have no duplicate-number check), which a plain
            # re-send here would skip (sync.services.recovery, scheduled every 5 minutes).
            return Planned(
                Outcome.SKIPPED, existing, "left in sending by a worker that died: recovering"
            )
        if existing is not None and existing.state == ChangeState.REJECTED:
            return Planned(Outcome.SKIPPED, existing, "this version was rejected by a controller")
        if existing is not None and existing.state in (
            ChangeState.PLANNED,
            ChangeState.APPROVED,
            ChangeState.FAILED,
        ):
            _supersede(ctx, flow, source.procore_id, keep=existing, note="a newer version")
            return Planned("send", existing)
        if existing is not None and existing.state == ChangeState.HELD:
            _supersede(ctx, flow, source.procore_id, keep=existing, note="a newer version")
            return Planned(Outcome.QUEUED, existing, existing.reason_code)
        change = _new_change(ctx, flow, source, plan, fp, compare, context, facts, base, existing)
        _supersede(ctx, flow, source.procore_id, keep=change, note="a newer version")
        if hold is None:
            return Planned("send", change)
        details = {
            **plan.context.get("diff", {}),
            **hold.details,
            "other_reasons": [h.code for h in plan.holds[1:]],
        }
        item_open(
            change=change, reason_code=hold.code, explanation=change.explanation, details=details
        )
        return Planned(Outcome.QUEUED, change, hold.code)


def _new_change(
    ctx, flow, source, plan, fp, compare, context, facts, base, existing, *, save=True
) -> Change:
    key = base
    if existing is not None:  # sent or superseded before: the record came back to it
        key = f"{base}-{Change.objects.filter(idempotency_key__startswith=base).count() + 1}"
    hold = plan.holds[0] if plan.holds else None
    change = Change(
        connection=ctx.connection,
        object_type=flow.binding_type,
        procore_id=source.procore_id,
        operation=plan.operation,
        erp_type=plan.erp_type,
        erp_id=plan.erp_id or (compare.erp_id if compare is not None else ""),
        payload=canonical(plan.payload),
        fingerprint=fp,
        idempotency_key=key,
        expected_version=plan.context.get("expected_version")
        or (compare.erp_version if compare is not None else ""),
        context=context,
        reason_code=hold.code if hold else "",
        explanation=explain(hold.code, **{**facts, **hold.facts}) if hold else "",
        state=ChangeState.HELD if hold else ChangeState.PLANNED,
        run=ctx.run,
    )
    if save:
        change.save(force_insert=True)
    return change


def store_new(changes: list[Change]) -> None:
    """Insert changes ``plan_record(save=False)`` left unsaved, in one statement. When one
    clashes on the unique key (an overlapping run stored it first), one by one instead: the
    clashing ones stay unsaved (``pk`` None), the others are stored."""
    if not changes:
        return
    try:
        with transaction.atomic():
            Change.objects.bulk_create(changes)
        return
    except IntegrityError:
        pass
    for change in changes:
        change.pk, change._state.adding = None, True
        try:
            with transaction.atomic():
                change.save(force_insert=True)
        except IntegrityError:
            change.pk = None
