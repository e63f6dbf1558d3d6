"""Typed QuickBooks Online entities (quickbooks-api.md §4), parsed from the JSON QBO returns.

Money is ``Decimal`` (parse responses with ``parse_float=Decimal``; a float that slipped in is
converted through ``str``), ids are strings, times are aware UTC (QBO sends the company's local
offset, §4.1), ``SyncToken`` is kept for the next update, and ``raw`` keeps the whole record so
nothing QBO sent is lost to the mapper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def money(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def utc(value: Any) -> datetime | None:
    """``2015-07-28T16:01:47-07:00`` → aware UTC. A value without an offset is taken as UTC."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def day(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


@dataclass(frozen=True)
class Ref:
    value: str
    name: str | None = None

    @classmethod
    def of(cls, data: Any) -> Ref | None:
        if not isinstance(data, dict) or data.get("value") in (None, ""):
            return None
        return cls(str(data["value"]), data.get("name"))


def _id(ref: Ref | None) -> str | None:
    return ref.value if ref else None


@dataclass
class Entity:
    entity = "Entity"
    id: str
    sync_token: str | None
    created_at: datetime | None
    updated_at: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def base(cls, data: dict[str, Any]) -> dict[str, Any]:
        meta = data.get("MetaData") or {}
        token = data.get("SyncToken")
        return {
            "id": str(data.get("Id", "")),
            "sync_token": None if token is None else str(token),
            "created_at": utc(meta.get("CreateTime")),
            "updated_at": utc(meta.get("LastUpdatedTime")),
            "raw": data,
        }

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Entity:
        return cls(**cls.base(data))


@dataclass
class Deleted:
    """A CDC stub (``"status": "Deleted"``) or the answer to a delete: only Id and time."""

    entity: str
    id: str
    updated_at: datetime | None
    raw: dict[str, Any] = field(repr=False)


@dataclass
class CompanyInfo(Entity):
    entity = "CompanyInfo"
    company_name: str = ""
    legal_name: str | None = None
    country: str | None = None
    fiscal_year_start_month: str | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.base(data),
            company_name=data.get("CompanyName", ""),
            legal_name=data.get("LegalName"),
            country=data.get("Country"),
            fiscal_year_start_month=data.get("FiscalYearStartMonth"),
        )


@dataclass
class NameEntity(Entity):
    """List entities share a name, an active flag and (for some) a parent."""

    name: str = ""
    fully_qualified_name: str | None = None
    active: bool = True
    parent: Ref | None = None

    @classmethod
    def named(cls, data: dict[str, Any], name_field: str = "Name") -> dict[str, Any]:
        return {
            **cls.base(data),
            "name": data.get(name_field, ""),
            "fully_qualified_name": data.get("FullyQualifiedName"),
            "active": bool(data.get("Active", True)),
            "parent": Ref.of(data.get("ParentRef")),
        }

    @classmethod
    def parse(cls, data):
        return cls(**cls.named(data))


@dataclass
class Customer(NameEntity):
    """A customer, or (``job=True`` with a parent) a job / sub-customer — a Procore project."""

    entity = "Customer"
    job: bool = False
    bill_with_parent: bool = False
    level: int = 0
    company_name: str | None = None
    balance: Decimal | None = None
    currency: str | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.named(data, "DisplayName"),
            job=bool(data.get("Job", False)),
            bill_with_parent=bool(data.get("BillWithParent", False)),
            level=int(data.get("Level", 0) or 0),
            company_name=data.get("CompanyName"),
            balance=money(data.get("Balance")),
            currency=_id(Ref.of(data.get("CurrencyRef"))),
        )


@dataclass
class Vendor(NameEntity):
    entity = "Vendor"
    company_name: str | None = None
    acct_num: str | None = None
    vendor_1099: bool = False
    balance: Decimal | None = None
    currency: str | None = None
    email: str | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.named(data, "DisplayName"),
            company_name=data.get("CompanyName"),
            acct_num=data.get("AcctNum"),
            vendor_1099=bool(data.get("Vendor1099", False)),
            balance=money(data.get("Balance")),
            currency=_id(Ref.of(data.get("CurrencyRef"))),
            email=(data.get("PrimaryEmailAddr") or {}).get("Address"),
        )


@dataclass
class Class(NameEntity):
    entity = "Class"
    sub_class: bool = False

    @classmethod
    def parse(cls, data):
        return cls(**cls.named(data), sub_class=bool(data.get("SubClass", False)))


@dataclass
class Department(NameEntity):
    entity = "Department"


