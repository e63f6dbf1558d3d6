"""Fill the demo after its connections exist: mappings, webhooks, schedules, first sync.

Part of the demo wiring (it reads the sandboxes' ids file and regenerates the same dataset to
know what corresponds to what). What an integration admin would do on day one, through the
product's own services:

* refresh each ERP connection's reference cache, then fill the mapping tables from the seeded
  company — most, but deliberately not all: the dataset's ``unmapped_cost_codes`` stay
  unmapped and so does one vendor (the planted near-duplicate), so the first sync leaves real
  UNMAPPED_COST_CODE / UNKNOWN_VENDOR items waiting;
* install the webhooks: the Procore hook and triggers (through the API), the QuickBooks
  webhook (the sandbox's control API stands in for Intuit's developer portal) and the
  NetSuite user-event target (the script deployment, likewise);
* ensure the schedules (polling per connection, nightly reconciliation);
* queue the first sync of every ERP connection (the running qcluster does it: the run pages
  show it in progress) and a reconciliation after it.

Safe to run again: every step is idempotent (existing mappings are kept).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mappings import events
from mappings.models.history import MappingChange
from mappings.services.reference import reference_cache_refresh
from mappings.services.rows import mapping_create
from sandboxes.dataset.generate import generate
from sync.clients import connection_client
from sync.models import Connection, Kind
from sync.schedules import schedules_ensure
from sync.webhooks.install import procore_hook_install, webhook_secret_generate, webhook_url

SOURCE = MappingChange.Source.SYSTEM


class Command(BaseCommand):
    help = "Fill the demo's mappings, install webhooks and schedules, queue the first sync."

    def add_arguments(self, parser):
        parser.add_argument(
            "--ids-file", default=str(Path(settings.ERPBRIDGE_DATA_DIR) / "sandbox-ids.json")
        )
        parser.add_argument("--app-url", default="http://127.0.0.1:8000")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--size", default="demo")
        parser.add_argument("--no-sync", action="store_true", help="skip queueing the first sync")

    def handle(self, *args, ids_file, app_url, seed, size, no_sync, **options):
        try:
            seeded = json.loads(Path(ids_file).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {ids_file}: {exc}") from exc
        company = generate(seed, size)
        ids = seeded.get("ids") or {}
        procore = Connection.objects.filter(kind=Kind.PROCORE).order_by("pk").first()
        erps = list(Connection.objects.filter(kind__in=(Kind.NETSUITE, Kind.QUICKBOOKS)))
        if procore is None or not erps:
            raise CommandError("run demo_connections first")
        unmapped_vendor = self._unmapped_vendor(company)
        # Nothing has been synced yet, so no item waits on these mappings: skip the
        # re-evaluation task each new row would queue (hundreds of no-op tasks).
        saved = (list(events._callbacks), list(events._batch_callbacks))
        events._callbacks.clear()
        events._batch_callbacks.clear()
        try:
            self._all_mappings(erps, company, ids, unmapped_vendor)
        finally:
            events._callbacks.extend(saved[0])
            events._batch_callbacks.extend(saved[1])
        self._webhooks(procore, erps, seeded["urls"], app_url)
        self._project_access(company, ids.get("procore", {}))
        for name in schedules_ensure():
            self.stdout.write(f"  schedule {name}")
        if not no_sync:
            from django_q.tasks import async_chain

            for conn in erps:
                # A chain: the reconciliation compares what the resync left, not a half-run.
                async_chain(
                    [
                        ("sync.jobs_triggers.full_resync", (conn.pk, "", "")),
                        ("reconciliation.jobs.reconcile_connection", (conn.pk, "demo")),
                    ]
                )
            self.stdout.write("  first sync and reconciliation queued (see Sync runs)")

    def _all_mappings(self, erps, company, ids, unmapped_vendor) -> None:
        for conn in erps:
            reference_cache_refresh(connection_id=conn.pk)
            made = self._mappings(
                conn, company, ids.get("procore", {}), ids.get(conn.kind, {}), unmapped_vendor
            )
            self.stdout.write(f"  mappings {conn.name:<26} {made} rows")

    def _project_access(self, company, pids) -> None:
        """The demo PM follows the projects of the dataset's busiest project manager
        (accounts.ProjectAccess: what the PM reports and the queue show them)."""
        from collections import Counter

        from django.contrib.auth import get_user_model

        from accounts.models import ProjectAccess

        user = get_user_model().objects.filter(username="pm").first()
        if user is None or not company.projects:
            return
        manager = Counter(p.project_manager for p in company.projects).most_common(1)[0][0]
        for p in company.projects:
            if p.project_manager == manager and f"project:{p.key}" in pids:
                ProjectAccess.objects.get_or_create(
                    user=user, procore_project_id=pids[f"project:{p.key}"]
                )
        self.stdout.write(f"  pm follows the projects of {manager}")

    @staticmethod
    def _unmapped_vendor(company) -> str:
        planted = company.planted.get("near_duplicate_vendor") or []
        return planted[0] if planted else ""

    def _create(self, conn, table, values) -> int:
        try:
            mapping_create(table=table, connection=conn, values=values, source=SOURCE)
            return 1
        except ValidationError:
            return 0  # already there (a second run), or refused by the reference check

    def _mappings(self, conn, company, pids, eids, unmapped_vendor) -> int:
        made = 0
        ns = conn.kind == Kind.NETSUITE
        for p in company.projects:
            if p.erp != conn.kind or f"project:{p.key}" not in pids:
                continue
            values = {
                "procore_project_id": pids[f"project:{p.key}"],
                "erp_customer_id": eids.get(f"customer:{p.customer}", ""),
                "erp_job_id": eids.get(f"job:{p.key}", ""),
                "currency": p.currency,
            }
            if ns:
                values.update(
                    subsidiary_id=eids.get(f"subsidiary:{p.subsidiary}", ""),
                    location_id=eids.get(f"location:{p.subsidiary}", ""),
                )
            made += self._create(conn, "project", values)
        skip = set(company.unmapped_cost_codes)
        for cc in company.cost_codes:
            if cc.code in skip or f"item:{cc.code}" not in eids:
                continue
            made += self._create(
                conn, "cost_code", {"cost_code": cc.code, "item_id": eids[f"item:{cc.code}"]}
            )
        for v in company.vendors:
            in_erp = v.in_netsuite if ns else v.in_quickbooks
            key = f"vendor:{v.key}"
            if not (v.in_procore and in_erp) or v.key == unmapped_vendor or key not in eids:
                continue
            values = {"procore_vendor_id": pids.get(key, ""), "erp_vendor_id": eids[key]}
            if ns:
                values["subsidiary_ids"] = [
                    eids[f"subsidiary:{s}"] for s in v.subsidiaries if f"subsidiary:{s}" in eids
                ]
            made += self._create(conn, "vendor", values)
        for role, key in (
            ("accounts_payable", "account:ap"),
            ("accounts_receivable", "account:ar"),
            ("retention_payable", "account:retention_payable"),
            ("retention_receivable", "account:retention_receivable"),
        ):
            if key in eids:
                made += self._create(conn, "account_role", {"role": role, "account_id": eids[key]})
        if ns:
            for s in company.subsidiaries:
                if f"currency:{s.currency}" in eids:
                    made += self._create(
                        conn,
                        "currency",
                        {"currency": s.currency, "erp_currency_id": eids[f"currency:{s.currency}"]},
                    )
        return made

    def _webhooks(self, procore, erps, urls, app_url) -> None:
        client = connection_client(procore)
        hook = procore_hook_install(connection=procore, base_url=app_url, client=client)
        self.stdout.write(f"  webhook  Procore hook {hook['hook_id']} -> {hook['url']}")
        for conn in erps:
            secret = webhook_secret_generate(connection=conn)
            url = webhook_url(conn, app_url)
            if conn.kind == Kind.QUICKBOOKS:
                response = httpx.post(
                    f"{urls['quickbooks']}/_sandbox/quickbooks/webhooks",
                    json={"url": url, "verifier_token": secret, "format": "legacy"},
                    timeout=10,
                )
            else:
                settings_ = {**conn.settings, "webhook_allowed_ips": ["127.0.0.1/32", "::1/128"]}
                Connection.objects.filter(pk=conn.pk).update(settings=settings_)
                response = httpx.post(
                    f"{urls['netsuite']}/_sandbox/netsuite/event-targets",
                    json={"url": url, "secret": secret},
                    timeout=10,
                )
            response.raise_for_status()
            self.stdout.write(f"  webhook  {conn.name} -> {url}")
