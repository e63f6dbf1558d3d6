"""A sandbox world served over loopback for tests and benchmarks that run real qcluster
processes: the demo company plus N fresh approved commitments in Procore, the sandboxes
behind ``SandboxServer``, and what a separate Django process needs to connect to them (URLs,
credentials, the mapping rows) as plain JSON."""

from __future__ import annotations

import random
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sandboxes.netsuite import DEMO_ACCOUNT_ID, DEMO_CERTIFICATE_ID, demo_private_key_pem
from sandboxes.netsuite import DEMO_CLIENT_ID as NS_CLIENT_ID
from sandboxes.procore import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from sandboxes.quickbooks import DEMO_CLIENT_ID as QBO_CLIENT_ID
from sandboxes.quickbooks import DEMO_CLIENT_SECRET as QBO_CLIENT_SECRET
from sandboxes.quickbooks import DEMO_REALM_ID
from sandboxes.server import SandboxServer


def add_commitments(
    world, count: int, *, seed: int = 7, prefix: str = "CR", lines: tuple[int, int] = (2, 5)
) -> list[str]:
    """``count`` approved subcontracts with ``lines`` (min, max) lines on mapped codes, spread
    over the ERP's active projects and their vendors; returns the Procore ids."""
    rng = random.Random(seed)
    sb = world.procore
    projects = [p for p in world.company.projects if p.erp == world.kind and p.status == "Active"]
    ids = []
    for n in range(count):
        p = projects[n % len(projects)]
        vendors = [
            v.key
            for v in world.company.vendors
            if world.pids.get(f"vendor:{v.key}") in world.lookup.vendors
            and (world.kind != "netsuite" or p.subsidiary in (v.subsidiaries or ["us"]))
        ]
        codes = [c for c in p.cost_codes if c in world.lookup.costs]
        record = sb.store.get("projects", world.pids[f"project:{p.key}"])
        with sb.as_person():
            rec = sb.create_commitment(
                record,
                "work_order_contracts",
                {
                    "number": f"{prefix}-{n:05d}",
                    "title": f"Package {n}",
                    "status": "Draft",
                    "executed": True,
                    "retainage_percent": Decimal("10"),
                    "contract_date": "2025-06-01",
                    "vendor_id": int(world.pids[f"vendor:{rng.choice(vendors)}"]),
                },
            )
            for code in rng.sample(codes, k=min(len(codes), rng.randint(*lines))):
                amount = Decimal(rng.randint(50_000, 5_000_000)) / 100
                sb.create_line(
                    rec,
                    {
                        "description": f"Work on {code}",
                        "amount": amount,
                        "quantity": Decimal("1"),
                        "uom": "LS",
                        "unit_cost": amount,
                        "cost_code_id": int(world.pids[f"cost_code:{p.key}:{code}"]),
                        "line_item_type_id": int(world.pids["cost_type:S"]),
                    },
                    person=True,
                )
            sb.update_commitment(rec, {"status": "Approved"}, person=True)
        ids.append(str(rec["id"]))
    return ids


def serve(world) -> tuple[SandboxServer, dict[str, str]]:
    server = SandboxServer(webhook_interval=3600)
    urls = {"procore": server.add(world.procore, 0), "erp": server.add(world.erp, 0)}
    server.start()
    return server, urls


def unlimited_procore(world) -> None:
    """Procore's windows are not what these runs measure: lift them on both sides."""
    world.procore.spike.limit = world.procore.hourly.limit = 10_000_000


def connection_spec(world, urls: dict[str, str]) -> dict[str, Any]:
    """Everything a fresh database needs to hold these connections and their mappings."""
    procore = {
        "settings": {
            "auth_base_url": urls["procore"],
            "api_base_url": urls["procore"],
            "client_id": DEMO_CLIENT_ID,
            "company_id": world.company.procore_company_id,
            "grant": "client_credentials",
            "spike_limit": 10_000_000,
            "hourly_limit": 10_000_000,
        },
        "secrets": {"client_secret": DEMO_CLIENT_SECRET},
    }
    if world.kind == "netsuite":
        erp = {
            "settings": {
                "account_id": DEMO_ACCOUNT_ID,
                "base_url": urls["erp"],
                "auth_method": "m2m",
                "client_id": NS_CLIENT_ID,
                "certificate_id": DEMO_CERTIFICATE_ID,
            },
            "secrets": {"private_key_pem": demo_private_key_pem().decode()},
        }
    else:
        erp = {
            "settings": {
                "token_url": f"{urls['erp']}/oauth2/v1/tokens/bearer",
                "api_base_url": urls["erp"],
                "client_id": QBO_CLIENT_ID,
                "realm_id": DEMO_REALM_ID,
            },
            "secrets": {"client_secret": QBO_CLIENT_SECRET},
            "token": world.erp.issue_token_for_tests(),
        }
    lookup = world.lookup
    return {
        "kind": world.kind,
        "procore": procore,
        "erp": erp,
        # Note: ProjectMapping.currency holds the ERP's currency reference here, as the
        # engine's NetSuite mapper sends the project's currency as the record's currency id.
        "projects": {pid: asdict(t) for pid, t in lookup.projects.items()},
        "costs": {code: asdict(t) for code, t in lookup.costs.items()},
        "vendors": {
            pid: {"erp_vendor_id": t.erp_vendor_id, "subsidiary_ids": list(t.subsidiary_ids)}
            for pid, t in lookup.vendors.items()
        },
        "accounts": dict(lookup.accounts),
    }


