"""Plumbing every Procore resource uses: ids, timestamps, scoped indexes, paging and filters.

Records live in ``self.store`` in the shape the API returns them, plus a few internal keys that
start with ``_`` (never rendered): ``_scope`` (the company, project or parent id the record is
listed under), ``_company_id``, ``_u``/``_c`` (updated/created epoch seconds, what
``filters[updated_at]`` compares).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import httpx

from sandboxes.core import Req, Store

from .errors import ApiError, bad_request, invalid, not_found, pjson

# Pagination (§2). Default 100: the Ruby README's examples use per_page=100 and the default is
# otherwise unverified. Hard maximum 10,000: the only documented v1 hard limit (older pagination
# page); larger values are clamped and ``Per-Page`` reports the clamped value. GET
# /rest/v1.1/projects has its own documented default 100 / max 300.
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 10_000
ORIGIN_FIELDS = ("origin_id", "origin_data", "origin_code")
CENT = Decimal("0.01")


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k[0] != "_"}


def money(value: Any, field: str = "amount") -> Decimal:
    if value is None or value == "":
        return Decimal("0.00")
    try:
        return Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError) as exc:
        raise invalid(field, "is not a number") from exc


def as_int(value: Any, field: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise bad_request(f"{field} is invalid") from exc


def iso_seconds(epoch: float) -> str:
    """Procore timestamps: UTC, whole seconds, ``Z`` ("2020-10-19T19:17:59Z", §5.4)."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_moment(text: str, end: bool) -> float:
    text = text.strip()
    try:
        if len(text) == 10:  # date only (§5 "date-only YYYY-MM-DD...YYYY-MM-DD also works")
            day = datetime.fromisoformat(text).date()
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            if end:  # decision: a date-only end includes that whole day
                moment += timedelta(days=1, microseconds=-1)
            return moment.timestamp()
        moment = datetime.fromisoformat(text.replace(" ", "+"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except ValueError as exc:
        raise bad_request(f"invalid date range {text!r}") from exc


def parse_range(value: str) -> tuple[float, float]:
    """``<start>...<end>`` (§7.4); either side may be empty (open range, a decision)."""
    start, sep, end = value.partition("...")
    if not sep:
        raise bad_request("date range filters take <start>...<end>")
    lo = _parse_moment(start, False) if start.strip() else -math.inf
    hi = _parse_moment(end, True) if end.strip() else math.inf
    return lo, hi


class RecordsMixin:
    """Store helpers; mixed into :class:`ProcoreSandbox`."""

    store: Store
    clock: Any
    max_per_page: int

    def _init_indexes(self) -> None:
        self.scopes: dict[tuple[str, int], dict[int, dict[str, Any]]] = {}
        self.origins: dict[tuple[str, int], dict[str, int]] = {}

    def _rebuild_indexes(self) -> None:
        self._init_indexes()
        for name, rows in self.store.collections.items():
            if name.startswith("_"):
                continue
            for rec in rows.values():
                if "_scope" in rec:
                    self.scopes.setdefault((name, rec["_scope"]), {})[rec["id"]] = rec
                if rec.get("origin_id") is not None and "_company_id" in rec:
                    key = (name, rec["_company_id"])
                    self.origins.setdefault(key, {})[str(rec["origin_id"])] = rec["id"]

    # -- ids and time ------------------------------------------------------------------------

    def new_id(self) -> int:
        # One id space for every object type: a client that mixes up a requisition id and a
        # commitment id gets a 404 instead of silently reading the wrong record.
        return int(self.store.next_id("_ids"))

    def now_iso(self) -> str:
        return iso_seconds(self.clock.time())

    def insert(
        self, coll: str, rec: dict[str, Any], *, scope: int, company_id: int
    ) -> dict[str, Any]:
        now = self.clock.time()
        rec.setdefault("id", self.new_id())
        rec.setdefault("created_at", iso_seconds(now))
        rec["updated_at"] = iso_seconds(now)
        rec["_c"] = rec["_u"] = now
        rec["_scope"] = scope
        rec["_company_id"] = company_id
        if rec.get("origin_id") is not None:
            self.claim_origin(coll, rec, rec["origin_id"])
        self.store.collection(coll)[str(rec["id"])] = rec
        self.scopes.setdefault((coll, scope), {})[rec["id"]] = rec
        return rec

    def touch(self, rec: dict[str, Any]) -> None:
        now = self.clock.time()
        rec["_u"] = now
        rec["updated_at"] = iso_seconds(now)

    def claim_origin(self, coll: str, rec: dict[str, Any], origin_id: Any) -> None:
        """origin_id is unique per company and object type (§5, using_sync_actions)."""
        index = self.origins.setdefault((coll, rec["_company_id"]), {})
        old = rec.get("origin_id")
        if origin_id is not None:
            holder = index.get(str(origin_id))
            if holder is not None and holder != rec.get("id"):
                raise invalid("origin_id", "has already been taken")
        if old is not None and index.get(str(old)) == rec.get("id"):
            del index[str(old)]
        if origin_id is not None:
            index[str(origin_id)] = rec["id"]
        rec["origin_id"] = None if origin_id is None else str(origin_id)

    def by_origin(self, coll: str, company_id: int, origin_id: Any) -> dict[str, Any] | None:
        rid = self.origins.get((coll, company_id), {}).get(str(origin_id))
        return None if rid is None else self.store.get(coll, rid)

    def get_rec(
        self, coll: str, rid: Any, *, company_id: int | None = None, deleted: bool = False
    ) -> dict[str, Any]:
        """A record by id, or 404 (also for another company's record: §4 "404 not 403")."""
        rec = self.store.collections.get(coll, {}).get(str(rid))
        if rec is None or (company_id is not None and rec.get("_company_id") != company_id):
            raise not_found()
        if rec.get("deleted_at") and not deleted:
            raise not_found()
        return rec

    def scoped(self, coll: str, scope: int) -> list[dict[str, Any]]:
        # The index holds the record objects themselves (O(scope), no id lookups).
        return list(self.scopes.get((coll, scope), {}).values())

    # -- lists -------------------------------------------------------------------------------

    def filtered(
        self, req: Req, items: Iterable[dict[str, Any]], *, deletable: bool = True
    ) -> list[dict[str, Any]]:
        query: dict[str, list[str]] = {}
        for key, value in req.query:
            if key.startswith("filters["):
                name = key[8:].split("]", 1)[0]
                query.setdefault(name, []).extend(v for v in value.split(",") if v != "")
        include = (query.pop("include_deleted", [None]) or [None])[0]
        checks: list[Callable[[dict[str, Any]], bool]] = []
        if deletable and include == "only":
            checks.append(lambda r: bool(r.get("deleted_at")))
        elif deletable and include not in ("with", "true"):
            checks.append(lambda r: not r.get("deleted_at"))
        for name, stamp in (("updated_at", "_u"), ("created_at", "_c")):
            if name in query:
                lo, hi = parse_range(query.pop(name)[0])
                checks.append(lambda r, lo=lo, hi=hi, s=stamp: lo <= r[s] <= hi)
        for name, values in query.items():
            wanted = set(values)
            if name in ("search", "name"):
                needle = values[0].lower() if values else ""
                checks.append(lambda r, n=needle: n in str(r.get("name", "")).lower())
                continue
            if name == "by_status":
                flag = {"Active": True, "Inactive": False}.get(values[0] if values else "All")
                if flag is not None:
                    checks.append(lambda r, f=flag: bool(r.get("active", True)) == f)
                continue
            checks.append(lambda r, n=name, w=wanted: _field(r, n) in w)
        if not checks:
            out = list(items)
        elif len(checks) == 1:
            only = checks[0]
            out = [r for r in items if only(r)]
        else:
            out = [r for r in items if all(check(r) for check in checks)]
        sort = req.arg("sort")
        if sort:
            key = sort.lstrip("-")
            out.sort(key=lambda r: (r.get(key) is None, str(r.get(key))), reverse=sort[0] == "-")
        return out

    def paginate(
        self,
        req: Req,
        items: list[dict[str, Any]],
        render: Callable[[dict[str, Any]], Any] = public,
        *,
        default: int = DEFAULT_PER_PAGE,
        maximum: int | None = None,
    ) -> httpx.Response:
        """``page``/``per_page`` with ``Total``, ``Per-Page`` and ``Link`` exactly per §2:
        page 1 -> next, last; page 2 -> first, next, last (no prev, as the doc lists);
        page >= 3 -> first, prev, next, last; the last page leaves out next."""
        page = max(1, as_int(req.arg("page") or 1, "page"))
        per_page = as_int(req.arg("per_page") or default, "per_page")
        per_page = max(1, min(per_page, maximum or self.max_per_page))
        total = len(items)
        last = max(1, math.ceil(total / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        url = req.request.url
        prefix = f"{url.scheme}://{url.netloc.decode()}{url.path}?"
        rest = [(k, v) for k, v in req.query if k not in ("page", "per_page")]
        tail = "&" + urlencode(rest) if rest else ""

        def link(n: int, rel: str) -> str:
            return f'<{prefix}page={n}&per_page={per_page}{tail}>; rel="{rel}"'

        links = []
        if page >= 2:
            links.append(link(1, "first"))
        if page >= 3:
            links.append(link(min(page - 1, last), "prev"))
        links.append(link(last, "last"))
        if page < last:
            links.append(link(page + 1, "next"))
        headers = {"Total": str(total), "Per-Page": str(per_page), "Link": ", ".join(links)}
        return pjson(200, [render(r) for r in chunk], headers)


def _field(rec: dict[str, Any], name: str) -> str | None:
    if name in rec:
        value = rec[name]
    elif name.endswith("_id") and isinstance(rec.get(name[:-3]), dict):
        value = rec[name[:-3]].get("id")
    elif f"_{name}" in rec:
        value = rec[f"_{name}"]
    else:
        return None
    return None if value is None else str(value)


def body_of(req: Req, wrapper: str | None = None) -> dict[str, Any]:
    """The JSON body (or form body: ``direct_cost[...]`` keys), unwrapped from ``wrapper``."""
    ctype = req.headers.get("content-type", "")
    if "json" in ctype or (req.body[:1] in (b"{", b"[")):
        data = req.json() or {}
    else:
        data = {}
        for key, value in req.form().items():
            if "[" in key:
                outer, inner = key.split("[", 1)
                data.setdefault(outer, {})[inner.rstrip("]")] = value
            else:
                data[key] = value
    if not isinstance(data, dict):
        raise bad_request("request body must be a JSON object")
    if wrapper is None:
        return data
    inner = data.get(wrapper)
    if not isinstance(inner, dict):
        raise bad_request(f"{wrapper} is missing")
    return inner


def check_lock(rec: dict[str, Any], changes: dict[str, Any], what: str) -> None:
    """§5: a non-null origin_id locks Direct Costs, Subcontractor Invoices, Payment Applications
    and Payments; only the integration fields may still change (so an integrator can unlink)."""
    if rec.get("origin_id") is None:
        return
    if any(k not in ORIGIN_FIELDS for k in changes):
        raise ApiError(422, {"base": [f"{what} is synced with an ERP and cannot be edited"]})


def require(body: dict[str, Any], *fields: str) -> None:
    for name in fields:
        if body.get(name) in (None, ""):
            raise invalid(name, "can't be blank")
