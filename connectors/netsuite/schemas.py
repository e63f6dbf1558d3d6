"""Typed NetSuite records for what the sync flows read (DESIGN.md rules 6 and 7).

Money is ``Decimal`` (bodies are parsed with ``parse_float=Decimal``; a float that slipped in is
converted through ``str``), ids are strings, ``lastModifiedDate`` is an aware UTC ``datetime``,
``tranDate``/``dueDate`` are ``date`` (NetSuite date fields carry no zone, reference §1.7). Every
record keeps the remote JSON in ``raw`` so nothing the flows did not foresee is lost.

On read every reference is ``{"links": [...], "id": "1", "refName": "Parent Company"}`` and every
enum ``{"id": "A", "refName": "Open"}`` (reference §5.1); both become :class:`Ref`. Multi-selects
are ``{"items": [{"id": ...}]}``, sublists ``{"items": [...]}`` once expanded
(``expandSubResources=true``), link stubs otherwise (then the list here is empty).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Ref:
    id: str
    name: str = ""
    external_id: str | None = None


def ref(value: Any) -> Ref | None:
    if value in (None, "", {}):
        return None
    if isinstance(value, dict):
        if value.get("id") in (None, ""):
            if value.get("externalId"):
                return Ref(id="", name=value.get("refName", ""), external_id=value["externalId"])
            return None
        return Ref(str(value["id"]), value.get("refName", "") or "", value.get("externalId"))
    return Ref(str(value))


def refs(value: Any) -> list[Ref]:
    """A multi-select (``{"items": [...]}``) or a list of references."""
    items = value.get("items", []) if isinstance(value, dict) else value or []
    return [r for r in (ref(v) for v in items) if r is not None]


def money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def parse_datetime(value: Any) -> datetime | None:
    """``2017-07-21T17:32:28Z`` (± milliseconds) → aware UTC; naive input is taken as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value)[:10])


