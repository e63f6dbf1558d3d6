"""Projects → NetSuite job under the mapped subsidiary / QuickBooks sub-customer.

A project whose mapping names an ERP job already is linked (no write); otherwise the job is
created under the mapped customer. Either way Procore learns the ERP id (origin_id)."""

from __future__ import annotations

import json

from connectors.procore.writes import Origin
from sync.flows.base import Flow, Plan, Source
from sync.mappers import netsuite as ns
from sync.mappers import quickbooks as qbo
from sync.models import Kind, Operation


class ProjectsFlow(Flow):
    name = "projects"
    binding_type = "project"

    def fetch(self, ctx, procore_id=None):
        for project, _target in ctx.projects():
            if procore_id and project.id != str(procore_id):
                continue
            yield Source(project.id, project, project_id=project.id)

    def propose(self, ctx, source: Source, binding):
        project = source.record
        target = ctx.lookup.lookup.project(project.id)  # the mapping itself, not our binding
        mapper = ns if ctx.kind == Kind.NETSUITE else qbo
        facts = {
            "procore_project_id": project.id,
            "project": project.name,
            "project_name": project.name,
            "subsidiary": target.subsidiary_id or "",
            "currency": target.currency,
        }
        if target.erp_job_id:
            return Plan(
                operation=Operation.LINK,
                erp_type=mapper.JOB,
                erp_id=target.erp_job_id,
                payload={"link": target.erp_job_id},
                number=project.project_number or project.name,
                facts=facts,
            )
        payload = mapper.job(project, target)
        return Plan(
            operation=Operation.UPDATE if binding else Operation.CREATE,
            erp_type=mapper.JOB,
            payload=payload,
            number=project.project_number or project.name,
            facts=facts,
        )

    def write_back(self, ctx, binding):
        data = json.dumps({"erp": ctx.kind, "type": binding.erp_type, "number": binding.erp_number})
        ctx.procore.set_project_origin(
            binding.procore_id, Origin(ctx.origin_id(binding.erp_id), data)
        )
