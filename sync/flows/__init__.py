"""The flows: one per Procore object type, registered by name.

How to add a flow (e.g. requisitions → vendorBill / Bill):

1. Write the pure mapper functions in ``sync/mappers/netsuite.py`` and
   ``sync/mappers/quickbooks.py`` (Procore typed record + injected lookup → payload dict,
   ``Decimal`` money; a missing mapping is the lookup's ``MappingMissing``). Test them with a
   fake lookup (tests/sync/test_mappers.py).
2. Subclass ``sync.flows.base.Flow`` in ``sync/flows/<name>.py``: set ``name`` (the key of
   ``sync.config.DEFAULT_DIRECTIONS`` and the command's ``--object``) and ``binding_type``;
   implement ``fetch`` (yield a ``Source`` per Procore record, with ``skip`` / ``deleted``)
   and ``propose`` (return a ``Plan``: operation, ERP record type, payload, facts for the
   queue's filters, ``holds`` for the flow's own reason codes). Override ``review`` for rules
   that need the ERP's current copy, ``write``/``bind`` only for unusual writes (revisions),
   and ``write_back`` to set Procore's ``origin_id`` / ``origin_data``.
3. Register it in ``FLOWS`` below. The engine then does, for every record: fingerprint
   against the Binding (unchanged → no ERP call), ERP read + ERP_EDITED for updates,
   SUSPECTED_DUPLICATE for creates (``check_duplicates=True``), APPROVAL_THRESHOLD, storing
   the Change before any call, holding it as an ExceptionItem or sending it, binding,
   auto-resolving the record's items and writing back. See sync/README.md.
"""

from __future__ import annotations

from sync.flows.base import Flow, Hold, Plan, Source
from sync.flows.change_orders import ChangeOrdersFlow
from sync.flows.commitments import CommitmentsFlow
from sync.flows.direct_costs import DirectCostsFlow
from sync.flows.owner_invoices import OwnerInvoicesFlow
from sync.flows.payments import PaymentsFlow
from sync.flows.projects import ProjectsFlow
from sync.flows.requisitions import RequisitionsFlow, RetainageReleasesFlow
from sync.flows.vendors import VendorsFlow

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        ProjectsFlow(),
        VendorsFlow(),
        CommitmentsFlow(),
        ChangeOrdersFlow(),
        RequisitionsFlow(),
        RetainageReleasesFlow(),
        OwnerInvoicesFlow(),
        DirectCostsFlow(),
        PaymentsFlow(),
    )
}
# Binding.object_type → flow, for re-evaluating queued items.
BY_BINDING_TYPE: dict[str, Flow] = {flow.binding_type: flow for flow in FLOWS.values()}


def flow_for(name: str) -> Flow:
    try:
        return FLOWS[name]
    except KeyError:
        raise ValueError(f"unknown flow {name!r}; one of {', '.join(FLOWS)}") from None


__all__ = ["FLOWS", "Flow", "Hold", "Plan", "Source", "flow_for"]
