"""Everything one run needs: the connections, clients, ERP adapter, lookup and policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from sync.config import Policies
from sync.erp import ErpAdapter
from sync.lookups import MappingMissing, ProjectTarget, VendorTarget
from sync.models import Binding, Connection, SyncRun


def origin_id_for(connection: Connection, erp_id: str) -> str:
    """The ``origin_id`` Procore keeps on a record the ERP of ``connection`` holds.

    Procore wants origin_id unique per company and object type (../shared/reference/
    procore-api.md, "Integration fields"), and one Procore company can feed two ERP
    connections (projects of one subsidiary in NetSuite, another's in QuickBooks: the demo
    company does). Their ids overlap (purchase order "1" exists in both), so a bare ERP id
    made the second write-back fail with 422 duplicate_origin_id. The id is scoped by the ERP
    account, which is stable across reinstalls: ``netsuite:<account>:<id>``,
    ``quickbooks:<realm>:<id>``. We never read origin_id back to bind; origin_data carries
    the readable document number.
    """
    return f"{origin_scope(connection)}:{erp_id}"


def origin_scope(connection: Connection) -> str:
    """``netsuite:<account>`` or ``quickbooks:<realm>``: which ERP books a record is in."""
    settings = connection.settings or {}
    scope = settings.get("account_id") or settings.get("realm_id") or f"c{connection.pk}"
    return f"{connection.kind}:{scope}"


class BoundLookup:
    """The mapping lookup, completed by what the engine itself created: a project job or an
    ERP vendor that a flow created (its Binding) counts as mapped."""

    def __init__(self, lookup: Any, connection: Connection) -> None:
        self.lookup = lookup
        self.connection = connection

    def _bound(self, object_type: str, procore_id: str) -> Binding | None:
        return Binding.objects.filter(
            connection=self.connection, object_type=object_type, procore_id=str(procore_id)
        ).first()

    def project(self, procore_project_id: str) -> ProjectTarget:
        target = self.lookup.project(procore_project_id)
        if not target.erp_job_id:
            bound = self._bound("project", procore_project_id)
            if bound is not None:
                return ProjectTarget(
                    erp_customer_id=target.erp_customer_id,
                    erp_job_id=bound.erp_id,
                    subsidiary_id=target.subsidiary_id,
                    currency=target.currency,
                    class_id=target.class_id,
                    department_id=target.department_id,
                    location_id=target.location_id,
                )
        return target

    def vendor(self, procore_vendor_id: str) -> VendorTarget:
        try:
            return self.lookup.vendor(procore_vendor_id)
        except MappingMissing:
            bound = self._bound("vendor", procore_vendor_id)
            if bound is None:
                raise
            subs = tuple((bound.payload or {}).get("_subsidiaries", ()))
            return VendorTarget(erp_vendor_id=bound.erp_id, subsidiary_ids=subs)

    def __getattr__(self, name: str) -> Any:  # cost, account, currency
        return getattr(self.lookup, name)


@dataclass
class SyncContext:
    connection: Connection  # the ERP connection
    procore: Any  # ProcoreClient
    erp: ErpAdapter
    lookup: Any
    policies: Policies
    company_id: str
    run: SyncRun | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def now(self):
        return timezone.now()

    @property
    def kind(self) -> str:
        return self.connection.kind

    def origin_id(self, erp_id: str) -> str:
        return origin_id_for(self.connection, erp_id)

    @property
    def origin_scope(self) -> str:
        return origin_scope(self.connection)

    def projects(self) -> list[tuple[Any, Any]]:
        """Procore projects with their mapping (``None`` when unmapped), read once per run.
        With ``projects_scope == "mapped"`` only the mapped ones are returned."""
        if "projects" not in self.cache:
            rows = []
            for project in self.procore.projects():
                try:
                    target = self.lookup.project(project.id)
                except MappingMissing:
                    target = None
                if target is None and self.policies.projects_scope == "mapped":
                    continue
                rows.append((project, target))
            self.cache["projects"] = rows
        return self.cache["projects"]

    def codebook(self, project_id: str) -> dict[str, str]:
        """Procore cost code / cost type ids → codes, for lines that carry only ids."""
        key = f"codes:{project_id}"
        if key not in self.cache:
            codes = {
                f"cc:{c.id}": c.full_code or c.code or ""
                for c in self.procore.cost_codes(project_id)
            }
            if "codes:types" not in self.cache:
                self.cache["codes:types"] = {
                    f"lit:{t.id}": t.code or "" for t in self.procore.line_item_types()
                }
            self.cache[key] = {**codes, **self.cache["codes:types"]}
        return self.cache[key]
