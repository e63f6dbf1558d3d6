"""Batch (§1.6) and Change Data Capture (§1.7) for the QuickBooks sandbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from ..core import Req, json_response
from . import entities as E
from .errors import QBOError, business, required

BATCH_MAX_ITEMS = 30  # §1.6 (API reference, [PQ], node-quickbooks; API Explorer test in 2025)
BATCH_BID_MAX = 10  # §1.4: with a requestid, each bId may be at most 10 chars
CDC_MAX_OBJECTS = 1000  # §1.7
CDC_LOOKBACK_DAYS = 30  # §1.7: documented, not enforced in the 2020 recording -> opt-in
CDC_ENTITIES = set(E.SPECS) - {"CompanyInfo"}


class BulkMixin:
    # -- batch (§1.6) ----------------------------------------------------------------------------

    def _batch(self, req: Req, realm: str) -> httpx.Response:
        body = req.json()
        items = body.get("BatchItemRequest") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise required("BatchItemRequest")
        if len(items) > BATCH_MAX_ITEMS:
            # The real fault for >30 items is not recorded; a business validation fault for the
            # whole request is the sandbox's choice.
            raise business(
                f"The maximum number of payloads in a single BatchItemRequest is {BATCH_MAX_ITEMS};"
                f" this one has {len(items)}."
            )
        has_requestid = req.arg("requestid") is not None
        out = []
        for item in items:
            out.append(self._batch_item(realm, item, has_requestid))
        return json_response(200, {"BatchItemResponse": out, "time": self.fmt_time(realm)})

    def _batch_item(self, realm: str, item: Any, has_requestid: bool) -> dict[str, Any]:
        bid = str(item.get("bId", "")) if isinstance(item, dict) else ""
        try:
            if not isinstance(item, dict):
                raise QBOError("2010", "BatchItemRequest entries must be objects")
            if has_requestid and len(bid) > BATCH_BID_MAX:
                raise business(
                    f"bId cannot be longer than {BATCH_BID_MAX} characters with requestid"
                )
            if "Query" in item:
                return {"QueryResponse": self.run_query(realm, str(item["Query"])), "bId": bid}
            entity = next((k for k in item if k in E.SPECS), None)
            if entity is None:
                raise QBOError("2010", "BatchItemRequest has no entity")
            operation = item.get("operation", "create")
            includes = {item.get("optionsData", "")} if item.get("optionsData") else set()
            result = self.apply_operation(realm, entity, operation, item[entity], includes)
            return {entity: result, "bId": bid}
        except QBOError as err:
            return {"Fault": err.fault(), "bId": bid}

    # -- CDC (§1.7) ------------------------------------------------------------------------------

    def _cdc(self, req: Req, realm: str) -> httpx.Response:
        names = req.arg("entities")
        since_raw = req.arg("changedSince")
        if not names:
            raise required("entities")
        if not since_raw:
            raise required("changedSince")
        since = self._parse_since(realm, since_raw.replace(" ", "+"))
        if self.cdc_enforce_lookback and since < self.clock.time() - CDC_LOOKBACK_DAYS * 86400:
            raise QBOError(
                "2010",
                f"changedSince must be within the last {CDC_LOOKBACK_DAYS} days",
                "changedSince",
            )
        wanted = []
        for name in names.split(","):
            entity = E.BY_LOWER.get(name.strip().lower())
            if entity is None or entity not in CDC_ENTITIES:
                raise QBOError("2010", f"Unsupported entity for CDC: {name.strip()}", "entities")
            if entity not in wanted:
                wanted.append(entity)
        budget = CDC_MAX_OBJECTS
        groups = []
        deleted = self.deleted(realm)
        for entity in wanted:
            stamps = self.stamps.get(f"{realm}:{entity}", {})
            changed = sorted((t, rid) for rid, t in stamps.items() if t >= since)
            coll = self.coll(realm, entity)
            rows = [coll[rid] for _, rid in changed if rid in coll]
            gone = sorted(
                (d for d in deleted.values() if d["entity"] == entity and d["t"] >= since),
                key=lambda d: d["t"],
            )
            rows += [d["stub"] for d in gone]
            rows = rows[:budget]
            budget -= len(rows)
            groups.append(
                {entity: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {}
            )
        body = {"CDCResponse": [{"QueryResponse": groups}], "time": self.fmt_time(realm)}
        return json_response(200, body)

    def _parse_since(self, realm: str, raw: str) -> float:
        try:
            if len(raw) == 10:
                moment = datetime.fromisoformat(raw).replace(tzinfo=self.company_tz(realm))
            else:
                moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=self.company_tz(realm))
        except ValueError as exc:
            raise QBOError("2010", f"Invalid changedSince: {raw}", "changedSince") from exc
        return moment.timestamp()
