"""The record types the sandbox knows: REST ids, fields, references, sublists and enums.

Field names follow the [OAS] inventories of netsuite-api.md §5.3 where they exist; the others
(purchaseOrder, journalEntry, payments, job, classification, ...) follow the Oracle samples of
§5.4. Internal ids come from shared id spaces like the real account: every transaction type
draws from one sequence (SuiteQL's ``transaction`` table has one ``id`` column), entities
(vendor/customer/job) from another, items from a third.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MONEY_FIELDS = frozenset(
    {
        "amount",
        "rate",
        "debit",
        "credit",
        "payment",
        "exchangeRate",
        "creditLimit",
        "cost",
        "quantity",
        "userTotal",
        "basePrice",
    }
)
INT_FIELDS = frozenset({"orderLine", "line", "currencyPrecision"})
DATE_FIELDS = frozenset({"tranDate", "dueDate", "startDate", "projectedEndDate", "endDate"})
BOOL_FIELDS = frozenset(
    {
        "isInactive",
        "isPerson",
        "isBaseCurrency",
        "includeChildren",
        "isBillable",
        "apply",
        "isPrimary",
        "isElimination",
        "isSummary",
        "toBeEmailed",
    }
)
READ_ONLY = frozenset(
    {
        "id",
        "links",
        "refName",
        "lastModifiedDate",
        "createdDate",
        "dateCreated",
        "total",
        "balance",
        "status",
        "amountPaid",
        "amountRemaining",
    }
)

# Reference targets that span several record types.
GROUPS: dict[str, tuple[str, ...]] = {
    "item": ("serviceResaleItem", "nonInventoryPurchaseItem"),
    "entity": ("vendor", "customer", "job"),
    "customerjob": ("customer", "job"),
}

# Enum values: [OAS] gives the ids (vendorBill.status A-F, approvalStatus 1/2/3/11, invoice
# status A/B/D/E/V); the labels are NetSuite's UI labels (not in the spec - decision).
APPROVAL = {"1": "Pending Approval", "2": "Approved", "3": "Rejected", "11": "Open"}
PO_STATUS = {
    "A": "Pending Supervisor Approval",
    "B": "Pending Receipt",
    "C": "Rejected by Supervisor",
    "F": "Pending Bill",
    "G": "Fully Billed",
    "H": "Closed",
}
BILL_STATUS = {
    "A": "Open",
    "B": "Paid In Full",
    "C": "Cancelled",
    "D": "Pending Approval",
    "E": "Rejected",
}
INVOICE_STATUS = {
    "A": "Open",
    "B": "Paid In Full",
    "D": "Pending Approval",
    "E": "Rejected",
    "V": "Voided",
}
ACCT_TYPES = (
    "Bank",
    "AcctRec",
    "OthCurrAsset",
    "FixedAsset",
    "OthAsset",
    "AcctPay",
    "CredCard",
    "OthCurrLiab",
    "LongTermLiab",
    "Equity",
    "Income",
    "COGS",
    "Expense",
    "OthIncome",
    "OthExpense",
    "DeferExpense",
    "DeferRevenue",
    "UnbilledRec",
    "NonPosting",
    "Stat",
)


@dataclass
class SublistDef:
    name: str
    key: str  # the sublist key (x-ns-sublistkey): "line" for item/expense/line, "doc", ...
    refs: dict[str, str] = field(default_factory=dict)  # field -> target type or group
    fields: frozenset[str] = frozenset()


@dataclass
class RecordType:
    name: str  # canonical REST record id
    space: str  # internal id sequence
    refs: dict[str, str] = field(default_factory=dict)
    multi_refs: dict[str, str] = field(default_factory=dict)  # multi-select {"items": [...]}
    fields: frozenset[str] = frozenset()
    sublists: dict[str, SublistDef] = field(default_factory=dict)
    enums: dict[str, dict[str, str]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    tran_type: str | None = None  # SuiteQL transaction.type code
    label: str = ""  # UI name, used in refName ("Bill #INV-1") and messages
    is_transaction: bool = False

    def all_fields(self) -> set[str]:
        return (
            set(self.refs)
            | set(self.multi_refs)
            | set(self.fields)
            | set(self.sublists)
            | set(self.enums)
            | {"externalId"}
        )


_SEG = {"department": "department", "class": "classification", "location": "location"}
_TRAN_LINE = frozenset(
    {"description", "quantity", "rate", "amount", "memo", "isBillable", "orderLine", "line"}
)


def _lines(name: str, extra_refs: dict[str, str], extra: set[str] | None = None) -> SublistDef:
    refs = dict(_SEG, customer="customerjob", **extra_refs)
    return SublistDef(name, "line", refs, _TRAN_LINE | frozenset(extra or ()))


def _tran(name: str, tran_type: str, label: str, **kw: object) -> RecordType:
    base = {
        "fields": frozenset(
            {"tranId", "tranDate", "dueDate", "memo", "exchangeRate", "otherRefNum"}
        )
    }
    base.update(kw)  # type: ignore[arg-type]
    rec = RecordType(
        name=name,
        space="transaction",
        tran_type=tran_type,
        label=label,
        is_transaction=True,
        **base,
    )  # type: ignore[arg-type]
    rec.fields = rec.fields | frozenset({"tranId", "tranDate", "dueDate", "memo", "exchangeRate"})
    return rec


RECORD_TYPES: dict[str, RecordType] = {}


def _add(rec: RecordType) -> None:
    RECORD_TYPES[rec.name] = rec


_add(
    RecordType(
        "subsidiary",
        "subsidiary",
        refs={"currency": "currency", "parent": "subsidiary"},
        fields=frozenset({"name", "legalName", "country", "isInactive", "isElimination"}),
        required=("name", "currency"),
        label="Subsidiary",
    )
)
_add(
    RecordType(
        "currency",
        "currency",
        fields=frozenset(
            {
                "name",
                "symbol",
                "isBaseCurrency",
                "isInactive",
                "exchangeRate",
                "currencyPrecision",
                "displaySymbol",
            }
        ),
        required=("name", "symbol"),
        label="Currency",
    )
)
_add(
    RecordType(
        "account",
        "account",
        refs={"currency": "currency", "parent": "account"},
        multi_refs={"subsidiary": "subsidiary"},
        fields=frozenset(
            {"acctNumber", "acctName", "description", "isInactive", "isSummary", "includeChildren"}
        ),
        enums={"acctType": {t: t for t in ACCT_TYPES}},
        required=("acctName", "acctType"),
        label="Account",
    )
)
for _seg, _label in (("classification", "Class"), ("department", "Department")):
    _add(
        RecordType(
            _seg,
            _seg,
            refs={"parent": _seg},
            multi_refs={"subsidiary": "subsidiary"},
            fields=frozenset({"name", "isInactive", "includeChildren"}),
            required=("name",),
            label=_label,
        )
    )
_add(
    RecordType(
        "location",
        "location",
        refs={"parent": "location", "subsidiary": "subsidiary"},
        fields=frozenset({"name", "isInactive"}),
        required=("name",),
        label="Location",
    )
)

_ENTITY = frozenset(
    {
        "entityId",
        "companyName",
        "isPerson",
        "firstName",
        "lastName",
        "email",
        "phone",
        "isInactive",
        "creditLimit",
        "accountNumber",
    }
)
_add(
    RecordType(
        "vendor",
        "entity",
        refs={
            "subsidiary": "subsidiary",
            "currency": "currency",
            "payablesAccount": "account",
            "expenseAccount": "account",
            "representingSubsidiary": "subsidiary",
        },
        fields=_ENTITY | {"legalName", "printOnCheckAs", "taxIdNum"},
        # OneWorld multi-subsidiary vendors: the "Subsidiaries" sublist, internal id ``submachine``
        # (SuiteScript id of vendor.subsidiaries; not in [OAS] - decision), keyed by subsidiary.
        sublists={
            "submachine": SublistDef(
                "submachine", "subsidiary", {"subsidiary": "subsidiary"}, frozenset({"isPrimary"})
            ),
            "currencyList": SublistDef("currencyList", "currency", {"currency": "currency"}),
        },
        required=("subsidiary",),
        label="Vendor",
    )
)
_add(
    RecordType(
        "customer",
        "entity",
        refs={
            "subsidiary": "subsidiary",
            "currency": "currency",
            "parent": "customer",
            "receivablesAccount": "account",
        },
        fields=_ENTITY,
        required=("subsidiary",),
        label="Customer",
    )
)
# Project = REST record id ``job`` ([ORA:article_83090456314]); ``customer`` is unsupported on
# it, so the owner is linked through ``parent`` (decision).
_add(
    RecordType(
        "job",
        "entity",
        refs={"subsidiary": "subsidiary", "parent": "customer", "currency": "currency"},
        fields=frozenset(
            {
                "entityId",
                "companyName",
                "isInactive",
                "startDate",
                "projectedEndDate",
                "projectExpenseType",
                "accountNumber",
            }
        ),
        enums={"entityStatus": {"2": "In Progress", "1": "Closed", "4": "Awarded"}},
        required=("subsidiary", "entityId"),
        label="Project",
    )
)
_ITEM = frozenset(
    {
        "itemId",
        "displayName",
        "description",
        "purchaseDescription",
        "salesDescription",
        "isInactive",
        "cost",
        "basePrice",
        "includeChildren",
    }
)
_add(
    RecordType(
        "serviceResaleItem",
        "item",
        refs={"expenseAccount": "account", "incomeAccount": "account", **_SEG},
        multi_refs={"subsidiary": "subsidiary"},
        fields=_ITEM,
        required=("itemId",),
        label="Service for Resale",
    )
)
_add(
    RecordType(
        "nonInventoryPurchaseItem",
        "item",
        refs={"expenseAccount": "account", **_SEG},
        multi_refs={"subsidiary": "subsidiary"},
        fields=_ITEM,
        required=("itemId",),
        label="Non-inventory Item for Purchase",
    )
)

_TRAN_REFS = {"subsidiary": "subsidiary", "currency": "currency", **_SEG}
_add(
    _tran(
        "purchaseOrder",
        "PurchOrd",
        "Purchase Order",
        refs={"entity": "vendor", **_TRAN_REFS},
        enums={"approvalStatus": APPROVAL, "status": PO_STATUS},
        sublists={
            "item": _lines("item", {"item": "item"}),
            "expense": _lines("expense", {"account": "account"}),
        },
        required=("entity",),
    )
)
_add(
    _tran(
        "vendorBill",
        "VendBill",
        "Bill",
        refs={"entity": "vendor", "account": "account", **_TRAN_REFS},
        enums={"approvalStatus": APPROVAL, "status": BILL_STATUS},
        sublists={
            "item": _lines("item", {"item": "item", "orderDoc": "purchaseOrder"}),
            "expense": _lines("expense", {"account": "account", "orderDoc": "purchaseOrder"}),
        },
        required=("entity",),
    )
)
_add(
    _tran(
        "invoice",
        "CustInvc",
        "Invoice",
        refs={"entity": "customerjob", "account": "account", "job": "job", **_TRAN_REFS},
        enums={"approvalStatus": APPROVAL, "status": INVOICE_STATUS},
        sublists={"item": _lines("item", {"item": "item", "account": "account"})},
        required=("entity",),
    )
)
_APPLY = frozenset({"apply", "amount", "line"})
_add(
    _tran(
        "customerPayment",
        "CustPymt",
        "Payment",
        refs={"customer": "customerjob", "account": "account", **_TRAN_REFS},
        fields=frozenset({"payment", "toBeEmailed"}),
        sublists={"apply": SublistDef("apply", "doc", {"doc": "invoice"}, _APPLY)},
        required=("customer",),
    )
)
_add(
    _tran(
        "vendorPayment",
        "VendPymt",
        "Bill Payment",
        refs={"entity": "vendor", "account": "account", **_TRAN_REFS},
        sublists={"apply": SublistDef("apply", "doc", {"doc": "vendorBill"}, _APPLY)},
        required=("entity",),
    )
)
_add(
    _tran(
        "journalEntry",
        "Journal",
        "Journal",
        refs=dict(_TRAN_REFS),
        sublists={
            "line": SublistDef(
                "line",
                "line",
                {"account": "account", "entity": "entity", **_SEG},
                frozenset({"debit", "credit", "memo", "line"}),
            )
        },
        required=("subsidiary",),
    )
)

# Lower-case lookups: REST record ids are case-insensitive in paths (Oracle samples use both
# ``vendorbill`` and ``vendorBill``, reference §5.1); field names likewise (``entityid``).
BY_LOWER = {name.lower(): rec for name, rec in RECORD_TYPES.items()}
FIELD_LOWER: dict[str, dict[str, str]] = {
    name: {f.lower(): f for f in rec.all_fields() | READ_ONLY} for name, rec in RECORD_TYPES.items()
}
SPACES = sorted({rec.space for rec in RECORD_TYPES.values()})


def types_for(target: str) -> tuple[str, ...]:
    """The record types a reference target can point at."""
    return GROUPS.get(target, (target,))


def transaction_types() -> list[RecordType]:
    return [rec for rec in RECORD_TYPES.values() if rec.is_transaction]
