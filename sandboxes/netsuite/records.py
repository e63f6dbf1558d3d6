"""HTTP handlers of ``/services/rest/record/v1`` and how records look on the wire (reference §1).

Creates/updates/deletes answer 204 with no body (``Location`` on create and upsert-create);
GET one renders references as ``{links, id, refName}``, enums as ``{id, refName}`` and sublists
as link stubs unless ``expandSubResources=true``; GET list returns ids + links only.
``Prefer: respond-async`` is not simulated: requests run synchronously (a server may ignore a
preference, RFC 7240) and ``X-NetSuite-Idempotency-Key`` is ignored, as on a real sync request.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from ..core import Req, dumps
from .errors import NONEXISTENT_ID_DETAIL, NSError
from .query import compile_q
from .schema import BY_LOWER, RecordType

if TYPE_CHECKING:
    from .app import NetSuiteSandbox

SINGULAR = "application/vnd.oracle.resource+json; type=singular"
COLLECTION = "application/vnd.oracle.resource+json; type=collection"
MAX_LIMIT = 1000
MAX_RESULTS = 100_000  # without SuiteAnalytics Connect (reference §1.4)


def base_url(req: Req) -> str:
    url = req.request.url
    return f"{url.scheme}://{url.netloc.decode()}/services/rest/record/v1"


def record_type(name: str) -> RecordType:
    rt = BY_LOWER.get(name.lower())
    if rt is None:
        raise NSError(404, f"Record type '{name}' does not exist.", "NONEXISTENT_ID")
    return rt


def _link(href: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": href}]


def page_links(
    href: str, params: dict[str, str], offset: int, limit: int, total: int
) -> list[dict[str, str]]:
    def at(off: int) -> str:
        return f"{href}?{urlencode({**params, 'limit': limit, 'offset': off})}"

    last = max(0, (total - 1) // limit * limit) if total else 0
    links = []
    if offset > 0:
        links.append({"rel": "previous", "href": at(max(0, offset - limit))})
        links.append({"rel": "first", "href": at(0)})
    if offset + limit < total:
        links.append({"rel": "next", "href": at(offset + limit)})
        links.append({"rel": "last", "href": at(last)})
    links.append({"rel": "self", "href": at(offset)})
    return links


def paging(req: Req) -> tuple[int, int]:
    try:
        limit = int(req.arg("limit") or MAX_LIMIT)
        offset = int(req.arg("offset") or 0)
    except ValueError:
        raise NSError(400, "Invalid value for limit or offset.", "INVALID_PARAMETER") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise NSError(
            400,
            f"Invalid value for query parameter 'limit': {limit}. The value must "
            f"be between 1 and {MAX_LIMIT}.",
            "INVALID_PARAMETER",
            query_param="limit",
        )
    if offset < 0 or offset >= MAX_RESULTS:
        raise NSError(
            400,
            f"Invalid value for query parameter 'offset': {offset}.",
            "INVALID_PARAMETER",
            query_param="offset",
        )
    return limit, offset


class RecordHandlers:
    def __init__(self, sandbox: NetSuiteSandbox) -> None:
        self.sb = sandbox

    # -- rendering ----------------------------------------------------------------------------

    def _ref(self, base: str, value: dict[str, Any]) -> dict[str, Any]:
        out = {"links": _link(f"{base}/{value.get('_type')}/{value['id']}"), "id": value["id"]}
        if value.get("refName") is not None:
            out["refName"] = value["refName"]
        return out

    def _value(self, base: str, value: Any, simple: bool) -> Any:
        if isinstance(value, dict):
            if "_type" in value:
                return self._ref(base, value)
            if "refName" in value and "id" in value:
                return value["id"] if simple else value
        return value

    def render(
        self,
        rt: RecordType,
        rec: dict[str, Any],
        base: str,
        *,
        expand: bool = False,
        fields: set[str] | None = None,
        simple: bool = False,
    ) -> dict[str, Any]:
        href = f"{base}/{rt.name}/{rec['id']}"
        out: dict[str, Any] = {"links": _link(href)}
        for key, value in rec.items():
            if key[0] == "_" or (fields is not None and key.lower() not in fields and key != "id"):
                continue
            if key in rt.sublists:
                out[key] = self.sublist(rt, rec, key, base, expand, simple)
            elif key in rt.multi_refs:
                out[key] = {"items": [self._ref(base, v) for v in value["items"]]}
            else:
                out[key] = self._value(base, value, simple)
        return out

    def sublist(
        self,
        rt: RecordType,
        rec: dict[str, Any],
        name: str,
        base: str,
        expand: bool,
        simple: bool = False,
    ) -> dict[str, Any]:
        href = f"{base}/{rt.name}/{rec['id']}/{name}"
        if not expand:
            return {"links": _link(href)}
        key = rt.sublists[name].key
        items = []
        for line in (rec.get(name) or {}).get("items", []):
            k = line.get(key)
            k = k["id"] if isinstance(k, dict) else k
            row = {"links": _link(f"{href}/{k}")}
            row.update({f: self._value(base, v, simple) for f, v in line.items()})
            items.append(row)
        return {
            "links": _link(href),
            "items": items,
            "totalResults": len(items),
            "count": len(items),
            "hasMore": False,
            "offset": 0,
        }

    # -- lookup -------------------------------------------------------------------------------

    def _find(self, rt: RecordType, rid: str) -> dict[str, Any] | None:
        if rid.startswith("eid:"):
            return self.sb.books.by_eid(rt.name, rid[4:])
        return self.sb.store.get(rt.name, rid)

    def _load(self, rt: RecordType, rid: str) -> dict[str, Any]:
        rec = self._find(rt, rid)
        if rec is None:
            raise NSError(404, NONEXISTENT_ID_DETAIL, "NONEXISTENT_ID")
        return rec

    @staticmethod
    def _strict(req: Req) -> bool:
        return (req.headers.get("x-netsuite-propertynamevalidation") or "").lower() == "error"

    @staticmethod
    def _body(req: Req) -> dict[str, Any]:
        body = req.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise NSError(400, "The request body must be a JSON object.", "INVALID_CONTENT")
        return body

    @staticmethod
    def _written(warnings: list[str], location: str | None = None) -> httpx.Response:
        headers = {}
        if location:
            headers["Location"] = location
        if warnings:
            headers["X-NetSuite-PropertyValidation"] = " ".join(warnings)
            headers["X-NetSuite-Warning"] = " ".join(warnings)
        return httpx.Response(204, headers=headers)

    # -- handlers -----------------------------------------------------------------------------

    def get_one(self, req: Req) -> httpx.Response:
        rt = record_type(req.params["rtype"])
        rec = self._load(rt, req.params["rid"])
        fields_arg = req.arg("fields")
        fields = {f.strip().lower() for f in fields_arg.split(",")} if fields_arg else None
        body = self.render(
            rt,
            rec,
            base_url(req),
            expand=(req.arg("expandSubResources") or "").lower() == "true",
            fields=fields,
            simple=(req.arg("simpleEnumFormat") or "").lower() == "true",
        )
        return httpx.Response(200, content=dumps(body), headers={"content-type": SINGULAR})

    def get_sublist(self, req: Req) -> httpx.Response:
        rt = record_type(req.params["rtype"])
        rec = self._load(rt, req.params["rid"])
        name = next((s for s in rt.sublists if s.lower() == req.params["sub"].lower()), None)
        if name is None:
            raise NSError(404, f"Invalid subresource '{req.params['sub']}'.", "NONEXISTENT_ID")
        body = self.sublist(rt, rec, name, base_url(req), True)
        line = req.params.get("line")
        if line is not None:
            match = [i for i in body["items"] if i["links"][0]["href"].endswith(f"/{line}")]
            if not match:
                raise NSError(404, NONEXISTENT_ID_DETAIL, "NONEXISTENT_ID")
            body = match[0]
        return httpx.Response(200, content=dumps(body), headers={"content-type": SINGULAR})

    def get_list(self, req: Req) -> httpx.Response:
        rt = record_type(req.params["rtype"])
        limit, offset = paging(req)
        rows = self.sb.store.collection(rt.name)
        q = req.arg("q")
        if q:
            pred = compile_q(rt, q, self.sb.date_format)
            ids = [rid for rid, rec in rows.items() if pred(rec)]
            total, page = len(ids), ids[offset : offset + limit]
        else:
            total, page = len(rows), list(islice(rows.keys(), offset, offset + limit))
        base = base_url(req)
        params = {"q": q} if q else {}
        body = {
            "links": page_links(f"{base}/{rt.name}", params, offset, limit, total),
            "count": len(page),
            "hasMore": offset + len(page) < total,
            "items": [{"links": _link(f"{base}/{rt.name}/{rid}"), "id": rid} for rid in page],
            "offset": offset,
            "totalResults": total,
        }
        return httpx.Response(200, content=dumps(body), headers={"content-type": COLLECTION})

    def create(self, req: Req) -> httpx.Response:
        rt = record_type(req.params["rtype"])
        rec, warnings = self.sb.books.create(rt, self._body(req), strict=self._strict(req))
        return self._written(warnings, f"{base_url(req)}/{rt.name}/{rec['id']}")

    def patch(self, req: Req) -> httpx.Response:
        rt = record_type(req.params["rtype"])
        rec = self._load(rt, req.params["rid"])
        replace = frozenset(
            s
            for s in rt.sublists
            if s.lower()
            in {x.strip().lower() for x in (req.arg("replace") or "").split(",") if x.strip()}
        )
        warnings = self.sb.books.update(
            rt, rec, self._body(req), replace=replace, strict=self._strict(req)
        )
        return self._written(warnings)

    def upsert(self, req: Req) -> httpx.Response:
        rt = record_type(req.params["rtype"])
        rid = req.params["rid"]
        if not rid.startswith("eid:"):
            # [OAS]: PUT exists only as upsert by external id (reference §1.2).
            raise NSError(
                405,
                "PUT is supported only with an external ID (eid:) in the URL.",
                "INVALID_REQUEST",
            )
        body = self._body(req)
        body.pop("externalId", None)
        rec = self._find(rt, rid)
        if rec is not None:
            replace = frozenset(s for s in rt.sublists if s in (req.arg("replace") or ""))
            warnings = self.sb.books.update(
                rt, rec, body, replace=replace, strict=self._strict(req)
            )
            return self._written(warnings)
        rec, warnings = self.sb.books.create(
            rt, body, strict=self._strict(req), external_id=rid[4:]
        )
        return self._written(warnings, f"{base_url(req)}/{rt.name}/{rec['id']}")

    def delete(self, req: Req) -> httpx.Response:
        rt = record_type(req.params["rtype"])
        rec = self._load(rt, req.params["rid"])
        self.sb.books.delete(rt, rec)
        return httpx.Response(204)
