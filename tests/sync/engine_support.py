"""Wiring for the engine tests: the demo company seeded into the three sandboxes, Connections
pointed at them in-process, and a mapping lookup built from the seeds' id maps."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from connectors.limits import Concurrency, NoLimit
from sandboxes.dataset.generate import generate
from sandboxes.netsuite import (
    DEMO_ACCOUNT_ID,
    DEMO_CERTIFICATE_ID,
    NetSuiteSandbox,
    demo_private_key_pem,
)
from sandboxes.netsuite import DEMO_CLIENT_ID as NS_CLIENT_ID
from sandboxes.netsuite import seed as ns_seed
from sandboxes.procore import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ProcoreSandbox
from sandboxes.procore import seed as procore_seed
from sandboxes.quickbooks import DEMO_CLIENT_ID as QBO_CLIENT_ID
from sandboxes.quickbooks import DEMO_CLIENT_SECRET as QBO_CLIENT_SECRET
from sandboxes.quickbooks import DEMO_REALM_ID, QuickBooksSandbox
from sandboxes.quickbooks import seed as qbo_seed
from sync.clients import connection_client
from sync.context import origin_id_for
from sync.lookups import CostTarget, MappingMissing, ProjectTarget, VendorTarget
from sync.models import Connection, ConnectionStatus, Kind
from sync.services.connections import ConnectionTokenStore, connection_set_secrets
from sync.services.runs import sync_run

BASE = "https://sandbox.invalid"
_COMPANY = None


def company():
    global _COMPANY
    if _COMPANY is None:
        _COMPANY = generate(42, "demo")
    return _COMPANY


class NoLimits:
    """Limits are the connectors' business and tested there; engine tests must not wait."""

    def rate_window(self, key, limit, seconds, *, sleep=None):
        return NoLimit()

    def concurrency(self, key, limit, *, sleep=None):
        return NoLimit()


class SlotLimits(NoLimits):
    """The account's concurrency slots for real, shared by a client's reads and writes as in
    production (a batch reading while its writes are in flight); still no rate windows."""

    def concurrency(self, key, limit, *, sleep=None):
        return Concurrency(limit)


@dataclass
class FakeLookup:
    """The mapping lookup's contract over plain dicts (what tests/sync/test_mappers uses too)."""

    projects: dict[str, ProjectTarget] = field(default_factory=dict)
    costs: dict[str, CostTarget] = field(default_factory=dict)  # cost code -> target
    vendors: dict[str, VendorTarget] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)

    def project(self, procore_project_id):
        try:
            return self.projects[str(procore_project_id)]
        except KeyError:
            raise MappingMissing(
                table="project",
                key={"procore_project_id": str(procore_project_id)},
                project=str(procore_project_id),
                reason_code="UNMAPPED_PROJECT",
            ) from None

    def cost(self, *, cost_code, cost_type, subsidiary_id, procore_project_id, on_date=None):
        try:
            return self.costs[cost_code]
        except KeyError:
            raise MappingMissing(
                table="cost_code",
                key={"cost_code": cost_code, "cost_type": cost_type},
                subsidiary=subsidiary_id,
                project=procore_project_id,
                reason_code="UNMAPPED_COST_CODE",
            ) from None

    def vendor(self, procore_vendor_id):
        try:
            return self.vendors[str(procore_vendor_id)]
        except KeyError:
            raise MappingMissing(
                table="vendor",
                key={"procore_vendor_id": str(procore_vendor_id)},
                reason_code="UNKNOWN_VENDOR",
            ) from None

    def account(self, role, *, subsidiary_id, on_date=None):
        try:
            return self.accounts[role]
        except KeyError:
            raise MappingMissing(
                table="account_role",
                key={"role": role},
                subsidiary=subsidiary_id,
                reason_code="UNMAPPED_ACCOUNT",
            ) from None

    def currency(self, code):
        return code


