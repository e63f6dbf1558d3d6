"""Writes the sync engine needs on Procore: origin write-back, payments, webhooks.

Idempotency (DESIGN.md rule 1), per path:

* origin write-back is a PATCH that sets fields to fixed values: repeating it is harmless, so
  it is sent as idempotent (a lost answer is retried).
* contract payments are POSTs; the payment carries our ``origin_id`` (unique per company and
  object type, §5). After a lost answer (``OutcomeUnknown``) or a duplicate refusal we look the
  payment up by that origin_id before (never instead of) creating it again, so a worker killed
  at any instant leaves exactly one payment.
* webhook hooks and triggers are looked up by destination / (resource, event) first, and again
  after a lost answer, so repeating "ensure" never creates a second hook.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.errors import Duplicate, OutcomeUnknown, ValidationFailed

from .schemas import (
    COMMITMENT_KINDS,
    Commitment,
    ContractPayment,
    DirectCost,
    PaymentApplication,
    Project,
    Requisition,
    Vendor,
    WebhookHook,
    WebhookTrigger,
)

if TYPE_CHECKING:
    from .client import ProcoreClient

_V1 = "/rest/v1.0"
SYNC_MAX = 1000  # §4: a sync action takes up to 1000 items


@dataclass(frozen=True)
class Origin:
    """What the engine writes back on a Procore record once the ERP holds it."""

    origin_id: str | None
    origin_data: str | None = None
    origin_code: str | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"origin_id": self.origin_id}
        if self.origin_data is not None:
            out["origin_data"] = self.origin_data
        if self.origin_code is not None:
            out["origin_code"] = self.origin_code
        return out


class WritesMixin:
    """Mixed into :class:`ProcoreClient` (it provides ``send``, ``pages``, ``_company``)."""

    # -- origin write-back --------------------------------------------------------------------

    def _patch(self: ProcoreClient, path: str, params: dict[str, Any], body: dict[str, Any]):
        return self.send("PATCH", path, params=params, json=body, idempotent=True).json()

    def set_project_origin(self: ProcoreClient, project_id: str, origin: Origin) -> Project:
        cid = self._company(None)
        body = {"company_id": int(cid), "project": origin.body()}
        row = self._patch(f"{_V1}/projects/{project_id}", {"company_id": cid}, body)
        return Project.parse(row)

    def set_vendor_origin(self: ProcoreClient, vendor_id: str, origin: Origin) -> Vendor:
        cid = self._company(None)
        body = {"company_id": int(cid), "vendor": origin.body()}
        return Vendor.parse(self._patch(f"{_V1}/vendors/{vendor_id}", {"company_id": cid}, body))

    def set_commitment_origin(
        self: ProcoreClient, kind: str, contract_id: str, project_id: str, origin: Origin
    ) -> Commitment:
        if kind not in COMMITMENT_KINDS:
            raise ValueError(f"unknown commitment kind {kind!r}")
        row = self._patch(
            f"{_V1}/{kind}s/{contract_id}",
            {"project_id": str(project_id)},
            {kind: origin.body()},
        )
        return Commitment.parse(row, kind)

    def set_requisition_origin(
        self: ProcoreClient, requisition_id: str, project_id: str, origin: Origin
    ) -> Requisition:
        return self.update_requisition(requisition_id, project_id, **origin.body())

    def update_requisition(
        self: ProcoreClient, requisition_id: str, project_id: str, **fields: Any
    ) -> Requisition:
        """PATCH a subcontractor invoice; the engine uses it for ``origin_*`` and the ERP facts
        ``erp_status`` / ``payment_date`` (both fields of the v1.0 requisition, §5.4)."""
        body = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in fields.items()}
        row = self._patch(
            f"{_V1}/requisitions/{requisition_id}",
            {"project_id": str(project_id)},
            {"project_id": int(project_id), "requisition": body},
        )
        return Requisition.parse(row)

    def set_payment_application_origin(
        self: ProcoreClient,
        payment_application_id: str,
        prime_contract_id: str,
        project_id: str,
        origin: Origin,
    ) -> PaymentApplication:
        pc = f"{_V1}/prime_contracts/{prime_contract_id}"
        path = f"{pc}/payment_applications/{payment_application_id}"
        row = self._patch(
            path, {"project_id": str(project_id)}, {"payment_application": origin.body()}
        )
        return PaymentApplication.parse(row)

    def set_direct_cost_origin(
        self: ProcoreClient, direct_cost_id: str, project_id: str, origin: Origin
    ) -> DirectCost:
        path = f"/rest/v1.1/projects/{project_id}/direct_costs/{direct_cost_id}"
        return DirectCost.parse(self._patch(path, {}, {"direct_cost": origin.body()}))

    def mark_synced(
        self: ProcoreClient, items: Iterable[dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """ERP framework bulk write-back (§6): ``PATCH /companies/{id}/external_data/sync`` with
        ``{"item_type", "item_id", "origin_id"}`` rows, 1000 per call (the sync-action cap).
        Yields the per-item errors the server reports (the call itself answers 200)."""
        cid = self._company(None)
        path = f"{_V1}/companies/{cid}/external_data/sync"
        batch: list[dict[str, Any]] = []

        def flush() -> Iterator[dict[str, Any]]:
            answer = self.send("PATCH", path, json=batch, idempotent=True).json()
            if isinstance(answer, dict):
                yield from answer.get("errors") or []

        for item in items:
            batch.append(dict(item))
            if len(batch) == SYNC_MAX:
                yield from flush()
                batch = []
        if batch:
            yield from flush()

    # -- payments -----------------------------------------------------------------------------

    def find_contract_payment(
        self: ProcoreClient, project_id: str, contract_id: str, origin_id: str
    ) -> ContractPayment | None:
        # filters[origin_id] is not documented for contract_payments (§5.2): list the
        # contract's payments (a handful) and match here; the filter is sent as a hint.
        params = {
            "project_id": str(project_id),
            "contract_id": str(contract_id),
            "filters[origin_id]": origin_id,
        }
        for row in self.rows(f"{_V1}/contract_payments", params):
            if str(row.get("origin_id")) == str(origin_id):
                return ContractPayment.parse(row)
        return None

    def create_contract_payment(
        self: ProcoreClient,
        project_id: str,
        contract_id: str,
        *,
        origin_id: str,
        amount: Decimal,
        paid_on: date,
        requisition_id: str | None = None,
        invoice_number: str | None = None,
        check_number: str | None = None,
        notes: str | None = None,
        origin_data: str | None = None,
        origin_code: str | None = None,
    ) -> ContractPayment:
        """Record an ERP payment against a commitment (and its requisition): the way Procore
        learns a subcontractor invoice was paid. Exactly once per ``origin_id``."""
        if not origin_id:
            raise ValidationFailed("a contract payment needs an origin_id", system=self.system)
        payment: dict[str, Any] = {
            "amount": str(amount),
            "date": paid_on.isoformat(),
            "origin_id": origin_id,
        }
        optional = {
            "requisition_id": requisition_id,
            "invoice_number": invoice_number,
            "check_number": check_number,
            "notes": notes,
            "origin_data": origin_data,
            "origin_code": origin_code,
        }
        payment.update({k: v for k, v in optional.items() if v is not None})
        params = {"project_id": str(project_id), "contract_id": str(contract_id)}
        body = {"project_id": int(project_id), "contract_id": int(contract_id), "payment": payment}
        existing = self.find_contract_payment(project_id, contract_id, origin_id)
        if existing is not None:
            return existing
        try:
            row = self.send("POST", f"{_V1}/contract_payments", params=params, json=body).json()
        except (OutcomeUnknown, Duplicate):
            # Lost answer, or an earlier attempt already holds the origin_id: find it.
            found = self.find_contract_payment(project_id, contract_id, origin_id)
            if found is not None:
                return found
            raise
        return ContractPayment.parse(row)

    # -- webhooks -----------------------------------------------------------------------------

    def hooks(self: ProcoreClient, namespace: str = "*") -> list[WebhookHook]:
        params = {"company_id": self._company(None), "namespace": namespace}
        rows = self.get(f"{_V1}/webhooks/hooks", params=params).json()
        return [WebhookHook.parse(r) for r in rows]

    def create_hook(
        self: ProcoreClient,
        *,
        namespace: str,
        destination_url: str,
        authorization: str,
        api_version: str = "v2",
    ) -> WebhookHook:
        """A company-level hook (§7.1). ``authorization`` goes into ``destination_headers`` and
        comes back on every delivery: it is how our endpoint knows the call is Procore's (no
        signing is documented, §7.3)."""
        body = {
            "company_id": int(self._company(None)),
            "hook": {
                "api_version": api_version,
                "namespace": namespace,
                "destination_url": destination_url,
                "destination_headers": {"Authorization": authorization},
            },
        }
        return WebhookHook.parse(self.send("POST", f"{_V1}/webhooks/hooks", json=body).json())

    def ensure_hook(
        self: ProcoreClient, *, namespace: str, destination_url: str, authorization: str
    ) -> WebhookHook:
        """The hook for ``destination_url`` in ``namespace``, created once."""

        def find() -> WebhookHook | None:
            for hook in self.hooks(namespace):
                if hook.destination_url == destination_url:
                    return hook
            return None

        hook = find()
        if hook is not None:
            return hook
        try:
            return self.create_hook(
                namespace=namespace, destination_url=destination_url, authorization=authorization
            )
        except OutcomeUnknown:
            hook = find()
            if hook is None:
                raise
            return hook

    def delete_hook(self: ProcoreClient, hook_id: str) -> None:
        params = {"company_id": self._company(None)}
        self.send("DELETE", f"{_V1}/webhooks/hooks/{hook_id}", params=params, idempotent=True)

    def triggers(self: ProcoreClient, hook_id: str) -> list[WebhookTrigger]:
        params = {"company_id": self._company(None)}
        rows = self.get(f"{_V1}/webhooks/hooks/{hook_id}/triggers", params=params).json()
        return [WebhookTrigger.parse(r) for r in rows]

    def add_trigger(
        self: ProcoreClient, hook_id: str, resource_name: str, event_type: str
    ) -> WebhookTrigger:
        body = {
            "company_id": int(self._company(None)),
            "api_version": "v2",
            "trigger": {"resource_name": resource_name, "event_type": event_type},
        }
        path = f"{_V1}/webhooks/hooks/{hook_id}/triggers"
        return WebhookTrigger.parse(self.send("POST", path, json=body).json())

    def ensure_triggers(
        self: ProcoreClient, hook_id: str, wanted: Iterable[tuple[str, str]]
    ) -> list[WebhookTrigger]:
        """Add the (resource_name, event_type) pairs the hook lacks; safe to repeat."""
        have = {(t.resource_name, t.event_type): t for t in self.triggers(hook_id)}
        for resource_name, event_type in wanted:
            if (resource_name, event_type) in have:
                continue
            try:
                trigger = self.add_trigger(hook_id, resource_name, event_type)
            except OutcomeUnknown:
                have = {(t.resource_name, t.event_type): t for t in self.triggers(hook_id)}
                if (resource_name, event_type) not in have:
                    raise
                continue
            have[(resource_name, event_type)] = trigger
        return list(have.values())

    def delete_trigger(self: ProcoreClient, hook_id: str, trigger_id: str) -> None:
        params = {"company_id": self._company(None)}
        path = f"{_V1}/webhooks/hooks/{hook_id}/triggers/{trigger_id}"
        self.send("DELETE", path, params=params, idempotent=True)
