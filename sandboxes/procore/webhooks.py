"""Webhooks (§7): the v1.0 hooks/triggers API and deliveries through the base outbox.

Every API write and every control action calls :meth:`emit`; each hook in the record's company
(or project) with a matching trigger gets one delivery POSTed to ``destination_url`` with the
hook's ``destination_headers`` (no signature: none is documented, §7.3). Payload per the hook's
``api_version``: ``v2`` (legacy v2.0, default), ``v3`` (adds ``related_resources``), ``v4``
(string ids, ``reason``, ``resource_type``, ULID ``id``). Decision: v4 payloads also carry
``metadata`` (string ids) so integrators can drop echoes of their own writes on every version.
Resource names for financial tools are unverified (§7.3); ``GET /webhooks/resources`` lists the
ones this sandbox emits.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from sandboxes.core import Req

from .base import as_int, body_of, public
from .errors import ApiError, bad_request, invalid, not_found, pdumps, pjson

RESOURCES = {
    "Projects": "Core",
    "Company Vendors": "Directory",
    "Cost Codes": "Financials",
    "Work Order Contracts": "Financials",
    "Purchase Order Contracts": "Financials",
    "Commitment Change Orders": "Financials",
    "Requisitions": "Financials",
    "Contract Payments": "Financials",
    "Prime Contracts": "Financials",
    "Payment Applications": "Financials",
    "Direct Costs": "Financials",
    "Direct Cost Line Items": "Financials",
    "ERP Requests": "ERP",
}
COLL_RESOURCE = {
    "projects": "Projects",
    "vendors": "Company Vendors",
    "cost_codes": "Cost Codes",
    "change_orders": "Commitment Change Orders",
    "requisitions": "Requisitions",
    "contract_payments": "Contract Payments",
    "prime_contracts": "Prime Contracts",
    "payment_applications": "Payment Applications",
    "direct_costs": "Direct Costs",
    "direct_cost_line_items": "Direct Cost Line Items",
}
EVENT_TYPES = {"create", "update", "delete"}
NAMESPACE = re.compile(r"^[a-z0-9-]+$")  # §7.1
LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver", "::1"}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class WebhooksMixin:
    store: Any

    def _webhook_routes(self) -> None:
        r = self.api
        base = "/rest/v1.0/webhooks/hooks"
        r("GET", "/rest/v1.0/webhooks/resources", self._wh_resources)
        r("GET", base, self._hooks)
        r("POST", base, self._hook_create)
        r("GET", f"{base}/{{id}}", self._hook_show)
        r("PATCH", f"{base}/{{id}}", self._hook_patch)
        r("DELETE", f"{base}/{{id}}", self._hook_delete)
        r("GET", f"{base}/{{hid}}/triggers", self._triggers)
        r("POST", f"{base}/{{hid}}/triggers", self._trigger_create)
        r("POST", f"{base}/{{hid}}/triggers/bulk", self._triggers_bulk)
        r("DELETE", f"{base}/{{hid}}/triggers/bulk", self._triggers_bulk_delete)
        r("DELETE", f"{base}/{{hid}}/triggers/{{id}}", self._trigger_delete)
        r("GET", f"{base}/{{hid}}/deliveries", self._deliveries)

    # -- events ------------------------------------------------------------------------------

    def _ulid(self) -> str:
        value = (int(self.clock.time() * 1000) << 80) | self.injector.random.getrandbits(80)
        return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))

    def emit_changed(self, coll: str, rec: dict[str, Any]) -> None:
        name = COLL_RESOURCE.get(coll)
        if coll == "commitments":
            name = self.commitment_resource(rec)
        if name:
            self.emit(
                name,
                "update",
                rec,
                project_id=rec.get("_project_id")
                or (rec["_scope"] if coll in ("commitments", "direct_costs") else None),
            )

    def emit(
        self,
        resource: str,
        event_type: str,
        rec: dict[str, Any],
        *,
        project_id: int | None = None,
        related: tuple[str, int] | None = None,
    ) -> None:
        company_id = rec.get("_company_id")
        hooks = self.scopes.get(("webhook_hooks", company_id))
        if not hooks:
            return
        if resource == "Company Vendors":
            project_id = None  # §7.2: company-directory events have no project_id
        matches = []
        for hook_id in hooks:
            hook = self.store.get("webhook_hooks", hook_id)
            owner_project = hook["owned_by_project_id"]
            if owner_project is not None and owner_project != project_id:
                continue
            for trig in self.scoped("webhook_triggers", hook_id):
                if (
                    trig["resource_name"] == resource
                    and trig["event_type"] == event_type
                    and trig["resource_id"] in (None, rec["id"])
                ):
                    matches.append(hook)
                    break
        if not matches:
            return
        event_id = int(self.store.next_id("_events"))
        ulid = self._ulid()
        stamp = datetime.fromtimestamp(self.clock.time(), tz=UTC)
        timestamp = stamp.isoformat(timespec="microseconds").replace("+00:00", "Z")
        actor_user = getattr(self._actor, "user_id", None) or self.store.get("users", 5447)["id"]
        app_id = getattr(self._actor, "application_id", None)
        v2: dict[str, Any] = {
            "id": event_id,
            "ulid": ulid,
            "timestamp": timestamp,
            "metadata": {
                "source_user_id": actor_user,
                "source_project_id": project_id,
                "source_operation_id": None,
                "source_company_id": company_id,
                "source_application_id": app_id,
            },
            "user_id": actor_user,
            "company_id": company_id,
            "project_id": project_id,
            "api_version": "v2.0",
            "event_type": event_type,
            "resource_name": resource,
            "resource_id": rec["id"],
        }
        if project_id is None:
            del v2["project_id"]
        for hook in matches:
            version = str(hook["api_version"]).lstrip("v").split(".")[0]
            if version == "4":
                body = {
                    "id": ulid,
                    "timestamp": timestamp,
                    "reason": event_type,
                    "company_id": str(company_id),
                    "user_id": str(actor_user),
                    "resource_type": resource,
                    "resource_id": str(rec["id"]),
                    "metadata": {
                        k: None if v is None else str(v) for k, v in v2["metadata"].items()
                    },
                }
                if project_id is not None:
                    body["project_id"] = str(project_id)
            elif version == "3":
                body = {
                    **v2,
                    "api_version": "v3.0",
                    "related_resources": (
                        [{"id": related[1], "name": related[0]}] if related else []
                    ),
                }
            else:
                body = v2
            headers = {"Content-Type": "application/json"}
            headers.update(hook["destination_headers"] or {})
            delivery = self.outbox.enqueue(hook["destination_url"], headers, pdumps(body))
            self.delivery_events[delivery.id] = {
                "hook_id": hook["id"],
                "event": body,
                "event_id": event_id,
                "started_at": time.time(),
            }

    # -- hooks -------------------------------------------------------------------------------

    def _owner(self, req: Req, data: dict[str, Any]) -> tuple[int, int | None]:
        raw_project = data.get("project_id") or req.arg("project_id")
        if raw_project is not None:
            project = self.get_rec(
                "projects", as_int(raw_project, "project_id"), company_id=self.company_id()
            )
            return project["_company_id"], project["id"]
        raw = data.get("company_id") or req.arg("company_id")
        if raw is None:
            raise bad_request("company_id or project_id is required")
        return self.company_param(req, raw), None

    def _hook_fields(self, rec: dict[str, Any], hook: dict[str, Any]) -> None:
        if "namespace" in hook and not NAMESPACE.match(str(hook["namespace"] or "")):
            raise invalid("namespace", "is invalid")
        if "destination_url" in hook:
            url = urlsplit(str(hook["destination_url"] or ""))
            local = url.scheme == "http" and url.hostname in LOCAL_HOSTS
            if url.scheme != "https" and not local:  # §7.3: HTTPS endpoints only
                raise invalid("destination_url", "must use https")
            rec["destination_url"] = hook["destination_url"]
        if "api_version" in hook:
            if str(hook["api_version"]).lstrip("v").split(".")[0] not in ("2", "3", "4"):
                raise invalid("api_version", "is not supported")
            rec["api_version"] = hook["api_version"]
        if "namespace" in hook:
            rec["namespace"] = hook["namespace"]
        if "destination_headers" in hook:
            rec["destination_headers"] = dict(hook["destination_headers"] or {})

    def _hook(self, req: Req, key: str = "id") -> dict[str, Any]:
        return self.get_rec("webhook_hooks", req.params[key], company_id=self.company_id())

    def _hooks(self, req: Req) -> httpx.Response:
        cid, pid = self._owner(req, {})
        ns, version = req.arg("namespace"), req.arg("api_version")
        rows = [
            h
            for h in self.scoped("webhook_hooks", cid)
            if h["owned_by_project_id"] == pid
            and (ns in (None, "*") or h["namespace"] == ns)
            and (version is None or h["api_version"] == version)
        ]
        return pjson(200, [public(h) for h in rows])

    def _hook_create(self, req: Req) -> httpx.Response:
        data = body_of(req)
        cid, pid = self._owner(req, data)
        hook = data.get("hook")
        if not isinstance(hook, dict) or not hook.get("destination_url"):
            raise invalid("destination_url", "can't be blank")
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "api_version": "v2",
            "namespace": None,
            "destination_url": None,
            "destination_headers": {},
            "owned_by_company_id": None if pid else cid,
            "owned_by_project_id": pid,
            "owned_by_user_id": self.ctx.user_id,
        }
        self._hook_fields(rec, hook)
        self.insert("webhook_hooks", rec, scope=cid, company_id=cid)
        return pjson(201, public(rec))

    def _hook_show(self, req: Req) -> httpx.Response:
        return pjson(200, public(self._hook(req)))

    def _hook_patch(self, req: Req) -> httpx.Response:
        rec = self._hook(req)
        self._hook_fields(rec, body_of(req, "hook"))
        self.touch(rec)
        return pjson(200, public(rec))

    def _hook_delete(self, req: Req) -> httpx.Response:
        rec = self._hook(req)
        self.store.delete("webhook_hooks", rec["id"])
        self.scopes[("webhook_hooks", rec["_company_id"])].pop(rec["id"], None)
        return httpx.Response(204)

    # -- triggers ----------------------------------------------------------------------------

    def add_trigger(self, hook: dict[str, Any], trigger: dict[str, Any]) -> dict[str, Any]:
        if trigger.get("resource_name") not in RESOURCES:
            raise invalid("resource_name", "is not a valid resource")
        if trigger.get("event_type") not in EVENT_TYPES:
            raise invalid("event_type", "is not included in the list")
        rec = {
            "id": self.new_id(),
            "webhook_hook_id": hook["id"],
            "resource_name": trigger["resource_name"],
            "resource_id": trigger.get("resource_id"),
            "event_type": trigger["event_type"],
            "company_id": hook["_company_id"],
            "project_id": hook["owned_by_project_id"],
            "user_id": self.ctx.user_id,
        }
        return self.insert(
            "webhook_triggers", rec, scope=hook["id"], company_id=hook["_company_id"]
        )

    def _triggers(self, req: Req) -> httpx.Response:
        return pjson(
            200, [public(t) for t in self.scoped("webhook_triggers", self._hook(req, "hid")["id"])]
        )

    def _trigger_create(self, req: Req) -> httpx.Response:
        hook = self._hook(req, "hid")
        trigger = body_of(req, "trigger")
        return pjson(201, public(self.add_trigger(hook, trigger)))

    def _triggers_bulk(self, req: Req) -> httpx.Response:
        hook = self._hook(req, "hid")
        items = body_of(req).get("triggers")
        if not isinstance(items, list):
            raise bad_request("triggers is missing")
        created, errors = [], []
        for item in items:
            try:
                created.append(public(self.add_trigger(hook, item)))
            except ApiError as exc:
                errors.append({**item, "errors": exc.errors})
        return pjson(201, {"entities": created, "errors": errors})

    def _triggers_bulk_delete(self, req: Req) -> httpx.Response:
        hook = self._hook(req, "hid")
        ids = {str(i) for i in (body_of(req).get("ids") or body_of(req).get("trigger_ids") or [])}
        for trig in self.scoped("webhook_triggers", hook["id"]):
            if not ids or str(trig["id"]) in ids:
                self._drop_trigger(trig)
        return httpx.Response(204)

    def _drop_trigger(self, trig: dict[str, Any]) -> None:
        self.store.delete("webhook_triggers", trig["id"])
        self.scopes[("webhook_triggers", trig["_scope"])].pop(trig["id"], None)

    def _trigger_delete(self, req: Req) -> httpx.Response:
        hook = self._hook(req, "hid")
        trig = self.get_rec("webhook_triggers", req.params["id"], company_id=self.company_id())
        if trig["_scope"] != hook["id"]:
            raise not_found()
        self._drop_trigger(trig)
        return httpx.Response(204)

    # -- deliveries and resources ------------------------------------------------------------

    def _deliveries(self, req: Req) -> httpx.Response:
        """Cursor paging (§2): ``page_size`` (default 100) and ``page_start`` (last id seen)."""
        hook = self._hook(req, "hid")
        status = req.arg("filter[status]") or req.arg("filters[status]") or "any"
        size = as_int(req.arg("page_size") or 100, "page_size")
        start = as_int(req.arg("page_start") or 0, "page_start")
        outbox = self.outbox
        rows = []
        for outcome, items in (
            ("ok", outbox.sent),
            ("retried", outbox.pending),
            ("discarded", outbox.discarded),
        ):
            for d in items:
                meta = self.delivery_events.get(d.id)
                if meta is None or meta["hook_id"] != hook["id"] or d.id <= start:
                    continue
                shown = outcome if d.attempts or outcome != "retried" else None
                if d.attempts and d.status is None and outcome == "retried":
                    shown = "failed"
                kind = {
                    "ok": "successful",
                    "retried": "failing",
                    "failed": "failing",
                    "discarded": "discarded",
                    None: "failing",
                }[shown]
                if status not in ("any", kind):
                    continue
                rows.append(
                    {
                        "id": d.id,
                        "event_id": meta["event_id"],
                        "event": meta["event"],
                        "outcome": shown,
                        "response_status": d.status,
                        "response_headers": {},
                        "response_body": None,
                        "response_error": d.error,
                        "started_at": datetime.fromtimestamp(meta["started_at"], UTC).isoformat(),
                        "completed_at": d.delivered_at
                        and datetime.fromtimestamp(d.delivered_at, UTC).isoformat(),
                    }
                )
        rows.sort(key=lambda r: r["id"])
        return pjson(200, rows[:size])

    def _wh_resources(self, req: Req) -> httpx.Response:
        return pjson(
            200,
            [
                {
                    "name": name,
                    "product_category": cat,
                    "create": True,
                    "update": True,
                    "delete": True,
                    "except": [],
                }
                for name, cat in RESOURCES.items()
            ],
        )
