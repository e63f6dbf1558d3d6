"""Acting as a person in Procore (issue 3 "Faults, time and control").

Each action is a plain method (tests and the demo call them in-process) and a route under
``/_sandbox/procore/``. A person is not an API app: events carry
``metadata.source_application_id = null`` and the person's user id, so an integrator that drops
echoes of its own writes still hears these. Persons may do what the UI lets an admin do: edit
the SOV of an approved commitment (un-approve, edit, re-approve in one step).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import Req

from .auth import DEMO_USER_ID
from .base import public
from .errors import pjson


class ControlMixin:
    store: Any

    @contextmanager
    def as_person(self, user_id: int = DEMO_USER_ID) -> Iterator[None]:
        saved = (
            getattr(self._actor, "user_id", None),
            getattr(self._actor, "application_id", None),
        )
        self._actor.user_id, self._actor.application_id = user_id, None
        try:
            yield
        finally:
            self._actor.user_id, self._actor.application_id = saved

    # -- actions -----------------------------------------------------------------------------

    def person_edit_commitment(
        self,
        commitment_id: int,
        *,
        status: str | None = None,
        title: str | None = None,
        line_id: int | None = None,
        amount: Any = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Change a line's amount/description and/or the header (status, title)."""
        with self.as_person():
            rec = self.get_rec("commitments", commitment_id)
            if line_id is not None:
                line = self.get_rec("commitment_line_items", line_id)
                changes: dict[str, Any] = {}
                if amount is not None:
                    changes["amount"] = amount
                if description is not None:
                    changes["description"] = description
                self.update_line(rec, line, changes, person=True)
            header = {k: v for k, v in (("status", status), ("title", title)) if v is not None}
            if header:
                self.update_commitment(rec, header, person=True)
            return rec

    def person_add_commitment_line(self, commitment_id: int, **data: Any) -> dict[str, Any]:
        with self.as_person():
            return self.create_line(self.get_rec("commitments", commitment_id), data, person=True)

    def person_create_change_order(
        self,
        commitment_id: int,
        lines: list[dict[str, Any]],
        *,
        title: str = "Change order",
        status: str = "pending",
    ):
        with self.as_person():
            contract = self.get_rec("commitments", commitment_id)
            project = self.store.get("projects", contract["_scope"])
            return self.create_cco(
                project,
                {
                    "contract_id": contract["id"],
                    "title": title,
                    "status": status,
                    "line_items": lines,
                },
            )

    def person_approve_change_order(self, cco_id: int) -> dict[str, Any]:
        with self.as_person():
            return self.update_cco(self.get_rec("change_orders", cco_id), {"status": "approved"})

    def person_create_requisition(
        self,
        commitment_id: int,
        amounts: dict[int, Any] | list[Any] | None = None,
        *,
        invoice_number: str | None = None,
        status: str = "under_review",
        materials: dict[int, Any] | None = None,
    ) -> dict[str, Any]:
        """A sub's pay app. ``amounts``: work completed this period per commitment line id (or
        a list in line order)."""
        with self.as_person():
            contract = self.get_rec("commitments", commitment_id)
            rec = self.create_requisition(
                contract, {"invoice_number": invoice_number, "status": "draft"}
            )
            if isinstance(amounts, list):
                amounts = {
                    it["line_item_id"]: a for it, a in zip(rec["_items"], amounts, strict=False)
                }
            for item in rec["_items"]:
                data = {}
                if amounts and item["line_item_id"] in amounts:
                    data["work_completed_this_period"] = amounts[item["line_item_id"]]
                if materials and item["line_item_id"] in materials:
                    data["materials_presently_stored"] = materials[item["line_item_id"]]
                if data:
                    self.update_requisition_item(rec, item["id"], data, person=True)
            if status != "draft":
                self.update_requisition(rec, {"status": status}, person=True)
            return rec

    def person_approve_requisition(self, requisition_id: int) -> dict[str, Any]:
        with self.as_person():
            rec = self.get_rec("requisitions", requisition_id)
            return self.update_requisition(rec, {"status": "approved"}, person=True)

    def person_delete_commitment(self, commitment_id: int) -> dict[str, Any]:
        with self.as_person():
            rec = self.get_rec("commitments", commitment_id)
            self.delete_commitment(rec, person=True)
            return rec

    def person_create_vendor(self, company_id: int, name: str, **fields: Any) -> dict[str, Any]:
        with self.as_person():
            return self.create_vendor(int(company_id), {"name": name, **fields})

    # -- routes ------------------------------------------------------------------------------

    def _control_action_routes(self) -> None:
        r = self.api
        base = "/_sandbox/procore"
        r("POST", f"{base}/commitments/{{id}}/edit", self._ctl_edit, write=False)
        r("POST", f"{base}/commitments/{{id}}/delete", self._ctl_delete, write=False)
        r("POST", f"{base}/commitments/{{id}}/change_orders", self._ctl_cco, write=False)
        r("POST", f"{base}/commitments/{{id}}/requisitions", self._ctl_req, write=False)
        r("POST", f"{base}/change_orders/{{id}}/approve", self._ctl_approve_cco, write=False)
        r("POST", f"{base}/requisitions/{{id}}/approve", self._ctl_approve_req, write=False)
        r("POST", f"{base}/companies/{{company_id}}/vendors", self._ctl_vendor, write=False)

    def _args(self, req: Req) -> dict[str, Any]:
        data = req.json() or {}
        return data if isinstance(data, dict) else {}

    def _ctl_edit(self, req: Req) -> httpx.Response:
        a = self._args(req)
        rec = self.person_edit_commitment(
            int(req.params["id"]),
            status=a.get("status"),
            title=a.get("title"),
            line_id=a.get("line_id"),
            amount=a.get("amount"),
            description=a.get("description"),
        )
        return pjson(200, self.render_commitment(rec, True))

    def _ctl_delete(self, req: Req) -> httpx.Response:
        return pjson(200, public(self.person_delete_commitment(int(req.params["id"]))))

    def _ctl_cco(self, req: Req) -> httpx.Response:
        a = self._args(req)
        rec = self.person_create_change_order(
            int(req.params["id"]),
            a.get("line_items") or [],
            title=a.get("title", "Change order"),
            status=a.get("status", "pending"),
        )
        return pjson(201, public(rec))

    def _ctl_req(self, req: Req) -> httpx.Response:
        a = self._args(req)
        amounts = a.get("amounts")
        if isinstance(amounts, dict):
            amounts = {int(k): Decimal(str(v)) for k, v in amounts.items()}
        rec = self.person_create_requisition(
            int(req.params["id"]),
            amounts,
            invoice_number=a.get("invoice_number"),
            status=a.get("status", "under_review"),
        )
        return pjson(201, self.render_requisition(rec, True))

    def _ctl_approve_cco(self, req: Req) -> httpx.Response:
        return pjson(200, public(self.person_approve_change_order(int(req.params["id"]))))

    def _ctl_approve_req(self, req: Req) -> httpx.Response:
        return pjson(200, public(self.person_approve_requisition(int(req.params["id"]))))

    def _ctl_vendor(self, req: Req) -> httpx.Response:
        a = self._args(req)
        name = a.pop("name", "New Vendor")
        return pjson(
            201, public(self.person_create_vendor(int(req.params["company_id"]), name, **a))
        )
