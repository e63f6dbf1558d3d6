"""The lookups the sync flows call: mapped target, or `MappingMissing` naming the gap.

A `MappingLookup` is built once per sync run for one ERP connection and reads each table
once, on first use (a run may map 100,000 lines: one query per table, never one per line).
Later changes to the tables are not seen by a lookup already built; build a new one per run.

Precedence and dates (the README's "Mappings" section says the same in prose):

- cost codes: project-level row for (code, type) > project-level (code, any type) >
  company row (code, type) > company (code, any type). Within a tier, a row for the exact
  subsidiary beats a row for all subsidiaries (blank), and among those the row with the
  latest `effective_from` on or before the date wins (blank `effective_from` = always).
- account roles: exact subsidiary > all subsidiaries, then latest effective date.
- currencies: an explicit currency row, else a currency record of the ERP reference cache
  whose code is the ISO code, else (QuickBooks, whose currency ids *are* ISO codes) the code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from mappings.models import (
    AccountRoleMapping,
    CostCodeMapping,
    CurrencyMapping,
    ProjectMapping,
    ReferenceRecord,
    VendorMapping,
)
from sync.models import Connection, Kind

ACCOUNT_ROLES = (
    "accounts_payable",
    "accounts_receivable",
    "retention_payable",
    "retention_receivable",
    "suspense",
)


class MappingMissing(Exception):
    """No mapping for a key: names exactly what is missing so the queue can offer the fix.

    `table`: "project" | "cost_code" | "vendor" | "account_role" | "currency".
    `reason_code`: "UNMAPPED_PROJECT" | "UNMAPPED_COST_CODE" | "UNMAPPED_ACCOUNT" |
    "UNKNOWN_VENDOR" | "UNMAPPED_CURRENCY".
    `key` has the same shape as the `key` passed to `mappings.events` callbacks.
    """

    def __init__(
        self,
        *,
        table: str,
        key: dict[str, str],
        reason_code: str,
        subsidiary: str | None = None,
        project: str | None = None,
        connection_id: int | None = None,
        on_date: date | None = None,
    ) -> None:
        self.table = table
        self.key = key
        self.subsidiary = subsidiary
        self.project = project
        self.reason_code = reason_code
        self.connection_id = connection_id
        self.on_date = on_date
        super().__init__(self.message)

    @property
    def message(self) -> str:
        what = ", ".join(f"{k} {v!r}" for k, v in self.key.items() if v not in (None, ""))
        text = f"No {self.table.replace('_', ' ')} mapping for {what}"
        if self.subsidiary:
            text += f" in subsidiary {self.subsidiary}"
        if self.project:
            text += f" on Procore project {self.project}"
        if self.on_date:
            text += f" effective {self.on_date.isoformat()}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "subsidiary": self.subsidiary,
            "project": self.project,
            "reason_code": self.reason_code,
        }


@dataclass(frozen=True)
class ProjectTarget:
    erp_customer_id: str
    erp_job_id: str | None
    subsidiary_id: str | None
    currency: str
    class_id: str | None
    department_id: str | None
    location_id: str | None


@dataclass(frozen=True)
class CostTarget:
    item_id: str | None
    account_id: str | None
    class_id: str | None


@dataclass(frozen=True)
class VendorTarget:
    erp_vendor_id: str
    subsidiary_ids: tuple[str, ...]


def _or_none(value: str) -> str | None:
    return value or None


def _pick(rows: list, subsidiary_id: str | None, on_date: date) -> Any | None:
    """Exact subsidiary beats blank; then the latest effective_from on or before on_date."""
    for wanted in ([subsidiary_id] if subsidiary_id else []) + [""]:
        best = None
        for row in rows:
            if row.subsidiary_id != wanted:
                continue
            start = row.effective_from or date.min
            if start > on_date:
                continue
            if best is None or start > (best.effective_from or date.min):
                best = row
        if best is not None:
            return best
    return None


class MappingLookup:
    """Built once per sync run for one ERP connection; caches rows in memory."""

    def __init__(self, connection: Connection, *, on_date: date | None = None):
        self.connection = connection
        self.on_date = on_date
        self._projects: dict[str, ProjectMapping] | None = None
        self._costs: dict[tuple[str, str, str], list[CostCodeMapping]] | None = None
        self._vendors: dict[str, VendorMapping] | None = None
        self._accounts: dict[str, list[AccountRoleMapping]] | None = None
        self._currencies: dict[str, str] | None = None
        self._today: date | None = None

    def _date(self, on_date: date | None) -> date:
        if on_date or self.on_date:
            return on_date or self.on_date
        # Today, read once per lookup (one per batch): every record of a batch is mapped as
        # of the same day, and a lookup per line does not read the clock and zone again.
        if self._today is None:
            self._today = timezone.localdate()
        return self._today

    def _rows(self, model):
        return model.objects.filter(connection_id=self.connection.pk)

    # Projects

    def project(self, procore_project_id: str) -> ProjectTarget:
        if self._projects is None:
            self._projects = {r.procore_project_id: r for r in self._rows(ProjectMapping)}
        row = self._projects.get(str(procore_project_id))
        if row is None:
            raise MappingMissing(
                table="project",
                key={"procore_project_id": str(procore_project_id)},
                project=str(procore_project_id),
                reason_code="UNMAPPED_PROJECT",
                connection_id=self.connection.pk,
            )
        return ProjectTarget(
            erp_customer_id=row.erp_customer_id,
            erp_job_id=_or_none(row.erp_job_id),
            subsidiary_id=_or_none(row.subsidiary_id),
            currency=row.currency,
            class_id=_or_none(row.class_id),
            department_id=_or_none(row.department_id),
            location_id=_or_none(row.location_id),
        )

    # Cost codes

    def cost(
        self,
        *,
        cost_code: str,
        cost_type: str | None,
        subsidiary_id: str | None,
        procore_project_id: str | None,
        on_date: date | None = None,
    ) -> CostTarget:
        if self._costs is None:
            costs: dict[tuple[str, str, str], list[CostCodeMapping]] = defaultdict(list)
            for r in self._rows(CostCodeMapping):
                costs[(r.cost_code, r.cost_type, r.procore_project_id)].append(r)
            self._costs = dict(costs)
        when = self._date(on_date)
        project = str(procore_project_id) if procore_project_id else ""
        cost_type = cost_type or ""
        subsidiary = str(subsidiary_id) if subsidiary_id else None
        tiers = []
        if project:
            tiers += [(project, cost_type), (project, "")] if cost_type else [(project, "")]
        tiers += [("", cost_type), ("", "")] if cost_type else [("", "")]
        for tier_project, tier_type in tiers:
            row = _pick(self._costs.get((cost_code, tier_type, tier_project), []), subsidiary, when)
            if row is not None:
                return CostTarget(
                    item_id=_or_none(row.item_id),
                    account_id=_or_none(row.account_id),
                    class_id=_or_none(row.class_id),
                )
        raise MappingMissing(
            table="cost_code",
            key={"cost_code": cost_code, "cost_type": cost_type or None},
            subsidiary=subsidiary,
            project=project or None,
            reason_code="UNMAPPED_COST_CODE",
            connection_id=self.connection.pk,
            on_date=on_date or self.on_date,
        )

    # Vendors

    def vendor(self, procore_vendor_id: str) -> VendorTarget:
        if self._vendors is None:
            self._vendors = {r.procore_vendor_id: r for r in self._rows(VendorMapping)}
        row = self._vendors.get(str(procore_vendor_id))
        if row is None:
            raise MappingMissing(
                table="vendor",
                key={"procore_vendor_id": str(procore_vendor_id)},
                reason_code="UNKNOWN_VENDOR",
                connection_id=self.connection.pk,
            )
        return VendorTarget(
            erp_vendor_id=row.erp_vendor_id,
            subsidiary_ids=tuple(str(s) for s in row.subsidiary_ids),
        )

    # Account roles

    def account(self, role: str, *, subsidiary_id: str | None, on_date: date | None = None) -> str:
        if role not in ACCOUNT_ROLES:
            raise ValueError(f"unknown account role {role!r}; one of {', '.join(ACCOUNT_ROLES)}")
        if self._accounts is None:
            accounts: dict[str, list[AccountRoleMapping]] = defaultdict(list)
            for r in self._rows(AccountRoleMapping):
                accounts[r.role].append(r)
            self._accounts = dict(accounts)
        subsidiary = str(subsidiary_id) if subsidiary_id else None
        row = _pick(self._accounts.get(role, []), subsidiary, self._date(on_date))
        if row is None:
            raise MappingMissing(
                table="account_role",
                key={"role": role},
                subsidiary=subsidiary,
                reason_code="UNMAPPED_ACCOUNT",
                connection_id=self.connection.pk,
                on_date=on_date or self.on_date,
            )
        return row.account_id

    # Currencies

    def currency(self, code: str) -> str:
        if self._currencies is None:
            # Reference cache first, explicit rows override it.
            found = {
                c.upper(): rid
                for c, rid in ReferenceRecord.objects.filter(
                    connection_id=self.connection.pk, kind="currency", active=True
                ).values_list("code", "remote_id")
                if c
            }
            found.update(self._rows(CurrencyMapping).values_list("currency", "erp_currency_id"))
            self._currencies = found
        iso = (code or "").upper()
        if iso in self._currencies:
            return self._currencies[iso]
        if self.connection.kind == Kind.QUICKBOOKS and len(iso) == 3 and iso.isalpha():
            # QuickBooks' CurrencyRef value is the ISO code itself.
            return iso
        raise MappingMissing(
            table="currency",
            key={"currency": iso},
            reason_code="UNMAPPED_CURRENCY",
            connection_id=self.connection.pk,
        )
