"""Entity specs and the defaults QBO fills in on write (quickbooks-api.md §1.3, §4).

Name-list entities (Customer, Vendor, Class, Item, Account, Department, Term) cannot be deleted,
only deactivated with ``Active: false`` (§1.3, [PQ] gives DeleteMixin to transactions only).
Transactions can be deleted; Invoice, Payment and BillPayment can also be voided (§1.3 table).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import QBOError, required

ZERO = Decimal("0")
USD = {"value": "USD", "name": "United States Dollar"}


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str  # "name" (list entity), "txn", "company"
    required: tuple[str, ...] = ()
    name_field: str | None = None  # unique name (6240)
    voidable: bool = False
    docnumber: bool = False


SPECS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec("CompanyInfo", "company"),
        Spec("Customer", "name", ("DisplayName",), "DisplayName"),
        Spec("Vendor", "name", ("DisplayName",), "DisplayName"),
        Spec("Class", "name", ("Name",), "Name"),
        Spec("Item", "name", ("Name",), "Name"),
        Spec("Account", "name", ("Name",), "Name"),
        Spec("Department", "name", ("Name",), "Name"),
        Spec("Term", "name", ("Name",), "Name"),
        Spec("PurchaseOrder", "txn", ("VendorRef", "APAccountRef", "Line"), docnumber=True),
        Spec("Bill", "txn", ("VendorRef", "Line"), docnumber=True),
        Spec("Invoice", "txn", ("CustomerRef", "Line"), voidable=True, docnumber=True),
        Spec("Payment", "txn", ("CustomerRef", "TotalAmt"), voidable=True),
        Spec("BillPayment", "txn", ("VendorRef", "TotalAmt", "PayType", "Line"), voidable=True),
        Spec("JournalEntry", "txn", ("Line",), docnumber=True),
    )
}
# URIs are lower-case entity names and case sensitive (§1.1).
BY_PATH = {name.lower(): name for name in SPECS}
# Lower-case lookup for the query language and CDC, which are case-insensitive (§1.5, §1.7).
BY_LOWER = BY_PATH

# DisplayName is unique across Customer + Vendor (+ Employee) (§3.3 notes).
NAME_SCOPES = {"Customer": ("Customer", "Vendor"), "Vendor": ("Customer", "Vendor")}

# Which reference fields point where (validated → 2500, and their ``name`` filled on read).
REF_TARGETS = {
    "VendorRef": "Vendor",
    "CustomerRef": "Customer",
    "ClassRef": "Class",
    "ItemRef": "Item",
    "DepartmentRef": "Department",
    "SalesTermRef": "Term",
    "TermRef": "Term",
    "AccountRef": "Account",
    "APAccountRef": "Account",
    "ARAccountRef": "Account",
    "DepositToAccountRef": "Account",
    "IncomeAccountRef": "Account",
    "ExpenseAccountRef": "Account",
    "AssetAccountRef": "Account",
    "BankAccountRef": "Account",
    "CCAccountRef": "Account",
}

READ_ONLY = (
    "Id",
    "SyncToken",
    "MetaData",
    "domain",
    "sparse",
    "FullyQualifiedName",
    "Level",
    "Balance",
    "BalanceWithJobs",
    "HomeBalance",
    "CurrentBalance",
    "CurrentBalanceWithSubAccounts",
    "status",
)
COMPUTED_TOTAL = ("PurchaseOrder", "Bill", "Invoice", "JournalEntry")

ACCOUNT_CLASSIFICATION = {
    "Bank": ("Asset", "Checking"),
    "Accounts Receivable": ("Asset", "AccountsReceivable"),
    "Other Current Asset": ("Asset", "OtherCurrentAssets"),
    "Fixed Asset": ("Asset", "OtherFixedAssets"),
    "Other Asset": ("Asset", "OtherLongTermAssets"),
    "Accounts Payable": ("Liability", "AccountsPayable"),
    "Credit Card": ("Liability", "CreditCard"),
    "Other Current Liability": ("Liability", "OtherCurrentLiabilities"),
    "Long Term Liability": ("Liability", "OtherLongTermLiabilities"),
    "Equity": ("Equity", "OpeningBalanceEquity"),
    "Income": ("Revenue", "ServiceFeeIncome"),
    "Other Income": ("Revenue", "OtherMiscellaneousIncome"),
    "Cost of Goods Sold": ("Expense", "SuppliesMaterialsCogs"),
    "Expense": ("Expense", "OtherMiscellaneousServiceCost"),
    "Other Expense": ("Expense", "OtherMiscellaneousExpense"),
}
PAYABLE_LINK_TYPE = "BillPaymentCheck"  # §4.8: the Bill's reverse link, even for card payments


def money(value: Any, element: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise QBOError("2010", f"Invalid amount for {element}: {value!r}", element)
    try:
        return Decimal(str(value))
    except ArithmeticError as exc:
        raise QBOError("2010", f"Invalid amount for {element}: {value!r}", element) from exc


def check_required(spec: Spec, rec: dict[str, Any]) -> None:
    for field in spec.required:
        value = rec.get(field)
        if value in (None, "", []) or (field.endswith("Ref") and not _ref_value(value)):
            raise required(field, spec.name)


def _ref_value(ref: Any) -> str:
    return str(ref.get("value", "")) if isinstance(ref, dict) else ""


def strip_read_only(spec: Spec, body: dict[str, Any]) -> dict[str, Any]:
    rec = {k: v for k, v in body.items() if k not in READ_ONLY}
    if spec.name in COMPUTED_TOTAL:
        rec.pop("TotalAmt", None)
    return rec


def name_defaults(spec: Spec, rec: dict[str, Any], parent: dict[str, Any] | None) -> None:
    """Defaults for list entities; ``parent`` is the ParentRef target (sub-customer, sub-class)."""
    rec.setdefault("Active", True)
    name = rec.get(spec.name_field or "Name", "")
    fqn = f"{parent['FullyQualifiedName']}:{name}" if parent else name
    rec["FullyQualifiedName"] = fqn
    kind = spec.name
    if kind in ("Customer", "Vendor"):
        rec.setdefault("PrintOnCheckName", name)
        rec.setdefault("CurrencyRef", dict(USD))
        rec.setdefault("Balance", ZERO)
    if kind == "Customer":
        rec.setdefault("Taxable", True)
        rec.setdefault("Job", parent is not None)
        rec.setdefault("BillWithParent", False)
        rec.setdefault("BalanceWithJobs", rec.get("Balance", ZERO))
        rec.setdefault("PreferredDeliveryMethod", "Print")
        rec["Level"] = (parent.get("Level", 0) + 1) if parent else 0
        if parent is None:
            rec.pop("Level")
    elif kind == "Vendor":
        rec.setdefault("Vendor1099", False)
    elif kind == "Class":
        rec["SubClass"] = parent is not None
    elif kind == "Department":
        rec["SubDepartment"] = parent is not None
    elif kind == "Account":
        rec["SubAccount"] = parent is not None
        atype = rec.get("AccountType")
        if atype is None:
            raise required("AccountType", "Account")
        if atype not in ACCOUNT_CLASSIFICATION:
            raise QBOError(
                "2170",
                f"Invalid Enumeration : {atype}",
                "AccountType",
                message="Invalid Enumeration",
            )
        classification, subtype = ACCOUNT_CLASSIFICATION[atype]
        rec["Classification"] = classification
        rec.setdefault("AccountSubType", subtype)
        rec.setdefault("CurrentBalance", ZERO)
        rec.setdefault("CurrentBalanceWithSubAccounts", ZERO)
        rec.setdefault("CurrencyRef", dict(USD))
    elif kind == "Item":
        rec.setdefault("Type", "Service")
        if rec["Type"] != "Category" and not (
            rec.get("IncomeAccountRef") or rec.get("ExpenseAccountRef")
        ):
            # [DOC] item.md: a Service item needs IncomeAccountRef, a purchasing item an
            # ExpenseAccountRef; the sandbox accepts either one.
            raise required("IncomeAccountRef", "Item")
        rec.setdefault("Taxable", False)
    elif kind == "Term":
        rec.setdefault("Type", "STANDARD")
        rec.setdefault("DueDays", 0)


def number_lines(lines: list[dict[str, Any]], element: str = "Line") -> Decimal:
    """Give lines Id/LineNum, check DetailType/Amount; return the sum of amounts."""
    total = ZERO
    for n, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            raise QBOError("2010", "Line must be an object", element)
        if line.get("DetailType") == "SubTotalLineDetail":
            continue
        if "Amount" not in line:
            raise required("Line.Amount")
        line["Amount"] = money(line["Amount"], "Line.Amount")
        line.setdefault("Id", str(n))
        line["LineNum"] = n
        total += line["Amount"]
    return total


def detail_of(line: dict[str, Any]) -> dict[str, Any]:
    dtype = line.get("DetailType")
    if not dtype:
        raise required("Line.DetailType")
    detail = line.get(dtype)
    if not isinstance(detail, dict):
        raise required(f"Line.{dtype}")
    return detail


def expense_lines(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        dtype = line.get("DetailType")
        detail = detail_of(line)
        if dtype == "AccountBasedExpenseLineDetail":
            if not _ref_value(detail.get("AccountRef")):
                raise required("AccountRef")
        elif dtype == "ItemBasedExpenseLineDetail":
            if not _ref_value(detail.get("ItemRef")):
                raise required("ItemRef")
        else:
            raise QBOError(
                "2010", f"Invalid DetailType for this transaction: {dtype}", "DetailType"
            )
        detail.setdefault("BillableStatus", "NotBillable")
        detail.setdefault("TaxCodeRef", {"value": "NON"})


def sales_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [ln for ln in lines if ln.get("DetailType") != "SubTotalLineDetail"]
    for line in out:
        dtype = line.get("DetailType")
        if dtype not in ("SalesItemLineDetail", "DescriptionOnly", "GroupLineDetail"):
            raise QBOError(
                "2010", f"Invalid DetailType for this transaction: {dtype}", "DetailType"
            )
        if dtype == "SalesItemLineDetail":
            detail = detail_of(line)
            if not _ref_value(detail.get("ItemRef")):
                raise required("ItemRef")
            detail.setdefault("TaxCodeRef", {"value": "NON"})
    return out


def journal_lines(lines: list[dict[str, Any]]) -> Decimal:
    debit = credit = ZERO
    for line in lines:
        if line.get("DetailType") != "JournalEntryLineDetail":
            raise required("JournalEntryLineDetail")
        detail = detail_of(line)
        if not _ref_value(detail.get("AccountRef")):
            raise required("AccountRef")
        posting = detail.get("PostingType")
        if posting == "Debit":
            debit += line["Amount"]
        elif posting == "Credit":
            credit += line["Amount"]
        else:
            raise required("PostingType")
    if debit != credit:
        raise QBOError(
            "6000",
            "Business Validation Error: Transaction is not balanced. The debits and credits on "
            f"this transaction must be equal (debits {debit}, credits {credit}).",
        )
    return debit


def walk_refs(obj: Any, path: str = ""):
    """Yield (element, ref_dict) for every known reference anywhere in a record."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in REF_TARGETS and isinstance(value, dict):
                yield key, value
            elif isinstance(value, (dict, list)):
                yield from walk_refs(value, key)
    elif isinstance(obj, list):
        for item in obj:
            yield from walk_refs(item, path)