@dataclass
class World:
    kind: str
    company: Any
    procore: ProcoreSandbox
    erp: Any
    pids: dict[str, str]
    eids: dict[str, str]
    procore_conn: Connection
    erp_conn: Connection
    lookup: FakeLookup
    limits: Any = field(default_factory=NoLimits)

    def clients(self, connection: Connection):
        sb = self.procore if connection.kind == Kind.PROCORE else self.erp
        return connection_client(
            connection,
            transport=httpx.MockTransport(sb.handle),
            sleep=lambda s: None,
            limits=self.limits,
        )

    def run(self, object_type: str, procore_id: str | None = None, **kw):
        return sync_run(
            connection_id=self.erp_conn.pk,
            object_type=object_type,
            procore_id=procore_id,
            clients=self.clients,
            lookup=lambda conn: self.lookup,
            **kw,
        )

    def commitment(self, **want):
        """A dataset commitment on this ERP's projects matching ``want`` (and clean)."""
        projects = {p.key: p for p in self.company.projects}
        planted = {k for keys in self.company.planted.values() for k in keys}
        unmapped = set(self.company.unmapped_cost_codes)
        for c in self.company.commitments:
            p = projects[c.project]
            if p.erp != self.kind or c.key in planted or c.deleted:
                continue
            if any(getattr(c, k) != v for k, v in want.items()):
                continue
            if any(line.cost_code in unmapped for line in c.lines):
                continue
            if self.lookup.vendors.get(self.pids.get(f"vendor:{c.vendor}", "")) is None:
                continue
            return c
        raise LookupError(f"no commitment with {want}")

    def new_commitment(
        self,
        number: str = "SC-T-001",
        amounts=("1000.00", "2500.00"),
        *,
        vendor: str | None = None,
        project: str | None = None,
    ) -> str:
        """A fresh approved subcontract in Procore (not in the ERP), on mapped cost codes."""
        p = next(
            x
            for x in self.company.projects
            if x.erp == self.kind and x.status == "Active" and (project is None or x.key == project)
        )
        vendor = vendor or next(
            v.key
            for v in self.company.vendors
            if self.pids.get(f"vendor:{v.key}") in self.lookup.vendors
            and (self.kind != "netsuite" or p.subsidiary in (v.subsidiaries or ["us"]))
        )
        codes = [c for c in p.cost_codes if c in self.lookup.costs]
        sb = self.procore
        record = sb.store.get("projects", self.pids[f"project:{p.key}"])
        with sb.as_person():
            rec = sb.create_commitment(
                record,
                "work_order_contracts",
                {
                    "number": number,
                    "title": f"Test package {number}",
                    "status": "Draft",
                    "executed": True,
                    "retainage_percent": Decimal("10"),
                    "contract_date": "2025-06-01",
                    "vendor_id": int(self.pids[f"vendor:{vendor}"]),
                },
            )
            for code, amount in zip(codes, amounts, strict=False):
                sb.create_line(
                    rec,
                    {
                        "description": f"Work on {code}",
                        "amount": Decimal(amount),
                        "quantity": Decimal("1"),
                        "uom": "LS",
                        "unit_cost": Decimal(amount),
                        "cost_code_id": int(self.pids[f"cost_code:{p.key}:{code}"]),
                        "line_item_type_id": int(self.pids["cost_type:S"]),
                    },
                    person=True,
                )
            sb.update_commitment(rec, {"status": "Approved"}, person=True)
        return str(rec["id"])

    def set_policies(self, **policies) -> None:
        # update(), not save(): the instance's token column is stale (the store wrote it)
        Connection.objects.filter(pk=self.erp_conn.pk).update(policies=policies)

    def procore_commitment(self, pid: str) -> dict:
        return self.procore.store.get("commitments", pid)

    def erp_pos(self) -> list[dict]:
        if self.kind == Kind.NETSUITE:
            return list(self.erp.store.collection("purchaseOrder").values())
        return self.erp.records("PurchaseOrder")

    def origin_id(self, erp_id: str) -> str:
        """What Procore should hold as origin_id for a record of this world's ERP."""
        return origin_id_for(self.erp_conn, erp_id)

    def writes(self) -> int:
        return sum(
            1
            for m, _path, _s in self.erp.request_log
            if m in ("POST", "PUT", "PATCH", "DELETE") and "/query" not in _path
        )