@dataclass
class Term(NameEntity):
    entity = "Term"
    due_days: int | None = None
    type: str | None = None

    @classmethod
    def parse(cls, data):
        due = data.get("DueDays")
        return cls(
            **cls.named(data), due_days=None if due is None else int(due), type=data.get("Type")
        )


@dataclass
class Item(NameEntity):
    entity = "Item"
    type: str | None = None
    description: str | None = None
    unit_price: Decimal | None = None
    purchase_cost: Decimal | None = None
    income_account: Ref | None = None
    expense_account: Ref | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.named(data),
            type=data.get("Type"),
            description=data.get("Description"),
            unit_price=money(data.get("UnitPrice")),
            purchase_cost=money(data.get("PurchaseCost")),
            income_account=Ref.of(data.get("IncomeAccountRef")),
            expense_account=Ref.of(data.get("ExpenseAccountRef")),
        )


@dataclass
class Account(NameEntity):
    entity = "Account"
    account_type: str | None = None
    account_sub_type: str | None = None
    classification: str | None = None
    acct_num: str | None = None
    current_balance: Decimal | None = None
    currency: str | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.named(data),
            account_type=data.get("AccountType"),
            account_sub_type=data.get("AccountSubType"),
            classification=data.get("Classification"),
            acct_num=data.get("AcctNum"),
            current_balance=money(data.get("CurrentBalance")),
            currency=_id(Ref.of(data.get("CurrencyRef"))),
        )


@dataclass
class LinkedTxn:
    txn_id: str
    txn_type: str
    txn_line_id: str | None = None

    @classmethod
    def many(cls, data: Any) -> list[LinkedTxn]:
        return [
            cls(str(x.get("TxnId")), x.get("TxnType", ""), x.get("TxnLineId"))
            for x in data or []
            if isinstance(x, dict) and x.get("TxnId") is not None
        ]


@dataclass
class Line:
    """One transaction line; the detail object's common refs are lifted out."""

    id: str | None
    line_num: int | None
    amount: Decimal | None
    description: str | None
    detail_type: str | None
    account: Ref | None = None
    item: Ref | None = None
    customer: Ref | None = None  # the job a cost is charged to
    class_ref: Ref | None = None
    department: Ref | None = None
    qty: Decimal | None = None
    unit_price: Decimal | None = None
    billable_status: str | None = None
    posting_type: str | None = None  # JournalEntry: Debit | Credit
    entity_type: str | None = None  # JournalEntry line Entity.Type
    entity_ref: Ref | None = None
    linked: list[LinkedTxn] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Line:
        dtype = data.get("DetailType")
        detail = data.get(dtype) if dtype and isinstance(data.get(dtype), dict) else {}
        entity = detail.get("Entity") or {}
        num = data.get("LineNum")
        return cls(
            id=None if data.get("Id") is None else str(data["Id"]),
            line_num=None if num is None else int(num),
            amount=money(data.get("Amount")),
            description=data.get("Description"),
            detail_type=dtype,
            account=Ref.of(detail.get("AccountRef")),
            item=Ref.of(detail.get("ItemRef")),
            customer=Ref.of(detail.get("CustomerRef")),
            class_ref=Ref.of(detail.get("ClassRef")),
            department=Ref.of(detail.get("DepartmentRef")),
            qty=money(detail.get("Qty")),
            unit_price=money(detail.get("UnitPrice")),
            billable_status=detail.get("BillableStatus"),
            posting_type=detail.get("PostingType"),
            entity_type=entity.get("Type"),
            entity_ref=Ref.of(entity.get("EntityRef")),
            linked=LinkedTxn.many(data.get("LinkedTxn")),
            raw=data,
        )


@dataclass
class Transaction(Entity):
    doc_number: str | None = None
    txn_date: date | None = None
    currency: str | None = None
    exchange_rate: Decimal | None = None
    total_amt: Decimal | None = None
    private_note: str | None = None
    lines: list[Line] = field(default_factory=list)
    linked: list[LinkedTxn] = field(default_factory=list)

    @classmethod
    def txn(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {
            **cls.base(data),
            "doc_number": data.get("DocNumber"),
            "txn_date": day(data.get("TxnDate")),
            "currency": _id(Ref.of(data.get("CurrencyRef"))),
            "exchange_rate": money(data.get("ExchangeRate")),
            "total_amt": money(data.get("TotalAmt")),
            "private_note": data.get("PrivateNote"),
            "lines": [Line.parse(x) for x in data.get("Line") or [] if isinstance(x, dict)],
            "linked": LinkedTxn.many(data.get("LinkedTxn")),
        }

    @classmethod
    def parse(cls, data):
        return cls(**cls.txn(data))


@dataclass
class PurchaseOrder(Transaction):
    entity = "PurchaseOrder"
    vendor: Ref | None = None
    ap_account: Ref | None = None
    class_ref: Ref | None = None
    po_status: str | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.txn(data),
            vendor=Ref.of(data.get("VendorRef")),
            ap_account=Ref.of(data.get("APAccountRef")),
            class_ref=Ref.of(data.get("ClassRef")),
            po_status=data.get("POStatus"),
        )


