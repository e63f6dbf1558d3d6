"""The exception queue: list, item, and the actions on items. Views parse input, call a
selector or a service of the engine (``sync.services.review`` and friends) and render; an
htmx request gets the partial it swaps in, a plain request the page (or a redirect with a
message), so every action works without JavaScript too."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.views.decorators.http import require_POST

from exceptions_ui import forms
from sync import queue_selectors as queue
from sync.config import policies
from sync.models import ACTIVE_STATUSES, ChangeState, ExceptionItem, ItemStatus
from sync.reasons import REASONS
from sync.services import review
from sync.services.bulk import items_bulk
from sync.services.fixes import item_fix_mapping, mapping_defaults
from sync.services.payload_edits import flatten, item_edit_payload


def reader(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not queue.can_read(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def worker(view):
    """Actions: controllers and integration admins only (PMs get 403, even on GET)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not queue.can_work(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _item(request, pk: int) -> ExceptionItem:
    try:
        return queue.item_detail(request.user, pk)
    except ExceptionItem.DoesNotExist:
        raise Http404("no such item") from None


# -- the queue ------------------------------------------------------------------------------


@reader
def queue_view(request):
    form = forms.QueueFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    now = timezone.now()
    page = queue.queue_page(request.user, filters, now=now)
    sla = queue.sla_hours_by_connection()
    query_without = _without(request.GET)
    narrow = {
        name: "?" + (f"{query_without[name]}&" if query_without[name] else "") + f"{name}="
        for name in ("project", "vendor")
    }
    rows = [_row(item, now, sla, narrow) for item in page.items]
    params = request.GET.copy()
    params.pop("after", None)
    next_params = params.copy()
    next_params["after"] = page.next_cursor
    context = {
        "form": form,
        "f": filters,
        "page": page,
        "rows": rows,
        "tabs": [
            (key, label, page.tab_counts.get(key, 0)) for key, (label, _) in queue.TABS.items()
        ],
        "sorts": queue.SORTS.items(),
        "base_query": params.urlencode(),
        "next_query": next_params.urlencode() if page.next_cursor else "",
        "can_work": queue.can_work(request.user),
        "query_without": query_without,
    }
    template = "exceptions_ui/queue.html"
    if request.htmx and request.htmx.target == "results":
        template += "#results"
    return render(request, template, context)


def _without(query) -> dict[str, str]:
    """For each filter, the current URL's query without it (and without the page cursor):
    links that set one filter keep all the others."""
    out = {}
    for name in [*forms.QueueFilterForm.base_fields, "tab"]:
        params = query.copy()
        for drop in (name, "after", *(("status",) if name == "tab" else ())):
            params.pop(drop, None)
        out[name] = params.urlencode()
    return out


def _age(item: ExceptionItem, now) -> str:
    seconds = (now - item.opened_at).total_seconds()
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _row(item: ExceptionItem, now, sla: dict[int, int], narrow: dict[str, str]) -> dict:
    """What a list row shows, as plain values: the template only looks keys up in a dict,
    which is most of what rendering 200 rows costs otherwise."""
    hours = sla.get(item.connection_id, 48)
    late = item.status in ACTIVE_STATUSES and (now - item.opened_at).total_seconds() > hours * 3600
    reason = REASONS[item.reason_code].title if item.reason_code in REASONS else ""
    return {
        "item": item,
        "pk": item.pk,
        "url": reverse("exceptions_ui:item", args=[item.pk]),
        "age": _age(item, now),
        "late": late,
        "reason": reason or item.reason_code,
        "document": item.document_number or item.object_type,
        "document_number": item.document_number,
        "object_type": item.object_type,
        "procore_id": item.procore_id,
        "project_href": narrow["project"] + item.procore_project_id
        if item.procore_project_id
        else "",
        "project": item.project_name or item.procore_project_id,
        "vendor_href": narrow["vendor"] + item.vendor if item.vendor else "",
        "vendor": item.vendor_name or item.vendor,
        "amount": f"{localize(item.amount)} {item.currency}" if item.amount is not None else "",
        "connection": item.connection.name,
        "subsidiary": item.subsidiary,
        "assignee": item.assignee.username if item.assignee_id else "—",
        "status": item.status,
        "status_label": item.get_status_display(),
    }


ACTION_LABELS = {
    "opened": "opened the item",
    "reopened": "re-opened the item",
    "approved": "approved",
    "first_approval": "gave the first approval",
    "rejected": "rejected",
    "linked": "linked to an existing ERP record",
    "retry_requested": "retried the write",
    "replay_requested": "replayed the record from Procore",
    "auto_resolved": "resolved automatically",
    "assigned": "changed the assignee",
    "commented": "commented",
    "payload_edited": "edited the proposed write",
    "mapping_added": "added the missing mapping",
}

# -- one item -------------------------------------------------------------------------------


def _item_context(request, item: ExceptionItem, **extra) -> dict:
    now = timezone.now()
    change = item.change
    pol = policies(item.connection)
    events = queue.item_events(item)
    comments = {e.pk for e in events if e.action == "commented"}
    timeline: list[dict] = []
    by_pk: dict[int, dict] = {}
    for event in events:
        parent = (event.before or {}).get("reply_to") if event.action == "commented" else None
        if parent in comments and parent in by_pk:
            by_pk[parent]["replies"].append(event)
            continue
        entry = {
            "event": event,
            "label": ACTION_LABELS.get(event.action, event.action.replace("_", " ")),
            "replies": [],
            "edits": [
                (path, (event.before or {}).get(path), value)
                for path, value in (event.after or {}).items()
            ]
            if event.action == "payload_edited"
            else [],
        }
        by_pk[event.pk] = entry
        timeline.append(entry)
    can_work = queue.can_work(request.user)
    reason = REASONS.get(item.reason_code)
    error = (item.details or {}).get("error") or (change.last_error if change else None) or {}
    return {
        "item": item,
        "change": change,
        "reason": reason,
        "age": _age(item, now),
        "late": item.status in ACTIVE_STATUSES
        and (now - item.opened_at).total_seconds() > pol.sla_hours * 3600,
        "sla_hours": pol.sla_hours,
        "policies": pol,
        "procore_url": queue.procore_url(item),
        "diff": queue.three_way(item.details or {}),
        "proposed": flatten(change.payload) if change is not None else {},
        "error": error,
        "exchange": error.get("exchange") or {},
        "timeline": timeline,
        "can_work": can_work,
        "approve_refusal": review.approve_refusal(item, request.user) if can_work else "",
        "needs_second": review.needs_second_approval(item),
        "first_approver": review.first_approver(item)
        if item.status == ItemStatus.AWAITING_SECOND_APPROVAL
        else None,
        "decidable": item.status in review.DECIDABLE,
        "linkable": item.reason_code in review.LINKABLE_REASONS and not item.blocked_table,
        "candidates": (item.details or {}).get("candidates") or [],
        "sending": change is not None
        and change.state in (ChangeState.APPROVED, ChangeState.SENDING),
        "reject_form": forms.RejectForm(),
        "assign_form": forms.AssignForm(
            initial={"assignee": item.assignee_id or "", "expected": item.assignee_id or ""}
        ),
        "comment_form": forms.CommentForm(),
        **extra,
    }


@reader
def item_view(request, pk: int):
    item = _item(request, pk)
    return render(request, "exceptions_ui/item.html", _item_context(request, item))


@reader
def item_status(request, pk: int):
    """The decision panel alone: htmx polls it while the write is on its way."""
    item = _item(request, pk)
    context = _item_context(request, item, oob=bool(request.htmx))
    return render(request, "exceptions_ui/item.html#decision", context)


def _done(request, item_id: int, *, ok: str = "", refused: str = "", status: int = 200):
    """After an action: the decision panel for htmx, else back to the item with a message."""
    if request.htmx:
        item = _item(request, item_id)
        context = _item_context(request, item, flash=ok, flash_error=refused, oob=True)
        return render(
            request, "exceptions_ui/item.html#decision", context, status=409 if refused else status
        )
    if refused:
        messages.error(request, refused)
    elif ok:
        messages.success(request, ok)
    return redirect("exceptions_ui:item", pk=item_id)


@worker
@require_POST
def approve(request, pk: int):
    _item(request, pk)
    form = forms.NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        result = review.item_approve(item_id=pk, actor=request.user, note=note)
    except review.ActionRefused as exc:
        return _done(request, pk, refused=str(exc))
    return _done(request, pk, ok=result.message)


@worker
@require_POST
def reject(request, pk: int):
    _item(request, pk)
    form = forms.RejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        result = review.item_reject(item_id=pk, actor=request.user, reason=reason)
    except review.ActionRefused as exc:
        return _done(request, pk, refused=str(exc))
    return _done(request, pk, ok=result.message)


@worker
@require_POST
def link(request, pk: int):
    _item(request, pk)
    form = forms.LinkForm(request.POST)
    erp_id = form.cleaned_data["erp_id"] if form.is_valid() else ""
    try:
        result = review.item_link(item_id=pk, actor=request.user, erp_id=erp_id)
    except review.ActionRefused as exc:
        return _done(request, pk, refused=str(exc))
    return _done(request, pk, ok=result.message)


@worker
@require_POST
def retry(request, pk: int):
    _item(request, pk)
    try:
        result = review.item_retry(item_id=pk, actor=request.user)
    except review.ActionRefused as exc:
        return _done(request, pk, refused=str(exc))
    return _done(request, pk, ok=result.message)


@worker
@require_POST
def replay(request, pk: int):
    _item(request, pk)
    try:
        result = review.item_replay(item_id=pk, actor=request.user)
    except review.ActionRefused as exc:
        return _done(request, pk, refused=str(exc))
    return _done(request, pk, ok=result.message)


def _user(value):
    if not value:
        return None
    try:
        return forms.queue_users().get(pk=int(value))
    except (ValueError, get_user_model().DoesNotExist):
        return "invalid"


@worker
@require_POST
def assign(request, pk: int):
    _item(request, pk)
    form = forms.AssignForm(request.POST)
    if not form.is_valid():
        return _done(request, pk, refused="Choose someone who can work the queue.")
    assignee = _user(form.cleaned_data["assignee"])
    if assignee == "invalid":
        return _done(request, pk, refused="Choose someone who can work the queue.")
    expected = form.cleaned_data["expected"]
    try:
        result = review.item_assign(
            item_id=pk,
            actor=request.user,
            assignee=assignee,
            expected=int(expected) if expected.isdigit() else None,
        )
    except review.ActionRefused as exc:
        return _done(request, pk, refused=str(exc))
    return _done(request, pk, ok=result.message)


@worker
@require_POST
def comment(request, pk: int):
    _item(request, pk)
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        return _done(request, pk, refused="Write something to comment.")
    url = request.build_absolute_uri(reverse("exceptions_ui:item", args=[pk]))
    try:
        event = review.item_comment(
            item_id=pk,
            actor=request.user,
            text=form.cleaned_data["text"],
            reply_to=form.cleaned_data["reply_to"],
            item_url=url,
        )
    except review.ActionRefused as exc:
        return _done(request, pk, refused=str(exc))
    mentioned = (event.after or {}).get("mentions") or []
    ok = "Comment added." + (f" Notified: {', '.join(mentioned)}." if mentioned else "")
    if request.htmx:
        item = _item(request, pk)
        return render(
            request, "exceptions_ui/item.html#timeline", _item_context(request, item, flash=ok)
        )
    messages.success(request, ok)
    return redirect("exceptions_ui:item", pk=pk)


@worker
def edit(request, pk: int):
    item = _item(request, pk)
    change = item.change
    if change is None or item.blocked_table or item.status not in review.DECIDABLE:
        messages.error(request, "Only a proposed write waiting for a decision can be edited.")
        return redirect("exceptions_ui:item", pk=pk)
    leaves = flatten(change.payload)
    form = forms.payload_form(leaves, request.POST or None)
    if request.method == "POST" and form.is_valid():
        changed = {k: v for k, v in form.cleaned_data.items() if k in leaves}
        try:
            result = item_edit_payload(
                item_id=pk,
                actor=request.user,
                values=changed,
                seen=request.POST.get("seen", ""),
                note=request.POST.get("note", ""),
            )
        except review.ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, result.message)
            return redirect("exceptions_ui:item", pk=pk)
    return render(
        request,
        "exceptions_ui/edit.html",
        {"item": item, "form": form, "seen": change.updated_at.isoformat()},
    )