def items(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [v for v in value.get("items", []) if isinstance(v, dict)]
    return []


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _b(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "t")


def _i(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


# -- lists and setup records ------------------------------------------------------------------


@dataclass
class Subsidiary:
    id: str
    name: str
    currency: Ref | None
    parent: Ref | None
    is_inactive: bool
    is_elimination: bool
    last_modified: datetime | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_subsidiary(d: dict[str, Any]) -> Subsidiary:
    return Subsidiary(
        id=_s(d.get("id")),
        name=_s(d.get("name")),
        currency=ref(d.get("currency")),
        parent=ref(d.get("parent")),
        is_inactive=_b(d.get("isInactive")),
        is_elimination=_b(d.get("isElimination")),
        last_modified=parse_datetime(d.get("lastModifiedDate")),
        raw=d,
    )


@dataclass
class Currency:
    id: str
    name: str
    symbol: str
    is_base: bool
    exchange_rate: Decimal | None
    precision: int | None
    is_inactive: bool
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_currency(d: dict[str, Any]) -> Currency:
    return Currency(
        id=_s(d.get("id")),
        name=_s(d.get("name")),
        symbol=_s(d.get("symbol")),
        is_base=_b(d.get("isBaseCurrency")),
        exchange_rate=money(d.get("exchangeRate")),
        precision=_i(d.get("currencyPrecision")),
        is_inactive=_b(d.get("isInactive")),
        raw=d,
    )


@dataclass
class Account:
    id: str
    number: str
    name: str
    type: str  # acctType id: Bank, AcctPay, Expense, ... (reference §5.2)
    subsidiaries: list[Ref]
    currency: Ref | None
    parent: Ref | None
    is_inactive: bool
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_account(d: dict[str, Any]) -> Account:
    acct_type = d.get("acctType")
    return Account(
        id=_s(d.get("id")),
        number=_s(d.get("acctNumber")),
        name=_s(d.get("acctName")),
        type=_s(acct_type.get("id") if isinstance(acct_type, dict) else acct_type),
        subsidiaries=refs(d.get("subsidiary")),
        currency=ref(d.get("currency")),
        parent=ref(d.get("parent")),
        is_inactive=_b(d.get("isInactive")),
        raw=d,
    )


@dataclass
class Segment:
    """classification (class), department or location."""

    id: str
    kind: str
    name: str
    parent: Ref | None
    subsidiaries: list[Ref]
    is_inactive: bool
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_segment(d: dict[str, Any], kind: str) -> Segment:
    sub = d.get("subsidiary")
    subs = refs(sub) if isinstance(sub, dict) and "items" in sub else [r for r in [ref(sub)] if r]
    return Segment(
        id=_s(d.get("id")),
        kind=kind,
        name=_s(d.get("name")),
        parent=ref(d.get("parent")),
        subsidiaries=subs,
        is_inactive=_b(d.get("isInactive")),
        raw=d,
    )


@dataclass
class Vendor:
    id: str
    external_id: str | None
    entity_id: str
    company_name: str
    email: str
    is_person: bool
    subsidiary: Ref | None  # primary subsidiary
    subsidiaries: list[Ref]  # OneWorld: every subsidiary the vendor may transact with
    currency: Ref | None
    currencies: list[Ref]
    is_inactive: bool
    last_modified: datetime | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


# The multi-subsidiary sublist's REST id is not in the reference; the sandbox calls it
# ``submachine`` (SuiteScript's id). Accept either name.
_VENDOR_SUBSIDIARY_SUBLISTS = ("submachine", "subsidiaries")


def parse_vendor(d: dict[str, Any]) -> Vendor:
    primary = ref(d.get("subsidiary"))
    subs: list[Ref] = []
    for name in _VENDOR_SUBSIDIARY_SUBLISTS:
        for line in items(d.get(name)):
            r = ref(line.get("subsidiary"))
            if r and r.id not in {s.id for s in subs}:
                subs.append(r)
    if primary and primary.id not in {s.id for s in subs}:
        subs.insert(0, primary)
    currencies = [
        r for r in (ref(line.get("currency")) for line in items(d.get("currencyList"))) if r
    ]
    return Vendor(
        id=_s(d.get("id")),
        external_id=d.get("externalId"),
        entity_id=_s(d.get("entityId")),
        company_name=_s(d.get("companyName")),
        email=_s(d.get("email")),
        is_person=_b(d.get("isPerson")),
        subsidiary=primary,
        subsidiaries=subs,
        currency=ref(d.get("currency")),
        currencies=currencies,
        is_inactive=_b(d.get("isInactive")),
        last_modified=parse_datetime(d.get("lastModifiedDate")),
        raw=d,
    )


@dataclass
class Customer:
    """A customer or a project (REST record ``job``): ``kind`` says which."""

    id: str
    kind: str
    external_id: str | None
    entity_id: str
    company_name: str
    parent: Ref | None
    subsidiary: Ref | None
    currency: Ref | None
    status: Ref | None
    is_inactive: bool
    last_modified: datetime | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_customer(d: dict[str, Any], kind: str = "customer") -> Customer:
    return Customer(
        id=_s(d.get("id")),
        kind=kind,
        external_id=d.get("externalId"),
        entity_id=_s(d.get("entityId")),
        company_name=_s(d.get("companyName")),
        parent=ref(d.get("parent")),
        subsidiary=ref(d.get("subsidiary")),
        currency=ref(d.get("currency")),
        status=ref(d.get("entityStatus")),
        is_inactive=_b(d.get("isInactive")),
        last_modified=parse_datetime(d.get("lastModifiedDate")),
        raw=d,
    )


@dataclass
class Item:
    id: str
    type: str  # REST record type: serviceResaleItem, nonInventoryPurchaseItem, ...
    item_id: str
    display_name: str
    expense_account: Ref | None
    income_account: Ref | None
    subsidiaries: list[Ref]
    is_inactive: bool
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_item(d: dict[str, Any], record_type: str = "") -> Item:
    return Item(
        id=_s(d.get("id")),
        type=record_type,
        item_id=_s(d.get("itemId")),
        display_name=_s(d.get("displayName")),
        expense_account=ref(d.get("expenseAccount")),
        income_account=ref(d.get("incomeAccount")),
        subsidiaries=refs(d.get("subsidiary")),
        is_inactive=_b(d.get("isInactive")),
        raw=d,
    )


# -- transactions -----------------------------------------------------------------------------


@dataclass
class Line:
    """An item or expense line (purchaseOrder, vendorBill, invoice)."""

    sublist: str  # "item" or "expense"
    line: int | None
    item: Ref | None
    account: Ref | None
    description: str
    quantity: Decimal | None
    rate: Decimal | None
    amount: Decimal | None
    memo: str
    department: Ref | None
    class_: Ref | None
    location: Ref | None
    customer: Ref | None
    order_doc: Ref | None
    order_line: int | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_line(d: dict[str, Any], sublist: str) -> Line:
    return Line(
        sublist=sublist,
        line=_i(d.get("line")),
        item=ref(d.get("item")),
        account=ref(d.get("account")),
        description=_s(d.get("description")),
        quantity=money(d.get("quantity")),
        rate=money(d.get("rate")),
        amount=money(d.get("amount")),
        memo=_s(d.get("memo")),
        department=ref(d.get("department")),
        class_=ref(d.get("class")),
        location=ref(d.get("location")),
        customer=ref(d.get("customer")),
        order_doc=ref(d.get("orderDoc")),
        order_line=_i(d.get("orderLine")),
        raw=d,
    )


@dataclass
class Transaction:
    """purchaseOrder, vendorBill, invoice: the body fields they share plus their lines."""

    type: str
    id: str
    external_id: str | None
    tran_id: str
    tran_date: date | None
    due_date: date | None
    entity: Ref | None
    subsidiary: Ref | None
    currency: Ref | None
    exchange_rate: Decimal | None
    memo: str
    status: Ref | None
    approval_status: Ref | None
    total: Decimal | None
    department: Ref | None
    class_: Ref | None
    location: Ref | None
    lines: list[Line]
    last_modified: datetime | None
    created: datetime | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def item_lines(self) -> list[Line]:
        return [line for line in self.lines if line.sublist == "item"]

    @property
    def expense_lines(self) -> list[Line]:
        return [line for line in self.lines if line.sublist == "expense"]


PurchaseOrder = VendorBill = Invoice = Transaction


def parse_transaction(d: dict[str, Any], record_type: str) -> Transaction:
    lines = [parse_line(x, "item") for x in items(d.get("item"))]
    lines += [parse_line(x, "expense") for x in items(d.get("expense"))]
    return Transaction(
        type=record_type,
        id=_s(d.get("id")),
        external_id=d.get("externalId"),
        tran_id=_s(d.get("tranId")),
        tran_date=parse_date(d.get("tranDate")),
        due_date=parse_date(d.get("dueDate")),
        entity=ref(d.get("entity")),
        subsidiary=ref(d.get("subsidiary")),
        currency=ref(d.get("currency")),
        exchange_rate=money(d.get("exchangeRate")),
        memo=_s(d.get("memo")),
        status=ref(d.get("status")),
        approval_status=ref(d.get("approvalStatus")),
        total=money(d.get("total") if d.get("total") is not None else d.get("userTotal")),
        department=ref(d.get("department")),
        class_=ref(d.get("class")),
        location=ref(d.get("location")),
        lines=lines,
        last_modified=parse_datetime(d.get("lastModifiedDate")),
        created=parse_datetime(d.get("createdDate")),
        raw=d,
    )


@dataclass
class Application:
    """One line of a payment's ``apply`` sublist: which bill/invoice, how much."""

    doc: Ref | None
    amount: Decimal | None
    apply: bool
    line: int | None


@dataclass
class Payment:
    """vendorPayment (payee = ``entity``) or customerPayment (payer = ``customer``)."""

    type: str
    id: str
    external_id: str | None
    tran_id: str
    tran_date: date | None
    entity: Ref | None
    account: Ref | None
    subsidiary: Ref | None
    currency: Ref | None
    exchange_rate: Decimal | None
    total: Decimal | None
    memo: str
    applications: list[Application]
    last_modified: datetime | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_payment(d: dict[str, Any], record_type: str) -> Payment:
    apps = [
        Application(
            doc=ref(x.get("doc")),
            amount=money(x.get("amount")),
            apply=_b(x.get("apply")),
            line=_i(x.get("line")),
        )
        for x in items(d.get("apply"))
    ]
    total = d.get("payment") if d.get("payment") is not None else d.get("total")
    return Payment(
        type=record_type,
        id=_s(d.get("id")),
        external_id=d.get("externalId"),
        tran_id=_s(d.get("tranId")),
        tran_date=parse_date(d.get("tranDate")),
        entity=ref(d.get("entity") or d.get("customer")),
        account=ref(d.get("account")),
        subsidiary=ref(d.get("subsidiary")),
        currency=ref(d.get("currency")),
        exchange_rate=money(d.get("exchangeRate")),
        total=money(total),
        memo=_s(d.get("memo")),
        applications=apps,
        last_modified=parse_datetime(d.get("lastModifiedDate")),
        raw=d,
    )


@dataclass
class JournalLine:
    line: int | None
    account: Ref | None
    debit: Decimal | None
    credit: Decimal | None
    memo: str
    entity: Ref | None
    department: Ref | None
    class_: Ref | None
    location: Ref | None


@dataclass
class JournalEntry:
    id: str
    external_id: str | None
    tran_id: str
    tran_date: date | None
    subsidiary: Ref | None
    currency: Ref | None
    exchange_rate: Decimal | None
    memo: str
    lines: list[JournalLine]
    last_modified: datetime | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def parse_journal_entry(d: dict[str, Any]) -> JournalEntry:
    lines = [
        JournalLine(
            line=_i(x.get("line")),
            account=ref(x.get("account")),
            debit=money(x.get("debit")),
            credit=money(x.get("credit")),
            memo=_s(x.get("memo")),
            entity=ref(x.get("entity")),
            department=ref(x.get("department")),
            class_=ref(x.get("class")),
            location=ref(x.get("location")),
        )
        for x in items(d.get("line"))
    ]
    return JournalEntry(
        id=_s(d.get("id")),
        external_id=d.get("externalId"),
        tran_id=_s(d.get("tranId")),
        tran_date=parse_date(d.get("tranDate")),
        subsidiary=ref(d.get("subsidiary")),
        currency=ref(d.get("currency")),
        exchange_rate=money(d.get("exchangeRate")),
        memo=_s(d.get("memo")),
        lines=lines,
        last_modified=parse_datetime(d.get("lastModifiedDate")),
        raw=d,
    )


# Record type → parser, for the client's typed reads. Keys are the REST record ids.
PARSERS: dict[str, Any] = {
    "subsidiary": parse_subsidiary,
    "currency": parse_currency,
    "account": parse_account,
    "vendor": parse_vendor,
    "customer": lambda d: parse_customer(d, "customer"),
    "job": lambda d: parse_customer(d, "job"),
    "classification": lambda d: parse_segment(d, "classification"),
    "department": lambda d: parse_segment(d, "department"),
    "location": lambda d: parse_segment(d, "location"),
    "serviceResaleItem": lambda d: parse_item(d, "serviceResaleItem"),
    "nonInventoryPurchaseItem": lambda d: parse_item(d, "nonInventoryPurchaseItem"),
    "purchaseOrder": lambda d: parse_transaction(d, "purchaseOrder"),
    "vendorBill": lambda d: parse_transaction(d, "vendorBill"),
    "invoice": lambda d: parse_transaction(d, "invoice"),
    "vendorPayment": lambda d: parse_payment(d, "vendorPayment"),
    "customerPayment": lambda d: parse_payment(d, "customerPayment"),
    "journalEntry": parse_journal_entry,
}


def parse_record(record_type: str, d: dict[str, Any]) -> Any:
    parser = PARSERS.get(record_type)
    if parser is None:
        lowered = {k.lower(): v for k, v in PARSERS.items()}
        parser = lowered.get(record_type.lower())
    if parser is None:
        raise KeyError(f"no typed parser for NetSuite record type {record_type!r}")
    return parser(d)