@dataclass
class Bill(Transaction):
    entity = "Bill"
    vendor: Ref | None = None
    ap_account: Ref | None = None
    department: Ref | None = None
    sales_term: Ref | None = None
    due_date: date | None = None
    balance: Decimal | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.txn(data),
            vendor=Ref.of(data.get("VendorRef")),
            ap_account=Ref.of(data.get("APAccountRef")),
            department=Ref.of(data.get("DepartmentRef")),
            sales_term=Ref.of(data.get("SalesTermRef")),
            due_date=day(data.get("DueDate")),
            balance=money(data.get("Balance")),
        )


@dataclass
class Invoice(Transaction):
    entity = "Invoice"
    customer: Ref | None = None
    due_date: date | None = None
    balance: Decimal | None = None
    class_ref: Ref | None = None
    department: Ref | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.txn(data),
            customer=Ref.of(data.get("CustomerRef")),
            due_date=day(data.get("DueDate")),
            balance=money(data.get("Balance")),
            class_ref=Ref.of(data.get("ClassRef")),
            department=Ref.of(data.get("DepartmentRef")),
        )


@dataclass
class Payment(Transaction):
    entity = "Payment"
    customer: Ref | None = None
    deposit_to_account: Ref | None = None
    unapplied_amt: Decimal | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.txn(data),
            customer=Ref.of(data.get("CustomerRef")),
            deposit_to_account=Ref.of(data.get("DepositToAccountRef")),
            unapplied_amt=money(data.get("UnappliedAmt")),
        )


@dataclass
class BillPayment(Transaction):
    entity = "BillPayment"
    vendor: Ref | None = None
    pay_type: str | None = None  # Check | CreditCard
    bank_account: Ref | None = None
    cc_account: Ref | None = None

    @classmethod
    def parse(cls, data):
        return cls(
            **cls.txn(data),
            vendor=Ref.of(data.get("VendorRef")),
            pay_type=data.get("PayType"),
            bank_account=Ref.of((data.get("CheckPayment") or {}).get("BankAccountRef")),
            cc_account=Ref.of((data.get("CreditCardPayment") or {}).get("CCAccountRef")),
        )


@dataclass
class JournalEntry(Transaction):
    entity = "JournalEntry"
    adjustment: bool = False

    @classmethod
    def parse(cls, data):
        return cls(**cls.txn(data), adjustment=bool(data.get("Adjustment", False)))

    def totals(self) -> tuple[Decimal, Decimal]:
        debit = sum((ln.amount or 0 for ln in self.lines if ln.posting_type == "Debit"), Decimal(0))
        credit = sum(
            (ln.amount or 0 for ln in self.lines if ln.posting_type == "Credit"), Decimal(0)
        )
        return debit, credit


TYPES: dict[str, type[Entity]] = {
    t.entity: t
    for t in (
        CompanyInfo,
        Customer,
        Vendor,
        Class,
        Item,
        Account,
        Department,
        Term,
        PurchaseOrder,
        Bill,
        Invoice,
        Payment,
        BillPayment,
        JournalEntry,
    )
}
# Name-list entities: deactivated, never deleted (§1.3).
LIST_ENTITIES = frozenset({"Customer", "Vendor", "Class", "Item", "Account", "Department", "Term"})
TRANSACTIONS = frozenset(
    {"PurchaseOrder", "Bill", "Invoice", "Payment", "BillPayment", "JournalEntry"}
)
_CANONICAL = {name.lower(): name for name in TYPES}


def canonical(entity: str) -> str:
    """``bill`` / ``BILL`` / ``Bill`` → ``Bill``; unknown names raise ``ValueError``."""
    try:
        return _CANONICAL[entity.lower()]
    except KeyError:
        raise ValueError(f"unknown QuickBooks entity {entity!r}") from None


def parse(entity: str, data: dict[str, Any]) -> Entity | Deleted:
    """Parse one record of ``entity``; a ``status: Deleted`` stub becomes :class:`Deleted`."""
    name = canonical(entity)
    if str(data.get("status", "")).lower() == "deleted":
        meta = data.get("MetaData") or {}
        return Deleted(name, str(data.get("Id", "")), utc(meta.get("LastUpdatedTime")), data)
    return TYPES[name].parse(data)
