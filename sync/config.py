"""Per-connection sync settings: directions per object type and routing policies, typed,
with the defaults of issue 6. ``Connection.directions`` / ``Connection.policies`` hold only
what an admin changed; everything else comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sync.models import Connection, Kind

PUSH, PULL, BOTH, OFF = "push", "pull", "both", "off"
DIRECTIONS = (PUSH, PULL, BOTH, OFF)

DEFAULT_DIRECTIONS: dict[str, str] = {
    "projects": PUSH,
    "vendors": BOTH,
    "commitments": PUSH,
    "commitment_change_orders": PUSH,
    "requisitions": PUSH,
    "retainage_releases": PUSH,
    "owner_invoices": PUSH,
    "direct_costs": PUSH,
    "payment_status": PULL,
    "payments": PULL,  # the payment-status pull's flow name (sync/flows/payments.py)
}

SEPARATE_TRANSACTION = "separate_transaction"
AMEND_IN_PLACE = "amend_in_place"
STRATEGIES = (SEPARATE_TRANSACTION, AMEND_IN_PLACE)


def direction(connection: Connection, object_type: str) -> str:
    value = (connection.directions or {}).get(object_type) or DEFAULT_DIRECTIONS.get(
        object_type, OFF
    )
    return value if value in DIRECTIONS else OFF


def pushes(connection: Connection, object_type: str) -> bool:
    return direction(connection, object_type) in (PUSH, BOTH)


def pulls(connection: Connection, object_type: str) -> bool:
    return direction(connection, object_type) in (PULL, BOTH)


@dataclass(frozen=True)
class Policies:
    # Per object type ("commitments": Decimal("250000")): above it, always ask a person.
    approval_thresholds: dict[str, Decimal] = field(default_factory=dict)
    # Every update of a synced commitment is a revision a controller approves, whether or not
    # the ERP has an approval step (QuickBooks has none).
    all_revisions_need_approval: bool = True
    auto_create_vendors: bool = False
    change_order_strategy: str = SEPARATE_TRANSACTION
    # "mapped": flows only look at Procore projects mapped to this connection (a company with
    # two ERPs maps each project to one); "all": an unmapped project is UNMAPPED_PROJECT.
    projects_scope: str = "mapped"
    # Procore commitment statuses that go to the ERP.
    commitment_statuses: tuple[str, ...] = ("Approved", "Complete", "Closed")
    # NetSuite: the subsidiary a vendor created from Procore is assigned to.
    vendor_subsidiary_id: str | None = None
    # Exception queue review (issue 8). Segregation of duties: whoever edited an item's
    # proposed write may not approve it. Items above `second_approval_above` (in the item's
    # currency) need two approvals from two different people. Items older than `sla_hours`
    # stand out in the queue and the daily digest.
    segregation_of_duties: bool = True
    second_approval_above: Decimal | None = None
    sla_hours: int = 48

    def threshold(self, object_type: str) -> Decimal | None:
        return self.approval_thresholds.get(object_type)


def policies(connection: Connection) -> Policies:
    raw: dict[str, Any] = connection.policies or {}
    default_strategy = (
        AMEND_IN_PLACE if connection.kind == Kind.QUICKBOOKS else SEPARATE_TRANSACTION
    )
    strategy = raw.get("change_order_strategy") or default_strategy
    if strategy not in STRATEGIES:
        strategy = default_strategy
    thresholds = {
        str(k): Decimal(str(v))
        for k, v in (raw.get("approval_thresholds") or {}).items()
        if v not in (None, "")
    }
    statuses = raw.get("commitment_statuses") or Policies.commitment_statuses
    return Policies(
        approval_thresholds=thresholds,
        all_revisions_need_approval=bool(raw.get("all_revisions_need_approval", True)),
        auto_create_vendors=bool(raw.get("auto_create_vendors", False)),
        change_order_strategy=strategy,
        projects_scope="all" if raw.get("projects_scope") == "all" else "mapped",
        commitment_statuses=tuple(statuses),
        vendor_subsidiary_id=raw.get("vendor_subsidiary_id") or None,
        segregation_of_duties=bool(raw.get("segregation_of_duties", True)),
        second_approval_above=_decimal(raw.get("second_approval_above")),
        sla_hours=_positive_int(raw.get("sla_hours"), Policies.sla_hours),
    )


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default
