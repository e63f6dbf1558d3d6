"""The neutral description of one construction company, before it is loaded into any sandbox.

The generator (``generate.py``) fills these dataclasses deterministically from a seed and a
size; each sandbox has a loader (``sandboxes/<system>/seed.py``: ``load(sandbox, company)``)
that writes the part of the world that system holds, in that system's own record shapes.

Which system holds what:

* Procore holds the company, its projects, cost codes/types, the vendor directory (vendors with
  ``in_procore``), commitments with lines, change orders, requisitions (pay apps), prime contracts
  with payment applications (owner invoices) and direct costs.
* Each ERP holds the reference data (subsidiaries and currencies for NetSuite, accounts, items per
  cost code, classes, departments, locations, customers for the owners, vendors with
  ``in_netsuite`` / ``in_quickbooks``) and the documents of projects that use that ERP whose
  ``in_erp`` is true (entered earlier, by hand or by a previous integration: no external id), with
  their payments.

Money is ``Decimal``; every ``key`` is a stable string unique within its kind and is what loaders
use to link records (ids are assigned by each sandbox).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass
class Subsidiary:
    key: str  # "us", "ca"
    name: str  # "Summit Builders US Inc."
    country: str  # "US", "CA"
    currency: str  # "USD", "CAD"


@dataclass
class CostCode:
    code: str  # CSI MasterFormat, "03-300"
    name: str  # "Cast-in-Place Concrete"
    division: str  # "03"
    division_name: str  # "Concrete"


@dataclass
class CostType:
    code: str  # "L", "M", "S", "E", "O"
    name: str  # "Labor", "Materials", "Subcontract", "Equipment", "Other"


@dataclass
class Account:
    key: str  # "ap", "ar", "retention_payable", "retention_receivable", "cost_subcontract", ...
    number: str  # "2000"
    name: str  # "Accounts Payable"
    type: str  # "AccountsPayable", "AccountsReceivable", "OtherCurrentLiability", "Expense", ...


@dataclass
class Vendor:
    key: str
    name: str  # Procore's name
    erp_name: str  # the ERP's name (differs for planted near-duplicates: "Star Framing, LLC")
    trade: str  # "Framing"
    email: str
    phone: str
    tax_id: str
    address: str
    city: str
    state: str
    zip: str
    country: str
    in_procore: bool = True
    in_netsuite: bool = True
    in_quickbooks: bool = True
    subsidiaries: list[str] = field(default_factory=list)  # NetSuite assignment (subsidiary keys)


@dataclass
class Customer:
    """The project owner (bills go to them); one per project or shared."""

    key: str
    name: str
    email: str
    subsidiary: str


@dataclass
class Project:
    key: str
    number: str  # "24-101"
    name: str
    erp: str  # "netsuite" or "quickbooks": the books this project lives in
    subsidiary: str  # subsidiary key (QuickBooks projects use "us")
    currency: str
    customer: str  # Customer key (the owner)
    status: str  # "Active", "Closed"
    start_date: date
    address: str
    city: str
    state: str
    zip: str
    country: str
    project_manager: str  # a person's name, also a demo PM login hint
    cost_codes: list[str] = field(default_factory=list)  # codes used on this project


@dataclass
class Line:
    cost_code: str
    cost_type: str
    description: str
    amount: Decimal
    quantity: Decimal = Decimal("1")
    unit_cost: Decimal | None = None  # amount / quantity when None
    uom: str = "LS"


@dataclass
class Commitment:
    key: str
    project: str
    vendor: str
    kind: str  # "subcontract" (Procore work order contract) or "purchase_order"
    number: str  # "SC-24101-003" / "PO-24101-007"
    title: str
    status: str  # "Draft", "Approved", "Complete", "Terminated", "Void"
    executed: bool
    retainage_percent: Decimal
    contract_date: date
    lines: list[Line]
    in_erp: bool = False  # its ERP PO exists already
    erp_approved: bool = False  # the ERP PO is approved (NetSuite approvalstatus / QBO: no gate)
    erp_edited_by_hand: bool = False  # planted: the ERP copy differs from Procore
    erp_edit: dict[str, str] = field(default_factory=dict)  # what the hand edit changed
    deleted: bool = False

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


@dataclass
class ChangeOrder:
    key: str
    commitment: str
    number: str  # "001"
    title: str
    status: str  # "approved", "pending", "draft", "void"
    approved_on: date | None
    lines: list[Line]
    after_erp_approval: bool = False  # planted: approved after the ERP PO was approved

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


@dataclass
class RequisitionLine:
    commitment_line_index: int  # index into Commitment.lines
    work_completed_this_period: Decimal
    materials_stored: Decimal
    retainage_percent: Decimal

    @property
    def retainage(self) -> Decimal:
        total = self.work_completed_this_period + self.materials_stored
        return (total * self.retainage_percent / Decimal("100")).quantize(Decimal("0.01"))


@dataclass
class Requisition:
    """A subcontractor pay app (Procore requisition) against one commitment."""

    key: str
    commitment: str
    number: int  # 1, 2, 3 per commitment
    invoice_number: str  # the sub's own number, "INV-3391"
    period_start: date
    period_end: date
    status: str  # "draft", "under_review", "approved", "paid"
    lines: list[RequisitionLine]
    is_retainage_release: bool = False
    retainage_released: Decimal = Decimal("0")
    in_erp: bool = False  # the ERP bill exists already
    paid_in_erp: bool = False  # ... and the ERP shows it paid
    paid_on: date | None = None
    exceeds_commitment: bool = False  # planted: bills more than the remaining balance

    @property
    def gross(self) -> Decimal:
        return sum(
            (ln.work_completed_this_period + ln.materials_stored for ln in self.lines), Decimal("0")
        )

    @property
    def retainage(self) -> Decimal:
        return sum((ln.retainage for ln in self.lines), Decimal("0"))

    @property
    def net(self) -> Decimal:
        """What is payable now: gross less retainage held, plus any retainage released."""
        return self.gross - self.retainage + self.retainage_released


@dataclass
class PrimeContract:
    key: str
    project: str
    number: str
    title: str
    customer: str
    retainage_percent: Decimal
    lines: list[Line]

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


@dataclass
class PaymentApplication:
    """An owner invoice (Procore prime contract payment application)."""

    key: str
    prime_contract: str
    number: int
    invoice_number: str
    period_start: date
    period_end: date
    status: str  # "draft", "approved", "paid"
    work_completed: Decimal
    retainage: Decimal
    in_erp: bool = False
    paid_in_erp: bool = False
    paid_on: date | None = None

    @property
    def net(self) -> Decimal:
        return self.work_completed - self.retainage


@dataclass
class DirectCost:
    key: str
    project: str
    vendor: str | None
    kind: str  # "Invoice", "Expense", "Payroll"
    invoice_number: str
    date: date
    status: str  # "draft", "pending", "approved"
    lines: list[Line]

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


@dataclass
class Company:
    seed: int
    size: str
    name: str
    procore_company_id: str
    subsidiaries: list[Subsidiary]
    cost_codes: list[CostCode]
    cost_types: list[CostType]
    accounts: list[Account]
    vendors: list[Vendor]
    customers: list[Customer]
    projects: list[Project]
    commitments: list[Commitment]
    change_orders: list[ChangeOrder]
    requisitions: list[Requisition]
    prime_contracts: list[PrimeContract]
    payment_applications: list[PaymentApplication]
    direct_costs: list[DirectCost]
    unmapped_cost_codes: list[str] = field(default_factory=list)  # planted: no ERP item/account
    planted: dict[str, list[str]] = field(default_factory=dict)  # case name -> keys

    def by_key(self, kind: str) -> dict[str, object]:
        return {item.key: item for item in getattr(self, kind)}
