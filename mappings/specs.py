"""What each mapping table looks like as a file row: its columns, its key, its references.

One description per table, shared by the upload (parse + validate), the export, the
templates, the admin's validation and the history (which stores rows in this same text form,
so "before/after" reads like the file an admin uploads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from mappings.models import (
    AccountRole,
    AccountRoleMapping,
    CostCodeMapping,
    CurrencyMapping,
    ProjectMapping,
    VendorMapping,
)

LIST_SEPARATOR = "|"  # inside one cell (vendor subsidiaries); safe with ',' and ';' files


@dataclass(frozen=True)
class Ref:
    """A column that must name a record in the reference cache."""

    side: str  # "erp" or "procore"
    kinds: tuple[str, ...]  # reference kinds that may match (customer or job...)
    by: str = "remote_id"  # "remote_id" or "code"
    # Only for these ERP kinds of connection (subsidiaries exist in NetSuite only).
    erp_kinds: tuple[str, ...] = ("netsuite", "quickbooks")


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    required: bool = False
    kind: str = "text"  # text | id | date | list | currency | role
    ref: Ref | None = None
    max_length: int = 40
    help: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    label: str
    model: type
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    reason_code: str
    # Columns of which at least one must be filled.
    one_of: tuple[str, ...] = ()
    help: str = ""
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))
        getter = itemgetter(*self.key)
        if len(self.key) == 1:
            object.__setattr__(self, "_key_getter", lambda row: (getter(row),))
        else:
            object.__setattr__(self, "_key_getter", getter)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    # Rows as text, the single representation of files, history and comparisons.

    def row_of(self, obj: Any) -> dict[str, str]:
        return {c.name: to_text(c, getattr(obj, c.name)) for c in self.columns}

    def key_of(self, row: dict[str, str]) -> tuple[str, ...]:
        return self._key_getter(row)

    def model_values(self, row: dict[str, str]) -> dict[str, Any]:
        return {c.name: from_text(c, row.get(c.name, "")) for c in self.columns}


def to_text(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "list":
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def from_text(column: Column, text: str) -> Any:
    """Text already validated by `mappings.validation` to the model value."""
    if column.kind == "date":
        return date.fromisoformat(text) if text else None
    if column.kind == "list":
        return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
    if column.kind == "currency":
        return text.upper()
    return text


NETSUITE_ONLY = ("netsuite",)
SUBSIDIARY = Column(
    "subsidiary_id",
    "Subsidiary",
    kind="id",
    ref=Ref("erp", ("subsidiary",), erp_kinds=NETSUITE_ONLY),
    help="NetSuite subsidiary internal id; blank = all subsidiaries.",
)
EFFECTIVE_FROM = Column(
    "effective_from",
    "Effective from",
    kind="date",
    help="First day the row applies, YYYY-MM-DD; blank = always.",
)
CLASS = Column("class_id", "Class", kind="id", ref=Ref("erp", ("class",)))

PROJECT = TableSpec(
    name="project",
    label="Projects",
    model=ProjectMapping,
    reason_code="UNMAPPED_PROJECT",
    key=("procore_project_id",),
    help="Procore project → ERP customer/job, subsidiary, currency and default segments.",
    columns=(
        Column(
            "procore_project_id",
            "Procore project",
            required=True,
            kind="id",
            ref=Ref("procore", ("project",)),
        ),
        Column(
            "erp_customer_id",
            "ERP customer",
            required=True,
            kind="id",
            ref=Ref("erp", ("customer",)),
        ),
        Column("erp_job_id", "ERP job", kind="id", ref=Ref("erp", ("job", "customer"))),
        SUBSIDIARY,
        Column(
            "currency",
            "Currency",
            required=True,
            kind="currency",
            max_length=3,
            help="ISO 4217 code such as USD.",
        ),
        CLASS,
        Column("department_id", "Department", kind="id", ref=Ref("erp", ("department",))),
        Column("location_id", "Location", kind="id", ref=Ref("erp", ("location",))),
    ),
)

COST_CODE = TableSpec(
    name="cost_code",
    label="Cost codes",
    model=CostCodeMapping,
    reason_code="UNMAPPED_COST_CODE",
    key=("cost_code", "cost_type", "subsidiary_id", "procore_project_id", "effective_from"),
    one_of=("item_id", "account_id"),
    help="Procore cost code (and optionally cost type) → ERP item and/or account and class.",
    columns=(
        Column(
            "cost_code",
            "Cost code",
            required=True,
            max_length=60,
            ref=Ref("procore", ("cost_code",), by="code"),
        ),
        Column(
            "cost_type",
            "Cost type",
            max_length=20,
            ref=Ref("procore", ("cost_type",), by="code"),
            help="Blank = any cost type.",
        ),
        SUBSIDIARY,
        Column(
            "procore_project_id",
            "Project override",
            kind="id",
            ref=Ref("procore", ("project",)),
            help="Procore project id for a project-level override; blank = company-wide.",
        ),
        EFFECTIVE_FROM,
        Column("item_id", "ERP item", kind="id", ref=Ref("erp", ("item",))),
        Column("account_id", "ERP account", kind="id", ref=Ref("erp", ("account",))),
        CLASS,
    ),
)

VENDOR = TableSpec(
    name="vendor",
    label="Vendors",
    model=VendorMapping,
    reason_code="UNKNOWN_VENDOR",
    key=("procore_vendor_id",),
    help="Procore vendor ↔ ERP vendor, with the NetSuite subsidiaries it is assigned to.",
    columns=(
        Column(
            "procore_vendor_id",
            "Procore vendor",
            required=True,
            kind="id",
            ref=Ref("procore", ("vendor",)),
        ),
        Column(
            "erp_vendor_id", "ERP vendor", required=True, kind="id", ref=Ref("erp", ("vendor",))
        ),
        Column(
            "subsidiary_ids",
            "Subsidiaries",
            kind="list",
            max_length=400,
            ref=Ref("erp", ("subsidiary",), erp_kinds=NETSUITE_ONLY),
            help="NetSuite subsidiary ids separated by '|', e.g. 1|3.",
        ),
    ),
)

ACCOUNT_ROLE = TableSpec(
    name="account_role",
    label="Account roles",
    model=AccountRoleMapping,
    reason_code="UNMAPPED_ACCOUNT",
    key=("role", "subsidiary_id", "effective_from"),
    help="Accounts payable/receivable, retention and suspense accounts per subsidiary.",
    columns=(
        Column(
            "role",
            "Role",
            required=True,
            kind="role",
            help="One of: " + ", ".join(AccountRole.values),
        ),
        SUBSIDIARY,
        EFFECTIVE_FROM,
        Column("account_id", "ERP account", required=True, kind="id", ref=Ref("erp", ("account",))),
    ),
)

CURRENCY = TableSpec(
    name="currency",
    label="Currencies",
    model=CurrencyMapping,
    reason_code="UNMAPPED_CURRENCY",
    key=("currency",),
    help="ISO currency code → the ERP's currency record.",
    columns=(
        Column("currency", "Currency", required=True, kind="currency", max_length=3),
        Column(
            "erp_currency_id",
            "ERP currency",
            required=True,
            kind="id",
            ref=Ref("erp", ("currency",)),
        ),
    ),
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec for spec in (PROJECT, COST_CODE, VENDOR, ACCOUNT_ROLE, CURRENCY)
}
TABLE_OF_MODEL = {spec.model: spec for spec in TABLES.values()}
