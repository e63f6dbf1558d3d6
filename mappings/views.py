"""The mappings area: tables per ERP connection, upload with preview, export, history,
coverage, vendor suggestions and the reference cache. Views parse input, call a service or
selector and render; htmx requests get the partial, others the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import roles
from mappings import files, selectors, services
from mappings.models import MappingUpload, ReferenceRecord, UploadStatus
from mappings.specs import TABLES
from sync.models import Connection

manage = permission_required(roles.MANAGE_MAPPINGS, raise_exception=True)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _connection(pk: int) -> Connection:
    return get_object_or_404(selectors.erp_connections(), pk=pk)


def _spec(table: str):
    if table not in TABLES:
        raise Http404("no such mapping table")
    return TABLES[table]


def _can_view(user, spec) -> bool:
    return user.has_perm(roles.MANAGE_MAPPINGS) or user.has_perm(
        f"mappings.view_{spec.model._meta.model_name}"
    )


def _download(name: str, content: bytes, fmt: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _fmt(request) -> str:
    fmt = request.GET.get("format", "csv")
    if fmt not in CONTENT_TYPES:
        raise Http404("format is csv or xlsx")
    return fmt


@manage
def index(request):
    connections = []
    for conn in selectors.erp_connections():
        counts = [
            (spec, spec.model.objects.filter(connection=conn).count()) for spec in TABLES.values()
        ]
        refreshed = (
            ReferenceRecord.objects.filter(connection=conn).order_by("-refreshed_at").first()
        )
        connections.append({"connection": conn, "tables": counts, "refreshed": refreshed})
    return render(request, "mappings/index.html", {"connections": connections})


def _can_view_any(user) -> bool:
    """Checked before the table name, so a role without access learns nothing (403, not 404)."""
    return user.has_perm(roles.MANAGE_MAPPINGS) or any(
        user.has_perm(f"mappings.view_{spec.model._meta.model_name}") for spec in TABLES.values()
    )


def table(request, connection_id: int, table: str):
    if not _can_view_any(request.user):
        raise PermissionDenied
    spec = _spec(table)
    if not _can_view(request.user, spec):
        raise PermissionDenied
    conn = _connection(connection_id)
    rows = spec.model.objects.filter(connection=conn).order_by(*spec.key, "pk")
    query = request.GET.get("q", "").strip()
    if query:
        match = Q()
        for name in spec.column_names:
            if spec.column(name).kind not in ("date", "list"):
                match |= Q(**{f"{name}__icontains": query})
        rows = rows.filter(match)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    context = {
        "connection": conn,
        "spec": spec,
        "page": page,
        "query": query,
        "rows": [(obj, [spec.row_of(obj)[n] for n in spec.column_names]) for obj in page],
        "can_manage": request.user.has_perm(roles.MANAGE_MAPPINGS),
        "admin_url": reverse(f"admin:mappings_{spec.model._meta.model_name}_changelist"),
        "max_mb": files.max_upload_bytes() // (1024 * 1024),
    }
    template = "mappings/_rows.html" if request.htmx else "mappings/table.html"
    return render(request, template, context)


@manage
def export(request, connection_id: int, table: str):
    _spec(table)
    fmt = _fmt(request)
    name, content = selectors.table_export(
        connection=_connection(connection_id), table=table, file_format=fmt
    )
    return _download(name, content, fmt)


@manage
def template(request, table: str):
    _spec(table)
    fmt = _fmt(request)
    name, content = selectors.table_template(table=table, file_format=fmt)
    return _download(name, content, fmt)


@manage
@require_POST
def upload(request, connection_id: int, table: str):
    _spec(table)
    conn = _connection(connection_id)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        messages.error(request, "Choose a CSV or XLSX file to upload.")
        return redirect("mappings:table", connection_id=conn.pk, table=table)
    if uploaded.size > files.max_upload_bytes():
        limit = files.max_upload_bytes() // (1024 * 1024)
        messages.error(
            request,
            f"{uploaded.name} is {uploaded.size / (1024 * 1024):.1f} MB; the limit is "
            f"{limit} MB. Split it into several files. Nothing was changed.",
        )
        return redirect("mappings:table", connection_id=conn.pk, table=table)
    try:
        result = services.upload_preview(
            connection=conn,
            table=table,
            filename=uploaded.name,
            content=uploaded.read(),
            user=request.user,
        )
    except files.FileRefused as exc:
        messages.error(request, f"{uploaded.name}: {exc} Nothing was changed.")
        return redirect("mappings:table", connection_id=conn.pk, table=table)
    return redirect("mappings:upload_detail", upload_id=result.pk)


@manage
def upload_detail(request, upload_id: int):
    upload_row = get_object_or_404(MappingUpload.objects.select_related("connection"), pk=upload_id)
    return render(
        request,
        "mappings/upload.html",
        {
            "upload": upload_row,
            "spec": TABLES[upload_row.table],
            "preview": upload_row.preview,
            "can_apply": upload_row.status == UploadStatus.PREVIEWED,
        },
    )


@manage
@require_POST
def upload_apply(request, upload_id: int):
    upload_row = get_object_or_404(MappingUpload, pk=upload_id)
    if request.POST.get("action") == "discard":
        services.upload_discard(upload=upload_row, user=request.user)
        messages.info(request, f"{upload_row.filename} was discarded; nothing was changed.")
        return redirect(
            "mappings:table", connection_id=upload_row.connection_id, table=upload_row.table
        )
    try:
        services.upload_apply(upload=upload_row, user=request.user)
    except services.UploadRefused as exc:
        messages.error(request, str(exc))
        return redirect("mappings:upload_detail", upload_id=upload_row.pk)
    counts = upload_row.counts
    messages.success(
        request,
        f"{upload_row.filename} applied: {counts['create']} created, {counts['update']} "
        f"updated, {counts['unchanged']} unchanged.",
    )
    return redirect(
        "mappings:table", connection_id=upload_row.connection_id, table=upload_row.table
    )


@manage
def upload_errors(request, upload_id: int):
    upload_row = get_object_or_404(MappingUpload.objects.select_related("connection"), pk=upload_id)
    if not upload_row.content:
        raise Http404("the file of this upload is no longer kept")
    fmt = _fmt(request)
    header, rows = services.upload_errors(upload_row)
    stem = upload_row.filename.rsplit(".", 1)[0]
    if fmt == "xlsx":
        content = files.write_xlsx(header, rows, "Errors")
    else:
        content = files.write_csv(header, rows)
    return _download(f"{stem}-errors.{fmt}", content, fmt)


def history(request, connection_id: int, table: str):
    if not (
        request.user.has_perm(roles.MANAGE_MAPPINGS)
        or request.user.has_perm("mappings.view_mappingchange")
    ):
        raise PermissionDenied
    spec = _spec(table)
    conn = _connection(connection_id)
    row_id = request.GET.get("row")
    changes = selectors.history(
        connection=conn, table=table, row_id=int(row_id) if row_id and row_id.isdigit() else None
    )
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    entries = []
    for change in page:
        columns = [
            (name, (change.before or {}).get(name, ""), (change.after or {}).get(name, ""))
            for name in spec.column_names
        ]
        entries.append({"change": change, "columns": columns})
    return render(
        request,
        "mappings/history.html",
        {"connection": conn, "spec": spec, "page": page, "entries": entries, "row_id": row_id},
    )


@manage
def coverage(request, connection_id: int):
    conn = _connection(connection_id)
    return render(
        request,
        "mappings/coverage.html",
        {"connection": conn, "gaps": selectors.coverage(connection=conn)},
    )


@manage
def suggestions(request, connection_id: int):
    conn = _connection(connection_id)
    found = selectors.vendor_suggestions(connection=conn)
    if request.method == "POST":
        chosen = set(request.POST.getlist("pair"))
        pairs = [
            (s.procore_vendor_id, s.erp_vendor_id)
            for s in found
            if request.POST.get("all") or f"{s.procore_vendor_id}:{s.erp_vendor_id}" in chosen
        ]
        if not pairs:
            messages.error(request, "Tick at least one suggestion to confirm.")
        else:
            try:
                created = services.vendor_suggestions_confirm(
                    connection=conn, pairs=pairs, user=request.user
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages) + " Nothing was changed.")
            else:
                messages.success(request, f"{len(created)} vendor mapping(s) added.")
        return redirect("mappings:suggestions", connection_id=conn.pk)
    return render(request, "mappings/suggestions.html", {"connection": conn, "suggestions": found})


@manage
@require_POST
def refresh(request, connection_id: int):
    from django_q.tasks import async_task

    conn = _connection(connection_id)
    targets = [conn] + ([conn.procore_connection] if conn.procore_connection else [])
    for target in targets:
        async_task(
            "mappings.jobs.reference_cache_refresh",
            target.pk,
            task_name=f"reference-cache-{target.pk}",
        )
    messages.info(
        request,
        "Reading the reference lists of " + " and ".join(t.name for t in targets) + " in the "
        "background; reload this page in a minute.",
    )
    return redirect("mappings:index")