def _procore(company_) -> tuple[ProcoreSandbox, dict[str, str], Connection]:
    # Procore's spike window (100 requests per 10 s per token) is the connector tests' subject;
    # here it would make a flow's outcome depend on how fast the machine is, so shrink it away.
    sb = ProcoreSandbox(seed=1, rate_scale=1000)
    ids = procore_seed.load(sb, company_)
    conn = Connection.objects.create(
        name="Procore",
        kind=Kind.PROCORE,
        settings={
            "auth_base_url": BASE,
            "api_base_url": BASE,
            "client_id": DEMO_CLIENT_ID,
            "company_id": company_.procore_company_id,
            "grant": "client_credentials",
        },
    )
    connection_set_secrets(connection=conn, secrets={"client_secret": DEMO_CLIENT_SECRET})
    return sb, ids, conn


def netsuite_world(**policies) -> World:
    c = company()
    psb, pids, pconn = _procore(c)
    sb = NetSuiteSandbox(seed=1)
    ids = ns_seed.load(sb, c)
    conn = Connection.objects.create(
        name="NetSuite",
        kind=Kind.NETSUITE,
        procore_connection=pconn,
        policies=policies,
        settings={
            "account_id": DEMO_ACCOUNT_ID,
            "base_url": BASE,
            "auth_method": "m2m",
            "client_id": NS_CLIENT_ID,
            "certificate_id": DEMO_CERTIFICATE_ID,
        },
    )
    connection_set_secrets(
        connection=conn, secrets={"private_key_pem": demo_private_key_pem().decode()}
    )
    lookup = FakeLookup()
    subs = [s.key for s in c.subsidiaries]
    for p in c.projects:
        if p.erp == "netsuite":
            lookup.projects[pids[f"project:{p.key}"]] = ProjectTarget(
                erp_customer_id=ids[f"customer:{p.customer}"],
                erp_job_id=ids[f"job:{p.key}"],
                subsidiary_id=ids[f"subsidiary:{p.subsidiary}"],
                currency=ids[f"currency:{p.currency}"],
                class_id=None,
                department_id=None,
                location_id=ids[f"location:{p.subsidiary}"],
            )
    for cc in c.cost_codes:
        if f"item:{cc.code}" in ids:
            lookup.costs[cc.code] = CostTarget(ids[f"item:{cc.code}"], None, None)
    for v in c.vendors:
        if v.in_procore and v.in_netsuite:
            assigned = [s for s in v.subsidiaries if s in subs] or subs[:1]
            lookup.vendors[pids[f"vendor:{v.key}"]] = VendorTarget(
                ids[f"vendor:{v.key}"], tuple(ids[f"subsidiary:{s}"] for s in assigned)
            )
    return World("netsuite", c, psb, sb, pids, ids, pconn, conn, lookup)


def quickbooks_world(**policies) -> World:
    c = company()
    psb, pids, pconn = _procore(c)
    sb = QuickBooksSandbox(seed=1, rate_scale=1000)
    ids = qbo_seed.load(sb, c)
    conn = Connection.objects.create(
        name="QuickBooks",
        kind=Kind.QUICKBOOKS,
        procore_connection=pconn,
        status=ConnectionStatus.OK,
        policies=policies,
        settings={
            "token_url": f"{BASE}/oauth2/v1/tokens/bearer",
            "api_base_url": BASE,
            "client_id": QBO_CLIENT_ID,
            "realm_id": DEMO_REALM_ID,
        },
    )
    connection_set_secrets(connection=conn, secrets={"client_secret": QBO_CLIENT_SECRET})
    ConnectionTokenStore(conn.pk).save(sb.issue_token_for_tests())
    lookup = FakeLookup(accounts={"accounts_payable": ids["account:ap"]})
    for p in c.projects:
        if p.erp == "quickbooks":
            lookup.projects[pids[f"project:{p.key}"]] = ProjectTarget(
                erp_customer_id=ids[f"customer:{p.customer}"],
                erp_job_id=ids[f"job:{p.key}"],
                subsidiary_id=None,
                currency="USD",
                class_id=None,
                department_id=None,
                location_id=None,
            )
    for cc in c.cost_codes:
        if f"item:{cc.code}" in ids:
            lookup.costs[cc.code] = CostTarget(ids[f"item:{cc.code}"], None, None)
    for v in c.vendors:
        if v.in_procore and v.in_quickbooks:
            lookup.vendors[pids[f"vendor:{v.key}"]] = VendorTarget(ids[f"vendor:{v.key}"], ())
    return World("quickbooks", c, psb, sb, pids, ids, pconn, conn, lookup)


WORLDS = {"netsuite": netsuite_world, "quickbooks": quickbooks_world}
