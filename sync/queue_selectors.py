"""Reads for the exception queue (HackSoft style: no writes here).

The queue stays fast on a very large table: every filter is an indexed, denormalised column
of ExceptionItem; pages are *keyset* pages that seek (``opened_at >= t AND (opened_at > t OR
(opened_at = t AND id > cursor_id))``, read from an index that starts with the status), so
page 2,000 costs what page 1 costs; a page is one query whatever its size (the connection
and assignee joined, the big JSON columns left out, nothing read per row); the tab counts
and the per-reason counts are one GROUP BY, cached until the queue changes.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connections
from django.db.models import BooleanField, Count, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts import roles
from sync.config import policies
from sync.models import Connection, ExceptionEvent, ExceptionItem, ItemStatus
from sync.reasons import REASONS

TABS: dict[str, tuple[str, tuple[str, ...]]] = {
    "open": ("Open", (ItemStatus.OPEN,)),
    "second": ("Awaiting second approval", (ItemStatus.AWAITING_SECOND_APPROVAL,)),
    "resolved": ("Resolved", (ItemStatus.RESOLVED, ItemStatus.AUTO_RESOLVED)),
    "rejected": ("Rejected", (ItemStatus.REJECTED,)),
    "dead": ("Dead letters", (ItemStatus.DEAD_LETTER,)),
}
SORTS = {
    "oldest": "Oldest first",
    "newest": "Newest first",
    "amount_desc": "Largest amount first",
    "amount_asc": "Smallest amount first",
}
MAX_PER_PAGE = 200
COUNTS_TTL = 600  # seconds; the key changes with the queue anyway


@dataclass
class QueueFilters:
    tab: str = "open"
    status: str = ""  # one status inside the tab (resolved: by a person / automatically)
    reason: str = ""
    connection: int | None = None
    subsidiary: str = ""
    project: str = ""
    vendor: str = ""
    object_type: str = ""
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    older_than_days: int | None = None
    past_sla: bool = False
    assignee: str = ""  # "me", "none" or a user id
    q: str = ""
    sort: str = "oldest"
    after: str = ""
    per_page: int = 50


def can_work(user) -> bool:
    return user.has_perm(roles.WORK_EXCEPTION_QUEUE)


def can_read(user) -> bool:
    return can_work(user) or user.has_perm(roles.VIEW_REPORTS)


def visible_items(user) -> QuerySet[ExceptionItem]:
    """Controllers and integration admins see every item; project managers the items of the
    Procore projects they follow (accounts.ProjectAccess); anyone else nothing."""
    from accounts.models import ProjectAccess

    items = ExceptionItem.objects.all()
    if can_work(user):
        return items
    if user.has_perm(roles.VIEW_REPORTS):
        projects = ProjectAccess.objects.filter(user_id=user.pk).values("procore_project_id")
        return items.filter(procore_project_id__in=Subquery(projects))
    return items.none()


def sla_hours_by_connection() -> dict[int, int]:
    return {c.pk: policies(c).sla_hours for c in Connection.objects.only("pk", "kind", "policies")}


def _filtered(items: QuerySet, f: QueueFilters, user, now) -> QuerySet:
    """Every filter except the tab/status and the reason (those are counted per value)."""
    if f.connection:
        items = items.filter(connection_id=f.connection)
    for name, value in (
        ("subsidiary", f.subsidiary),
        ("procore_project_id", f.project),
        ("vendor", f.vendor),
        ("object_type", f.object_type),
    ):
        if value:
            items = items.filter(**{name: value})
    if f.amount_min is not None:
        items = items.filter(amount__gte=f.amount_min)
    if f.amount_max is not None:
        items = items.filter(amount__lte=f.amount_max)
    if f.older_than_days:
        items = items.filter(opened_at__lte=now - timedelta(days=f.older_than_days))
    if f.past_sla:
        late = Q(pk__in=[])
        for connection_id, hours in sla_hours_by_connection().items():
            late |= Q(connection_id=connection_id, opened_at__lte=now - timedelta(hours=hours))
        items = items.filter(late)
    if f.assignee == "me":
        items = items.filter(assignee_id=user.pk)
    elif f.assignee == "none":
        items = items.filter(assignee__isnull=True)
    elif f.assignee.isdigit():
        items = items.filter(assignee_id=int(f.assignee))
    if f.q:
        text = f.q.strip()
        items = _search_prefilter(items, text).filter(
            Q(document_number__icontains=text)
            | Q(project_name__icontains=text)
            | Q(vendor_name__icontains=text)
            | Q(procore_id=text)
            | Q(procore_project_id=text)
            | Q(vendor=text)
            | Q(explanation__icontains=text)
        )
    return items


# Every searched column in one upper-cased text; on PostgreSQL a trigram index over exactly
# this expression (migration 0006) finds the rows containing a text without reading them all.
SEARCH_TEXT_SQL = (
    "UPPER(document_number || ' ' || project_name || ' ' || vendor_name || ' ' || procore_id"
    " || ' ' || procore_project_id || ' ' || vendor || ' ' || explanation)"
)


def _search_prefilter(items: QuerySet, text: str) -> QuerySet:
    """PostgreSQL: narrow the search to rows whose searched columns, together, contain the
    text (the trigram index answers that); the exact conditions then run on those rows only.
    Anything a condition matches contains the text, so nothing is lost."""
    if not text or connections[items.db].vendor != "postgresql":
        return items
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return items.filter(
        RawSQL(f"{SEARCH_TEXT_SQL} LIKE UPPER(%s)", [pattern], output_field=BooleanField())  # noqa: S611
    )


def _statuses(f: QueueFilters) -> tuple[str, ...]:
    statuses = TABS.get(f.tab, TABS["open"])[1]
    if f.status and f.status in statuses:
        return (f.status,)
    return statuses


def queue_filtered(user, f: QueueFilters, now=None) -> QuerySet[ExceptionItem]:
    """The whole filtered view (what a bulk action on 'every item of this view' acts on)."""
    now = now or timezone.now()
    items = _filtered(visible_items(user), f, user, now).filter(status__in=_statuses(f))
    if f.reason:
        items = items.filter(reason_code=f.reason)
    return items


# -- keyset pages -------------------------------------------------------------------------


def _encode(value: Any, pk: int) -> str:
    raw = f"{'' if value is None else value}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, _, pk = raw.rpartition("|")
        return value, int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def _bound(field: str, value: Any, pk: int, desc: bool) -> Q:
    """Rows after (value, pk) in the sort order, written so an index on (…, field) can *seek*:
    the redundant ``field >= value`` is a range condition the planner starts the index scan
    at (SQLite and PostgreSQL both skip straight there instead of filtering every earlier
    row, which is what the OR alone made them do)."""
    if desc:
        return Q(**{f"{field}__lte": value}) & (
            Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk})
        )
    return Q(**{f"{field}__gte": value}) & (
        Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk})
    )


def _seek_parts(items: QuerySet, f: QueueFilters, statuses, cursor) -> list[QuerySet]:
    """The page as index-ordered pieces, each read with LIMIT: one per status of the tab
    (``status IN (a, b) ORDER BY opened_at`` cannot be read in order from an index on
    (status, opened_at); ``status = a`` can), and for the amount sorts the items with an
    amount apart from those without (which sort last both ways): one index serves
    ``amount DESC`` and ``amount ASC`` alike only once the NULLs are out of it."""
    parts = []
    by_status = [items.filter(status=s) for s in statuses]
    if f.sort in ("amount_desc", "amount_asc"):
        desc = f.sort == "amount_desc"
        value, pk = cursor if cursor is not None else (None, None)
        if value:
            try:
                value = Decimal(value)
            except ArithmeticError:  # a hand-made cursor: start again
                cursor, value = None, None
        for qs in by_status:
            if cursor is None or value != "":
                amounts = qs.filter(amount__isnull=False)
                if cursor is not None:
                    amounts = amounts.filter(_bound("amount", value, pk, desc))
                parts.append(amounts.order_by(*(("-amount", "-pk") if desc else ("amount", "pk"))))
            nulls = qs.filter(amount__isnull=True)
            if cursor is not None and value == "":
                nulls = nulls.filter(pk__lt=pk) if desc else nulls.filter(pk__gt=pk)
            parts.append(nulls.order_by("-pk" if desc else "pk"))
        return parts
    desc = f.sort == "newest"
    when = None
    if cursor is not None:
        from django.utils.dateparse import parse_datetime

        try:
            when = parse_datetime(cursor[0])
        except ValueError:  # well-formed, but no date: a hand-made cursor
            when = None
    for qs in by_status:
        if when is not None:
            qs = qs.filter(_bound("opened_at", when, cursor[1], desc))
        parts.append(qs.order_by(*(("-opened_at", "-pk") if desc else ("opened_at", "pk"))))
    return parts


def _sort(rows, sort: str) -> list[ExceptionItem]:
    """The pieces' rows merged back into the page's order."""
    if sort == "amount_desc":  # amounts first, largest first; ties: newest id first
        return sorted(rows, key=lambda i: (i.amount is not None, i.amount or 0, i.pk), reverse=True)
    if sort == "amount_asc":
        return sorted(rows, key=lambda i: (i.amount is None, i.amount or 0, i.pk))
    return sorted(rows, key=lambda i: (i.opened_at, i.pk), reverse=sort == "newest")


def _page_ids(parts: list[QuerySet], limit: int):
    """The ids of the first ``limit`` rows of every part, as a subquery of the page's one
    query (for several parts: UNION ALL of the parts, each with its ORDER BY and LIMIT, so
    each one is a short index range scan)."""
    if len(parts) == 1:
        return parts[0].values("pk")[:limit]
    sqls, params = [], []
    using = parts[0].db
    for n, part in enumerate(parts):
        query = part.values_list("pk", flat=True)[:limit].query
        sql, part_params = query.get_compiler(using=using).as_sql()
        # The parts' SQL comes from the ORM, values stay parameters.
        sqls.append(f"SELECT * FROM ({sql}) AS part{n}")  # noqa: S608
        params.extend(part_params)
    return RawSQL(" UNION ALL ".join(sqls), params)  # noqa: S611 - the ORM's SQL, as above


# Columns a list row never shows: the item's reason-specific JSON (three-way diff, the ERP
# exchange) and the connection's settings, policies and encrypted secrets (which would be
# decrypted once per row).
LIST_DEFERRED = (
    "details",
    "connection__settings",
    "connection__secrets_encrypted",
    "connection__token_encrypted",
    "connection__directions",
    "connection__policies",
    "connection__status_reason",
    "assignee__password",
)


@dataclass
class QueuePage:
    items: list[ExceptionItem]
    next_cursor: str = ""
    is_first: bool = True
    status_counts: dict[str, int] = field(default_factory=dict)
    tab_counts: dict[str, int] = field(default_factory=dict)
    reason_counts: list[tuple[str, str, int]] = field(default_factory=list)
    total: int = 0


def _counts_key(user, f: QueueFilters) -> str | None:
    """Counts are cached until the queue changes: every change of an item's status, reason
    or filter fields appends an ExceptionEvent, so the newest event (and item) id is a
    version that costs one index lookup. Age filters move with the clock: not cached."""
    if f.older_than_days or f.past_sla:
        return None
    last_event = ExceptionEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    last_item = ExceptionItem.objects.order_by("-pk").values_list("pk", flat=True).first()
    scope = "all" if can_work(user) else f"user{user.pk}"
    wanted = {k: v for k, v in vars(f).items() if k not in ("after", "sort", "per_page")}
    if wanted.get("assignee") == "me":
        wanted["assignee"] = str(user.pk)
    digest = hashlib.sha256(repr(sorted(wanted.items())).encode()).hexdigest()[:32]
    return f"queue-counts:{scope}:{last_event}:{last_item}:{digest}"


def _counts(user, f: QueueFilters, base: QuerySet, statuses) -> tuple[dict, list]:
    key = _counts_key(user, f)
    if key is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit
    # One GROUP BY (status, reason) with every filter but the tab and the reason gives both:
    # per status (the tabs) within the chosen reason, and per reason within the tab.
    by_status: dict[str, int] = {}
    by_reason: dict[str, int] = {}
    grouped = base.order_by().values_list("status", "reason_code").annotate(n=Count("pk"))
    for status, code, n in grouped.values_list("status", "reason_code", "n"):
        if not f.reason or code == f.reason:
            by_status[status] = by_status.get(status, 0) + n
        if status in statuses:
            by_reason[code] = by_reason.get(code, 0) + n
    reason_counts = sorted(
        (
            (code, REASONS[code].title if code in REASONS else code, n)
            for code, n in by_reason.items()
        ),
        key=lambda r: (-r[2], r[1]),
    )
    if key is not None:
        cache.set(key, (by_status, reason_counts), COUNTS_TTL)
    return by_status, reason_counts


def queue_page(user, f: QueueFilters, now=None) -> QueuePage:
    """One page of the queue plus its counts: a fixed number of queries whatever the page
    size or depth (the counts' GROUP BY only when the queue changed since they were cached)."""
    now = now or timezone.now()
    base = _filtered(visible_items(user), f, user, now)
    statuses = _statuses(f)
    by_status, reason_counts = _counts(user, f, base, statuses)
    tab_counts = {
        tab: sum(by_status.get(s, 0) for s in tab_statuses)
        for tab, (_label, tab_statuses) in TABS.items()
    }
    items = base
    if f.reason:
        items = items.filter(reason_code=f.reason)
    cursor = _decode(f.after) if f.after else None
    per_page = max(1, min(f.per_page, MAX_PER_PAGE))
    ids = _page_ids(_seek_parts(items, f, statuses, cursor), per_page + 1)
    rows = _sort(
        ExceptionItem.objects.filter(pk__in=ids)
        .select_related("connection", "assignee")
        .defer(*LIST_DEFERRED),
        f.sort,
    )[: per_page + 1]
    next_cursor = ""
    if len(rows) > per_page:
        rows = rows[:per_page]
        last = rows[-1]
        key = last.amount if f.sort.startswith("amount") else last.opened_at.isoformat()
        next_cursor = _encode(key, last.pk)
    return QueuePage(
        items=rows,
        next_cursor=next_cursor,
        is_first=cursor is None,
        status_counts=by_status,
        tab_counts=tab_counts,
        reason_counts=reason_counts,
        total=sum(by_status.get(s, 0) for s in statuses),
    )


def queue_totals(items: QuerySet) -> tuple[int, list[tuple[str, Decimal]]]:
    """How many items and their total amount per currency (the bulk confirmation)."""
    count = items.count()
    sums = (
        items.exclude(amount__isnull=True)
        .order_by()
        .values_list("currency")
        .annotate(total=Sum("amount"))
        .values_list("currency", "total")
    )
    cents = Decimal("0.01")
    return count, sorted(
        ((c or "—", Decimal(t).quantize(cents)) for c, t in sums), key=lambda x: x[0]
    )


# -- one item -----------------------------------------------------------------------------


def item_detail(user, pk: int) -> ExceptionItem:
    return (
        visible_items(user)
        .select_related("change", "connection", "connection__procore_connection", "assignee")
        .get(pk=pk)
    )


def item_events(item: ExceptionItem) -> list[ExceptionEvent]:
    return list(
        ExceptionEvent.objects.filter(item_id=item.pk).select_related("actor").order_by("at", "pk")
    )


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    from sync.services.payload_edits import flatten as _flatten

    return _flatten(value, prefix)


def three_way(details: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of last synced / ERP now / proposed, field by field, with what differs."""
    if not details or not any(k in details for k in ("last_synced", "erp_now", "proposed")):
        return []
    last = flatten(details.get("last_synced") or {})
    now = flatten(details.get("erp_now") or {})
    proposed = flatten(details.get("proposed") or {})
    rows = []
    for path in sorted(set(last) | set(now) | set(proposed), key=_path_key):
        a, b, c = last.get(path), now.get(path), proposed.get(path)
        rows.append(
            {
                "field": path,
                "last_synced": a,
                "erp_now": b,
                "proposed": c,
                "erp_edited": str(a) != str(b),
                "procore_changed": str(a) != str(c),
            }
        )
    return rows


def _path_key(path: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.split("."))


def procore_url(item: ExceptionItem) -> str:
    """A link to the Procore document (its web page, not the API)."""
    procore = item.connection.procore_connection
    if procore is None or not item.procore_project_id:
        return ""
    settings = procore.settings or {}
    base = (settings.get("web_base_url") or "https://app.procore.com").rstrip("/")
    change = item.change
    kind = (change.context or {}).get("kind") if change is not None else None
    project = item.procore_project_id
    if item.object_type == "commitment":
        tool = f"{kind or 'work_order_contract'}s"
        return f"{base}/{project}/project/commitments/{tool}/{item.procore_id}"
    if item.object_type == "commitment_change_order":
        return f"{base}/{project}/project/change_orders/commitment_change_orders/{item.procore_id}"
    if item.object_type == "project":
        return f"{base}/{project}/project/home"
    if item.object_type == "vendor":
        return f"{base}/{settings.get('company_id', '')}/company/directory/vendors/{item.vendor}"
    return f"{base}/{project}/project/home"