@worker
def fix(request, pk: int):
    item = _item(request, pk)
    if not item.blocked_table:
        messages.error(request, "This item does not wait for a mapping.")
        return redirect("exceptions_ui:item", pk=pk)
    defaults = mapping_defaults(item)
    form = forms.MappingFixForm(request.POST or None, item=item, defaults=defaults)
    if request.method == "POST" and form.is_valid():
        try:
            result = item_fix_mapping(item_id=pk, actor=request.user, values=form.values())
        except review.ActionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, result.message)
            return redirect("exceptions_ui:item", pk=pk)
    return render(request, "exceptions_ui/fix.html", {"item": item, "form": form})


# -- bulk -----------------------------------------------------------------------------------


@worker
@require_POST
def bulk(request):
    form = forms.BulkForm(request.POST)
    back = reverse("exceptions_ui:queue") + "?" + request.POST.get("query", "")
    if not form.is_valid():
        messages.error(request, "Choose an action for the items.")
        return redirect(back)
    data = form.cleaned_data
    if data["scope"] == "all":
        filters = forms.QueueFilterForm(_query_dict(request.POST.get("query", ""))).filters()
        items = queue.queue_filtered(request.user, filters)
    else:
        ids = [int(x) for x in request.POST.getlist("item") if x.isdigit()]
        ids += [int(x) for x in data["ids"].split(",") if x.strip().isdigit()]
        items = queue.visible_items(request.user).filter(pk__in=ids)
    count, totals = queue.queue_totals(items)
    if count == 0:
        messages.error(request, "No items selected.")
        return redirect(back)
    assignee = _user(data["assignee"]) if data["action"] == "assign" else None
    if assignee == "invalid":
        messages.error(request, "Choose someone who can work the queue.")
        return redirect(back)
    if not data["confirm"]:
        return render(
            request,
            "exceptions_ui/bulk_confirm.html",
            {
                "form": form,
                "action": dict(forms.BulkForm.ACTIONS)[data["action"]],
                "count": count,
                "totals": totals,
                "ids": ",".join(str(pk) for pk in items.values_list("pk", flat=True)[:5000]),
                "query": request.POST.get("query", ""),
                "assignee": assignee,
                "data": data,
            },
        )
    ids = [int(x) for x in data["ids"].split(",") if x.strip().isdigit()]
    try:
        result = items_bulk(
            action=data["action"],
            item_ids=list(
                queue.visible_items(request.user).filter(pk__in=ids).values_list("pk", flat=True)
            ),
            actor=request.user,
            reason=data["reason"],
            assignee=assignee,
        )
    except review.ActionRefused as exc:
        messages.error(request, str(exc))
        return redirect(back)
    (messages.success if result.done else messages.warning)(request, result.message)
    return redirect(back)


def _query_dict(query: str) -> QueryDict:
    return QueryDict(query)
