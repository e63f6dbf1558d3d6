"""Typed Procore payloads (reference §5.4): ``str`` ids, ``Decimal`` money, aware-UTC times.

Procore ids can exceed 32 bits (§1.5) and are kept as strings (DESIGN.md rule 6). Money comes as
decimal strings ("250.0", §5) and sometimes as JSON numbers; both become ``Decimal`` through
``str()`` so no binary float ever touches an amount. Timestamps come as ``...Z`` or with an
offset ("2020-10-19T12:17:31-07:00") and are converted to UTC here (rule 7). Every object keeps
the remote JSON in ``raw`` so nothing Procore sent is lost to a field we did not model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Raw = dict[str, Any]

COMMITMENT_KINDS = {
    "work_order_contract": "WorkOrderContract",
    "purchase_order_contract": "PurchaseOrderContract",
}


def sid(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return sid(value.get("id"))
    return str(value)


def money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value).replace(",", "").replace("$", ""))
    except InvalidOperation:
        return None


def pct(value: Any) -> Decimal | None:
    """Percentages come as "10.00" or "96.36%"."""
    if isinstance(value, str):
        value = value.rstrip("%")
    return money(value)


def moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    text = str(value).strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:  # no offset: Procore's API times are UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    text = str(value)
    if len(text) > 10:
        stamp = moment(text)
        return stamp.date() if stamp else None
    return date.fromisoformat(text)


def text(value: Any) -> str | None:
    return None if value is None else str(value)


def _origin(raw: Raw) -> dict[str, Any]:
    return {
        "origin_id": text(raw.get("origin_id")),
        "origin_data": text(raw.get("origin_data")),
        "origin_code": text(raw.get("origin_code")),
    }


def _stamps(raw: Raw) -> dict[str, Any]:
    return {
        "created_at": moment(raw.get("created_at")),
        "updated_at": moment(raw.get("updated_at")),
        "deleted_at": moment(raw.get("deleted_at")),
    }


@dataclass
class Company:
    id: str
    name: str
    is_active: bool
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> Company:
        return cls(sid(raw["id"]), raw.get("name") or "", bool(raw.get("is_active", True)), raw)


@dataclass
class Project:
    id: str
    name: str
    project_number: str | None
    active: bool
    company_id: str | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> Project:
        return cls(
            id=sid(raw["id"]),
            name=raw.get("name") or raw.get("display_name") or "",
            project_number=text(raw.get("project_number")),
            active=bool(raw.get("active", True)),
            company_id=sid(raw.get("company")),
            **_origin(raw),
            **_stamps(raw),
            raw=raw,
        )


@dataclass
class Vendor:
    id: str
    name: str
    abbreviated_name: str | None
    is_active: bool
    synced_to_erp: bool | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> Vendor:
        return cls(
            id=sid(raw["id"]),
            name=raw.get("name") or raw.get("company") or "",
            abbreviated_name=text(raw.get("abbreviated_name")),
            is_active=bool(raw.get("is_active", True)),
            synced_to_erp=raw.get("synced_to_erp"),
            **_origin(raw),
            **_stamps(raw),
            raw=raw,
        )


@dataclass
class CostCode:
    id: str
    name: str
    full_code: str | None
    code: str | None
    parent_id: str | None
    biller_id: str | None
    biller_type: str | None
    standard_cost_code_id: str | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> CostCode:
        return cls(
            id=sid(raw["id"]),
            name=raw.get("name") or "",
            full_code=text(raw.get("full_code")),
            code=text(raw.get("code")),
            parent_id=sid(raw.get("parent")),
            biller_id=sid(raw.get("biller_id")),
            biller_type=text(raw.get("biller_type")),
            standard_cost_code_id=sid(raw.get("standard_cost_code_id")),
            **_origin(raw),
            **_stamps(raw),
            raw=raw,
        )


@dataclass
class LineItemType:
    """A cost type ("line item type", §5.3 base_type enum)."""

    id: str
    name: str
    code: str | None
    base_type: str | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> LineItemType:
        return cls(
            id=sid(raw["id"]),
            name=raw.get("name") or "",
            code=text(raw.get("code")),
            base_type=text(raw.get("base_type")),
            **_origin(raw),
            **_stamps(raw),
            raw=raw,
        )


@dataclass
class LineItem:
    """A commitment SOV row, a direct cost line or a prime contract line (§5.4)."""

    id: str
    position: int | None
    description: str | None
    amount: Decimal | None
    quantity: Decimal | None
    unit_cost: Decimal | None
    uom: str | None
    extended_amount: Decimal | None
    total_amount: Decimal | None
    tax_amount: Decimal | None
    cost_code_id: str | None
    line_item_type_id: str | None
    wbs_code_id: str | None
    origin_id: str | None
    origin_data: str | None
    updated_at: datetime | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> LineItem:
        return cls(
            id=sid(raw["id"]),
            position=raw.get("position"),
            description=text(raw.get("description")),
            amount=money(raw.get("amount")),
            quantity=money(raw.get("quantity")),
            unit_cost=money(raw.get("unit_cost")),
            uom=text(raw.get("uom")),
            extended_amount=money(raw.get("extended_amount")),
            total_amount=money(raw.get("total_amount")),
            tax_amount=money(raw.get("tax_amount")),
            cost_code_id=sid(raw.get("cost_code") or raw.get("cost_code_id")),
            line_item_type_id=sid(raw.get("line_item_type") or raw.get("line_item_type_id")),
            wbs_code_id=sid(raw.get("wbs_code") or raw.get("wbs_code_id")),
            origin_id=text(raw.get("origin_id")),
            origin_data=text(raw.get("origin_data")),
            updated_at=moment(raw.get("updated_at")),
            raw=raw,
        )


@dataclass
class Commitment:
    """A Work Order Contract (subcontract) or Purchase Order Contract, with its SOV lines."""

    id: str
    kind: str  # "work_order_contract" | "purchase_order_contract"
    project_id: str | None
    vendor_id: str | None
    number: str | None
    title: str | None
    status: str | None
    accounting_method: str | None
    executed: bool | None
    retainage_percent: Decimal | None
    grand_total: Decimal | None
    revised_contract: Decimal | None
    approved_change_orders: Decimal | None
    currency: str | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    lines: list[LineItem]
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw, kind: str | None = None, lines: list[Raw] | None = None) -> Commitment:
        if kind is None:
            by_type = {v: k for k, v in COMMITMENT_KINDS.items()}
            kind = by_type.get(raw.get("type") or "", "work_order_contract")
        line_rows = lines if lines is not None else raw.get("line_items") or []
        currency = (raw.get("currency_configuration") or {}).get("currency_iso_code")
        return cls(
            id=sid(raw["id"]),
            kind=kind,
            project_id=sid(raw.get("project") or raw.get("project_id")),
            vendor_id=sid(raw.get("vendor") or raw.get("vendor_id")),
            number=text(raw.get("number")),
            title=text(raw.get("title")),
            status=text(raw.get("status")),
            accounting_method=text(raw.get("accounting_method")),
            executed=raw.get("executed"),
            retainage_percent=pct(raw.get("retainage_percent")),
            grand_total=money(raw.get("grand_total")),
            revised_contract=money(raw.get("revised_contract")),
            approved_change_orders=money(raw.get("approved_change_orders")),
            currency=text(currency),
            **_origin(raw),
            **_stamps(raw),
            lines=[LineItem.parse(row) for row in line_rows],
            raw=raw,
        )


@dataclass
class CommitmentChangeOrder:
    id: str
    contract_id: str | None
    number: str | None
    title: str | None
    status: str | None
    revision: int | None
    executed: bool | None
    paid: bool | None
    grand_total: Decimal | None
    due_date: date | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    lines: list[LineItem]
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> CommitmentChangeOrder:
        return cls(
            id=sid(raw["id"]),
            contract_id=sid(raw.get("contract_id") or raw.get("contract")),
            number=text(raw.get("number")),
            title=text(raw.get("title")),
            status=text(raw.get("status")),
            revision=raw.get("revision"),
            executed=raw.get("executed"),
            paid=raw.get("paid"),
            grand_total=money(raw.get("grand_total")),
            due_date=day(raw.get("due_date")),
            **_origin(raw),
            **_stamps(raw),
            lines=[LineItem.parse(row) for row in raw.get("line_items") or []],
            raw=raw,
        )


G702_FIELDS = (
    "original_contract_sum",
    "net_change_by_change_orders",
    "contract_sum_to_date",
    "total_completed_and_stored_to_date",
    "completed_work_retainage_percent",
    "completed_work_retainage_amount",
    "stored_materials_retainage_percent",
    "stored_materials_retainage_amount",
    "total_retainage",
    "total_earned_less_retainage",
    "less_previous_certificates_for_payment",
    "current_payment_due",
    "balance_to_finish_including_retainage",
)


@dataclass
class G702:
    """The AIA G702 summary on requisitions and payment applications: where retainage lives."""

    original_contract_sum: Decimal | None = None
    net_change_by_change_orders: Decimal | None = None
    contract_sum_to_date: Decimal | None = None
    total_completed_and_stored_to_date: Decimal | None = None
    completed_work_retainage_percent: Decimal | None = None
    completed_work_retainage_amount: Decimal | None = None
    stored_materials_retainage_percent: Decimal | None = None
    stored_materials_retainage_amount: Decimal | None = None
    total_retainage: Decimal | None = None
    total_earned_less_retainage: Decimal | None = None
    less_previous_certificates_for_payment: Decimal | None = None
    current_payment_due: Decimal | None = None
    balance_to_finish_including_retainage: Decimal | None = None

    @classmethod
    def parse(cls, raw: Raw | None) -> G702:
        raw = raw or {}
        return cls(**{name: pct(raw.get(name)) for name in G702_FIELDS})


@dataclass
class Requisition:
    """A subcontractor invoice (§5.4) with its G702 retainage figures."""

    id: str
    project_id: str | None
    commitment_id: str | None
    number: str | None
    invoice_number: str | None
    status: str | None
    erp_status: str | None
    billing_date: date | None
    payment_date: date | None
    period_id: str | None
    period_start: date | None
    period_end: date | None
    percent_complete: Decimal | None
    total_claimed_amount: Decimal | None
    g702: G702
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    raw: Raw = field(repr=False)

    @property
    def total_retainage(self) -> Decimal | None:
        return self.g702.total_retainage

    @classmethod
    def parse(cls, raw: Raw) -> Requisition:
        return cls(
            id=sid(raw["id"]),
            project_id=sid(raw.get("project_id") or raw.get("project")),
            commitment_id=sid(raw.get("commitment_id") or raw.get("commitment")),
            number=text(raw.get("number")),
            invoice_number=text(raw.get("invoice_number")),
            status=text(raw.get("status")),
            erp_status=text(raw.get("erp_status")),
            billing_date=day(raw.get("billing_date")),
            payment_date=day(raw.get("payment_date")),
            period_id=sid(raw.get("period_id")),
            period_start=day(raw.get("requisition_start")),
            period_end=day(raw.get("requisition_end")),
            percent_complete=pct(raw.get("percent_complete")),
            total_claimed_amount=money(raw.get("total_claimed_amount")),
            g702=G702.parse(raw.get("g702") or (raw.get("summary") or {}).get("g702")),
            **_origin(raw),
            **_stamps(raw),
            raw=raw,
        )


@dataclass
class PrimeContract:
    id: str
    project_id: str | None
    number: str | None
    title: str | None
    status: str | None
    grand_total: Decimal | None
    revised_contract: Decimal | None
    retainage_percent: Decimal | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> PrimeContract:
        return cls(
            id=sid(raw["id"]),
            project_id=sid(raw.get("project") or raw.get("project_id")),
            number=text(raw.get("number")),
            title=text(raw.get("title")),
            status=text(raw.get("status")),
            grand_total=money(raw.get("grand_total")),
            revised_contract=money(raw.get("revised_contract")),
            retainage_percent=pct(raw.get("retainage_percent")),
            **_origin(raw),
            **_stamps(raw),
            raw=raw,
        )


@dataclass
class PaymentApplication:
    """An owner invoice on a prime contract."""

    id: str
    prime_contract_id: str | None
    number: str | None
    invoice_number: str | None
    status: str | None
    billing_date: date | None
    period_start: date | None
    period_end: date | None
    total_amount_paid: Decimal | None
    g702: G702
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> PaymentApplication:
        return cls(
            id=sid(raw["id"]),
            prime_contract_id=sid(raw.get("contract") or raw.get("prime_contract_id")),
            number=text(raw.get("number")),
            invoice_number=text(raw.get("invoice_number")),
            status=text(raw.get("status")),
            billing_date=day(raw.get("billing_date")),
            period_start=day(raw.get("period_start")),
            period_end=day(raw.get("period_end")),
            total_amount_paid=money(raw.get("total_amount_paid")),
            g702=G702.parse(raw.get("g702")),
            **_origin(raw),
            **_stamps(raw),
            raw=raw,
        )


@dataclass
class DirectCost:
    id: str
    project_id: str | None
    direct_cost_type: str | None
    status: str | None
    direct_cost_date: date | None
    invoice_number: str | None
    description: str | None
    vendor_id: str | None
    amount: Decimal | None
    grand_total: Decimal | None
    payment_date: date | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    lines: list[LineItem]
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw, lines: list[Raw] | None = None) -> DirectCost:
        return cls(
            id=sid(raw["id"]),
            project_id=sid(raw.get("project") or raw.get("project_id")),
            direct_cost_type=text(raw.get("direct_cost_type")),
            status=text(raw.get("status")),
            direct_cost_date=day(raw.get("direct_cost_date")),
            invoice_number=text(raw.get("invoice_number")),
            description=text(raw.get("description")),
            vendor_id=sid(raw.get("vendor_id") or raw.get("vendor")),
            amount=money(raw.get("amount")),
            grand_total=money(raw.get("grand_total")),
            payment_date=day(raw.get("payment_date")),
            **_origin(raw),
            **_stamps(raw),
            lines=[
                LineItem.parse(r)
                for r in (lines if lines is not None else raw.get("line_items") or [])
            ],
            raw=raw,
        )


@dataclass
class ContractPayment:
    """A payment issued on a commitment (or received on a prime contract)."""

    id: str
    project_id: str | None
    contract_id: str | None
    requisition_id: str | None
    amount: Decimal | None
    date: date | None
    invoice_number: str | None
    check_number: str | None
    status: str | None
    origin_id: str | None
    origin_data: str | None
    origin_code: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> ContractPayment:
        return cls(
            id=sid(raw["id"]),
            project_id=sid(raw.get("project_id")),
            contract_id=sid(raw.get("contract_id")),
            requisition_id=sid(raw.get("requisition_id")),
            amount=money(raw.get("amount")),
            date=day(raw.get("date")),
            invoice_number=text(raw.get("invoice_number")),
            check_number=text(raw.get("check_number")),
            status=text(raw.get("status")),
            **_origin(raw),
            **_stamps(raw),
            raw=raw,
        )


@dataclass
class WebhookHook:
    id: str
    namespace: str | None
    api_version: str | None
    destination_url: str | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> WebhookHook:
        return cls(
            id=sid(raw["id"]),
            namespace=text(raw.get("namespace")),
            api_version=text(raw.get("api_version") or raw.get("payload_version")),
            destination_url=text(raw.get("destination_url")),
            raw=raw,
        )


@dataclass
class WebhookTrigger:
    id: str
    hook_id: str | None
    resource_name: str | None
    event_type: str | None
    raw: Raw = field(repr=False)

    @classmethod
    def parse(cls, raw: Raw) -> WebhookTrigger:
        return cls(
            id=sid(raw["id"]),
            hook_id=sid(raw.get("webhook_hook_id")),
            resource_name=text(raw.get("resource_name")),
            event_type=text(raw.get("event_type")),
            raw=raw,
        )