def load_spec(spec: dict[str, Any]):
    """In the process with the database: the connections and mapping rows; returns the ERP
    connection. (Runs in a subprocess: imports Django models here.)"""
    from mappings.models import AccountRoleMapping, CostCodeMapping, ProjectMapping, VendorMapping
    from sync.models import Connection, ConnectionStatus, Kind
    from sync.services.connections import ConnectionTokenStore, connection_set_secrets

    pconn = Connection.objects.create(
        name="Procore", kind=Kind.PROCORE, settings=spec["procore"]["settings"]
    )
    connection_set_secrets(connection=pconn, secrets=spec["procore"]["secrets"])
    kind = Kind.NETSUITE if spec["kind"] == "netsuite" else Kind.QUICKBOOKS
    conn = Connection.objects.create(
        name=spec["kind"],
        kind=kind,
        procore_connection=pconn,
        status=ConnectionStatus.OK,
        settings=spec["erp"]["settings"],
    )
    connection_set_secrets(connection=conn, secrets=spec["erp"]["secrets"])
    if spec["erp"].get("token"):
        ConnectionTokenStore(conn.pk).save(spec["erp"]["token"])
    for pid, t in spec["projects"].items():
        ProjectMapping.objects.create(
            connection=conn,
            procore_project_id=pid,
            erp_customer_id=t["erp_customer_id"],
            erp_job_id=t["erp_job_id"] or "",
            subsidiary_id=t["subsidiary_id"] or "",
            currency=t["currency"],
            class_id=t["class_id"] or "",
            department_id=t["department_id"] or "",
            location_id=t["location_id"] or "",
        )
    CostCodeMapping.objects.bulk_create(
        CostCodeMapping(
            connection=conn,
            cost_code=code,
            item_id=t["item_id"] or "",
            account_id=t["account_id"] or "",
            class_id=t["class_id"] or "",
        )
        for code, t in spec["costs"].items()
    )
    VendorMapping.objects.bulk_create(
        VendorMapping(connection=conn, procore_vendor_id=pid, **t)
        for pid, t in spec["vendors"].items()
    )
    for role, account in spec["accounts"].items():
        AccountRoleMapping.objects.create(connection=conn, role=role, account_id=account)
    return conn


def add_pay_apps(
    world, commitment_ids: list[str], *, share: tuple[int, int] = (20, 60), seed: int = 11
) -> list[str]:
    """One approved pay app (requisition) per commitment, billing ``share`` (min, max) percent
    of each line with the commitment's retainage held, numbered like the subcontractor's own
    invoices (``INV-<commitment number>-1``); returns the Procore ids."""
    rng = random.Random(seed)
    sb = world.procore
    ids = []
    with sb.as_person():
        for pid in commitment_ids:
            commitment = sb.store.get("commitments", int(pid))
            made = sb.create_requisition(
                commitment,
                {
                    "invoice_number": f"INV-{commitment['number']}-1",
                    "status": "draft",
                    "requisition_start": "2025-07-01",
                    "requisition_end": "2025-07-31",
                    "billing_date": "2025-07-31",
                },
            )
            for item in made["_items"]:
                part = Decimal(rng.randint(*share)) / 100
                work = (Decimal(str(item["scheduled_value"])) * part).quantize(Decimal("0.01"))
                sb.update_requisition_item(
                    made, item["id"], {"work_completed_this_period": work}, person=True
                )
            sb.update_requisition(made, {"status": "approved"}, person=True)
            ids.append(str(made["id"]))
    return ids
