"""Everything one run needs: the connections, clients, ERP adapter, lookup and policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from sync.config import Policies
from sync.erp import ErpAdapter
from sync.lookups import MappingMissing, ProjectTarget, VendorTarget
from sync.models import Binding, Connection, SyncRun


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
