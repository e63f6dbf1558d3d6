"""Run history for integration admins: the list, a run's page with live progress, and the
"sync now" / full resync / reconcile-now buttons (each only queues a job).

The run page's progress block is an htmx partial: while the run is in flight it asks for
itself again every 2 s; a finished run's partial carries no trigger, so polling stops.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.roles import MANAGE_CONNECTIONS
from sync.flows import FLOWS
from sync.models import Connection, ExceptionItem, RunStatus, SyncRun
from sync.triggers import sync_now_request

manage_required = permission_required(MANAGE_CONNECTIONS, raise_exception=True)
PAGE = 50


def item_url(item_id: int) -> str | None:
    try:
        return reverse("exceptions_ui:item", args=[item_id])
    except NoReverseMatch:
        return None


def duration(run: SyncRun):
    end = run.finished_at or timezone.now()
    return end - run.started_at if run.started_at else None


@manage_required
@require_safe
def runs(request):
    rows = SyncRun.objects.select_related("connection").order_by("-started_at", "-pk")
    connection_id = request.GET.get("connection") or ""
    if connection_id.isdigit():
        rows = rows.filter(connection_id=int(connection_id))
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    erps = Connection.objects.filter(kind__in=("netsuite", "quickbooks")).order_by("name")
    context = {
        "page": page,
        "runs": [(r, duration(r)) for r in page.object_list],
        "connections": erps,
        "flows": list(FLOWS),
        "selected": connection_id,
    }
    return render(request, "sync/runs.html", context)


@manage_required
@require_safe
def run_detail(request, pk: int):
    run = get_object_or_404(SyncRun.objects.select_related("connection"), pk=pk)
    context = {"run": run, "duration": duration(run), "running": run.status == RunStatus.RUNNING}
    if request.htmx:
        return render(request, "sync/_run_progress.html", context)
    records = list(run.records.select_related("change").order_by("pk")[:500])
    items = {
        i.change_id: i
        for i in ExceptionItem.objects.filter(
            change_id__in=[r.change_id for r in records if r.change_id]
        )
    }
    context["records"] = [
        (
            r,
            items.get(r.change_id),
            item_url(items[r.change_id].pk) if r.change_id in items else None,
        )
        for r in records
    ]
    context["more"] = run.records.count() > len(records)
    return render(request, "sync/run_detail.html", context)


@manage_required
@require_POST
def sync_now(request):
    connection = get_object_or_404(Connection, pk=request.POST.get("connection") or 0)
    object_type = request.POST.get("object_type") or ""
    record = (request.POST.get("procore_id") or "").strip()
    full = request.POST.get("full") == "1"
    try:
        sync_now_request(
            connection_id=connection.pk, object_type=object_type, procore_id=record, full=full
        )
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        what = "a full resync" if full else "a sync"
        scope = f"record {record}" if record else (object_type or "every object type")
        messages.success(request, f"Queued {what} of {scope} on {connection.name}.")
    return redirect(f"{reverse('sync:runs')}?connection={connection.pk}")


@manage_required
@require_POST
def reconcile_now(request):
    from django_q.tasks import async_task

    connection = get_object_or_404(Connection, pk=request.POST.get("connection") or 0)
    async_task("reconciliation.jobs.reconcile_connection", connection.pk, "manual")
    messages.success(request, f"Queued a reconciliation of {connection.name}.")
    return redirect(f"{reverse('sync:runs')}?connection={connection.pk}")
