"""Vendors ↔ ERP vendors, linked by the vendor mapping.

A linked vendor is bound (no write) and Procore learns its ERP id. An unlinked one becomes
UNKNOWN_VENDOR with a suggested match when an ERP vendor has the same name; the ERP vendor
is created only when a controller approves it or the "auto-create vendors" policy says so.
(The pull direction — ERP vendors into the Procore directory — is one of the next flows.)"""

from __future__ import annotations

import json
import re

from connectors.procore.writes import Origin
from sync.flows.base import Flow, Hold, Plan, Source
from sync.lookups import MappingMissing
from sync.mappers import netsuite as ns
from sync.mappers import quickbooks as qbo
from sync.models import Kind, Operation


def _norm(name: str) -> str:
    name = name.lower().replace("&", "and")
    name = re.sub(r"\b(llc|inc|ltd|co|corp|company)\b", "", name)
    return re.sub(r"[^a-z0-9]", "", name)


class VendorsFlow(Flow):
    name = "vendors"
    binding_type = "vendor"

    def fetch(self, ctx, procore_id=None):
        if procore_id:
            yield Source(str(procore_id), ctx.procore.vendor(str(procore_id)))
            return
        for vendor in ctx.procore.vendors():
            yield Source(vendor.id, vendor)

    def propose(self, ctx, source: Source, binding):
        vendor = source.record
        mapper = ns if ctx.kind == Kind.NETSUITE else qbo
        facts = {"vendor": vendor.id, "vendor_name": vendor.name}
        try:
            target = ctx.lookup.lookup.vendor(vendor.id)
        except MappingMissing:
            target = None
        if target is not None:
            return Plan(
                operation=Operation.LINK,
                erp_type=mapper.VENDOR,
                erp_id=target.erp_vendor_id,
                payload={
                    "link": target.erp_vendor_id,
                    "_subsidiaries": list(target.subsidiary_ids),
                },
                number=vendor.name,
                facts=facts,
                context={"linked_payload": {"_subsidiaries": list(target.subsidiary_ids)}},
            )
        if binding is not None:
            return None  # created by us earlier; details stay the ERP's to keep
        payload = mapper.vendor(vendor, subsidiary_id=ctx.policies.vendor_subsidiary_id)
        plan = Plan(
            operation=Operation.CREATE,
            erp_type=mapper.VENDOR,
            payload=payload,
            number=vendor.name,
            facts=facts,
        )
        if not ctx.policies.auto_create_vendors:
            plan.holds.append(Hold("UNKNOWN_VENDOR", {"vendor": vendor.name}))
        return plan

    def write_back(self, ctx, binding):
        data = json.dumps({"erp": ctx.kind, "type": binding.erp_type})
        ctx.procore.set_vendor_origin(
            binding.procore_id, Origin(ctx.origin_id(binding.erp_id), data)
        )
