"""What a flow is: how to fetch its Procore records, what to propose for each, how to write
and bind it. The engine (``sync.engine``) does the rest the same way for every flow."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync.erp import Written
from sync.models import Binding, Change, Operation

if TYPE_CHECKING:
    from sync.context import SyncContext


@dataclass
class Source:
    """One Procore record as fetched."""

    procore_id: str
    record: Any
    project_id: str | None = None
    parent_id: str = ""
    deleted: bool = False  # deleted or voided in Procore
    skip: str = ""  # why this record is not for the ERP (a draft, another ERP's project...)
    # Reads the fetch already made that planning this record needs (``ctx.cache`` entries:
    # a dict is merged, a list extended), so a batch task does not read them again.
    cache: dict[str, Any] | None = None


@dataclass
class Hold:
    code: str
    facts: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What a flow proposes for one record; the engine stores it as a Change."""

    operation: str
    erp_type: str
    payload: dict[str, Any]
    erp_id: str = ""
    number: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # queue filter fields + explanation
    holds: list[Hold] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    # The binding whose payload/version describe the ERP record this plan changes (the
    # record's own, or its commitment's for an amend-in-place change order).
    compare: Binding | None = None
    # What the binding's fingerprint becomes once sent (defaults to the payload's).
    full_payload: dict[str, Any] | None = None
    check_duplicates: bool = False


class Flow:
    """Subclass, set the names, implement ``fetch`` and ``propose``; see sync/README.md."""

    name = ""  # the flow's name: directions, runs, the command's --object
    binding_type = ""  # Binding.object_type of its records
    writes_back = True
    # True when write() and write_back() only call the remote systems (no database): the
    # writer may then run several at once (sync.writer.send_changes).
    concurrent_writes = False

    def fetch(self, ctx: SyncContext, procore_id: str | None = None) -> Iterator[Source]:
        raise NotImplementedError

    def propose(self, ctx: SyncContext, source: Source, binding: Binding | None) -> Plan | None:
        """Map and apply the flow's own rules; ``None`` when there is nothing to write.
        A ``MappingMissing`` raised here becomes an UNMAPPED_* / UNKNOWN_VENDOR item."""
        raise NotImplementedError

    def review(
        self,
        ctx: SyncContext,
        source: Source,
        binding: Binding | None,
        plan: Plan,
        remote: Any,
    ) -> None:
        """Rules that need the ERP's current copy (``remote``): add holds, reshape the plan."""

    def external_id(self, ctx: SyncContext, procore_id: str) -> str:
        return f"eb-{ctx.company_id}-{self.binding_type}-{procore_id}"

    def write(self, ctx: SyncContext, change: Change) -> Written:
        erp, op = ctx.erp, change.operation
        if op == Operation.CREATE:
            return erp.create(
                change.erp_type,
                change.payload,
                external_id=self.external_id(ctx, change.procore_id),
                key=change.idempotency_key,
            )
        if op == Operation.UPDATE:
            return erp.update(
                change.erp_type,
                change.erp_id,
                change.payload,
                expected_version=change.expected_version,
                key=change.idempotency_key,
            )
        if op == Operation.VOID:
            return erp.void(
                change.erp_type,
                change.erp_id,
                expected_version=change.expected_version,
                key=change.idempotency_key,
            )
        if op == Operation.LINK:
            remote = erp.read(change.erp_type, change.erp_id)
            if remote is None:
                raise LookupError(f"{change.erp_type} {change.erp_id} is not in the ERP")
            return Written(remote.erp_id, remote.version, remote.number)
        raise ValueError(f"{self.name} cannot {op}")

    def bind(self, ctx: SyncContext, change: Change, written: Written) -> Binding | None:
        """Record the link once the ERP holds the record (inside the writer's transaction)."""
        if change.operation == Operation.VOID:
            Binding.objects.filter(
                connection=ctx.connection,
                object_type=self.binding_type,
                procore_id=change.procore_id,
            ).delete()
            return None
        key = self._binding_key(ctx, change)
        values = self._binding_values(ctx, change, written)
        known = ctx.cache.get("bindings", {})
        if self._unbound(ctx, change):
            # The batch's prefetch found no binding: insert (the unique key still guards).
            binding = Binding.objects.create(**key, **values)
        else:
            binding, _ = Binding.objects.update_or_create(**key, defaults=values)
        known.pop((self.binding_type, change.procore_id), None)
        return binding

    def bind_many(
        self, ctx: SyncContext, done: list[tuple[Change, Written]]
    ) -> list[Binding | None]:
        """``bind`` for a group the writer settles together, in ``done``'s order: the records
        the batch's prefetch found unbound are inserted in one statement (per-row ORM inserts
        were ~6 % of a run's CPU), the others bound one by one. An IntegrityError (a binding
        appeared since the prefetch) rolls the group back; the writer then binds by update."""
        known = ctx.cache.get("bindings", {})
        bindings: list[Binding | None] = [None] * len(done)
        fresh: list[tuple[int, Binding]] = []
        for i, (change, written) in enumerate(done):
            if self.binds_plainly(change) and self._unbound(ctx, change):
                values = self._binding_values(ctx, change, written)
                row = Binding(**self._binding_key(ctx, change), **values)
                fresh.append((i, row))
            else:
                bindings[i] = self.bind(ctx, change, written)
        if fresh:
            Binding.objects.bulk_create([row for _, row in fresh])
            for i, row in fresh:
                bindings[i] = row
                known.pop((self.binding_type, row.procore_id), None)
        return bindings

    def binds_plainly(self, change: Change) -> bool:
        """Whether ``bind`` would store the plain binding of ``_binding_values`` for this
        change (flows whose ``bind`` does more for some operations say which)."""
        return change.operation in (Operation.CREATE, Operation.UPDATE, Operation.LINK)

    def _unbound(self, ctx: SyncContext, change: Change) -> bool:
        known = ctx.cache.get("bindings", {})
        return known.get((self.binding_type, change.procore_id), True) is None

    def _binding_key(self, ctx: SyncContext, change: Change) -> dict:
        return {
            "connection": ctx.connection,
            "object_type": self.binding_type,
            "procore_id": change.procore_id,
        }

    def _binding_values(self, ctx: SyncContext, change: Change, written: Written) -> dict:
        payload = change.context.get("full_payload", change.payload)
        if change.operation == Operation.LINK:
            payload = change.context.get("linked_payload", payload)
        return {
            "erp_type": change.erp_type,
            "erp_id": written.erp_id,
            "erp_number": written.number or change.context.get("number", ""),
            "fingerprint": change.fingerprint,
            "payload": payload,
            "erp_version": written.version,
            "parent_procore_id": change.context.get("parent_id", ""),
            "written_back_at": None,
            "synced_at": ctx.now(),
        }

    def write_back(self, ctx: SyncContext, binding: Binding) -> None:
        """Tell Procore where its record lives in the ERP (origin_id / origin_data)."""
