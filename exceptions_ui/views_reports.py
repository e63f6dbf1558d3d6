"""The PM reports: the portfolio, a project (per commitment, per vendor, ERP-only documents),
one document with the queue items behind its variance, the exports, and "refresh now".

Views parse input, call ``reconciliation.report_selectors`` and render. PMs see the projects
assigned to them (accounts.ProjectAccess) and get 404 for any other; controllers and
integration admins see every project; anyone else gets 403.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from exceptions_ui import report_exports as exports
from reconciliation import report_selectors as reports

FIGURE_LABELS = {
    "committed": "Committed",
    "billed": "Billed",
    "paid": "Paid",
    "retained": "Retainage held",
}


def report_reader(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not reports.can_view(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class PortfolioFilterForm(forms.Form):
    subsidiary = forms.ChoiceField(required=False)
    connection = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "any status"), ("active", "Active"), ("inactive", "Inactive")],
    )
    pm = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="PM")
    variances = forms.BooleanField(required=False, label="Only with variances")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = reports.filter_choices(user)
        self.fields["subsidiary"].choices = [("", "every subsidiary"), *choices["subsidiary"]]
        self.fields["connection"].choices = [("", "every ERP"), *choices["connection"]]
        self.fields["pm"].choices = [("", "every PM"), *choices["pm"]]

    def filters(self) -> reports.PortfolioFilters:
        # The valid fields apply even when another is not (a stale PM or connection id in a
        # bookmarked URL must not silently drop the other filters).
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return reports.PortfolioFilters(
            subsidiary=data.get("subsidiary") or "",
            connection=data.get("connection"),
            status=data.get("status") or "",
            pm=data.get("pm"),
            variances_only=bool(data.get("variances")),
        )


def _figures(obj) -> dict:
    if isinstance(obj, dict):
        return obj
    return {name: getattr(obj, name) for name in reports.AMOUNTS}


def _money(value) -> str:
    return f"{value:,.2f}"


def _cells(obj) -> str:
    """The row's twelve figure cells (Procore, ERP, variance per figure), built here: a
    template include or format_html per row cost milliseconds a row. Only formatted
    Decimals go in, so nothing needs escaping."""
    figures = _figures(obj)
    parts = []
    for f in reports.FIGURES:
        ours, theirs = figures[f"{f}_procore"], figures[f"{f}_erp"]
        diff = ours - theirs
        shown = _money(diff) if diff else "—"
        parts.append(
            f'<td class="num">{_money(ours)}</td><td class="num">{_money(theirs)}</td>'
            f'<td class="num{" variance" if diff else ""}">{shown}</td>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - numbers only


def _causes_html(causes) -> str:
    """Cause badges; codes and labels are the constants of reports.CAUSES."""
    return mark_safe(  # noqa: S308 - constants and integers only
        " ".join(
            f'<span class="cause cause-{code}">{label}{f" ×{n}" if n > 1 else ""}</span>'
            for code, label, n in causes
        )
    )


def _chart_projects(rows, limit: int = 25) -> dict:
    """Committed vs billed vs paid (Procore and ERP) for the largest projects by committed,
    one chart per currency so bars of different currencies never share an axis. ``rows``
    come largest first."""
    out: dict[str, dict] = {}
    for row in rows:
        chart = out.setdefault(row["currency"], {"labels": [], "series": {}})
        if len(chart["labels"]) >= limit:
            continue
        chart["labels"].append(row["project_name"] or row["procore_project_id"])
        for f in ("committed", "billed", "paid"):
            for side in reports.SIDES:
                chart["series"].setdefault(f"{f}_{side}", []).append(str(row[f"{f}_{side}"]))
    return out


def _chart_history(history) -> dict:
    out: dict[str, dict] = {}
    for h in history:
        chart = out.setdefault(h["currency"], {"labels": [], "series": {}})
        chart["labels"].append(h["as_of"].strftime("%Y-%m-%d %H:%M"))
        for f in reports.FIGURES:
            chart["series"].setdefault(f, []).append(str(h[f] or 0))
    return out


def _export_format(request) -> str:
    fmt = request.GET.get("format", "")
    return fmt if fmt in ("xlsx", "csv") else ""


# -- the portfolio --------------------------------------------------------------------------


@report_reader
@require_safe
def portfolio(request):
    form = PortfolioFilterForm(request.GET or None, user=request.user)
    f = form.filters()
    fmt = _export_format(request)
    if fmt:
        return _portfolio_export(request, f, fmt)
    page = request.GET.get("page", "1")
    data = reports.portfolio(request.user, f, page=int(page) if page.isdigit() else 1)
    conns = {run.connection_id: run.connection for run in data.runs}
    # One reverse() for the page, not one per row.
    base = reverse("exceptions_ui:report_project", args=["0"])[:-2]
    rows = []
    for r in data.rows:
        r.connection = conns.get(r.connection_id) or r.connection
        counts = data.causes.get((r.run_id, r.procore_project_id), {})
        causes = [(code, reports.CAUSES[code], n) for code, n in sorted(counts.items())]
        rows.append(
            {
                "row": r,
                "url": f"{base}{r.procore_project_id}/",
                "cells": _cells(r),
                "causes": _causes_html(causes),
            }
        )
    params = request.GET.copy()
    params.pop("format", None)
    params.pop("page", None)
    history = reports.variance_history(request.user)
    context = {
        "form": form,
        "data": data,
        "rows": rows,
        "totals": [(cur, _cells(t)) for cur, t in data.totals.items()],
        "labels": FIGURE_LABELS,
        "query": params.urlencode(),
        "charts": {
            "projects": _chart_projects(data.chart_rows),
            "history": _chart_history(history),
        },
        "queue_url": reverse("exceptions_ui:queue"),
        "history": history,
        "refresh": _refresh_context(data.runs),
    }
    return render(request, "exceptions_ui/reports/portfolio.html", context)


def _portfolio_export(request, f, fmt: str):
    qs = reports.portfolio_rows(request.user, f)
    rows = list(qs)
    project_sheet = exports.Sheet(
        "Portfolio",
        ["Project", "Number", "Procore project id", "Status", "Subsidiary", "ERP", "As of"],
        (
            (
                [
                    r.project_name,
                    r.project_number,
                    r.procore_project_id,
                    "Active" if r.active else "Inactive",
                    r.subsidiary_id,
                    r.run.connection.name,
                    r.as_of.isoformat(),
                ],
                r.currency,
                _figures(r),
            )
            for r in _with_runs(rows)
        ),
    )
    totals_sheet = exports.Sheet(
        "Totals per currency",
        [],
        # The page's totals: one per currency, summed by the database over the same rows.
        (([], cur, t) for cur, t in reports.totals_per_currency(qs).items()),
    )
    commitments_sheet = exports.Sheet(
        "Commitments",
        ["Project", "Commitment", "Title", "Status", "Vendor", "ERP number"],
        (
            (
                [c["project"], c["number"], c["title"], c["status"], c["vendor"], c["erp_number"]],
                c["currency"],
                c,
            )
            for c in reports.commitment_rows(request.user, f)
        ),
    )
    sheet = request.GET.get("sheet", "portfolio")
    if fmt == "csv":
        chosen = {"commitments": commitments_sheet, "totals": totals_sheet}.get(
            sheet, project_sheet
        )
        return exports.csv_response(chosen, f"portfolio-{sheet}")
    return exports.xlsx_response([project_sheet, totals_sheet, commitments_sheet], "portfolio")


def _with_runs(rows):
    from reconciliation.models import ReconciliationRun

    runs = {r.pk: r for r in ReconciliationRun.objects.filter(pk__in={x.run_id for x in rows})}
    conns = {c.pk: c for c in reports.erp_connections()}
    for r in rows:
        r.run = runs[r.run_id]
        r.run.connection = conns[r.run.connection_id]
        yield r


# -- a project and a document ---------------------------------------------------------------


def _line(line, doc_base: str = "", item_base: str = "") -> dict:
    causes = [(c, reports.CAUSES[c], n) for c, n in sorted(line.causes.items())]
    items = " ".join(
        f'<a href="{item_base}{i.pk}/">item {i.pk}</a>' for i in line.items if item_base
    )
    return {
        "line": line,
        "url": f"{doc_base}{line.doc.pk}/" if line.doc is not None and doc_base else "",
        "cells": _cells(line.figures),
        "causes": _causes_html(causes),
        "items": mark_safe(items),  # noqa: S308 - URLs and integer ids only
    }


@report_reader
@require_safe
def project(request, project_id: str):
    report = reports.project_report(request.user, project_id)
    if report is None:
        raise Http404("no such project in your reports")
    fmt = _export_format(request)
    if fmt:
        return _project_export(report, project_id, fmt, request.GET.get("sheet", "commitments"))
    head = report.figures[0]
    # One reverse() per kind of link, not one per row.
    doc_base = reverse("exceptions_ui:report_document", args=[project_id, 0])[:-2]
    item_base = reverse("exceptions_ui:item", args=[0])[:-2]
    context = {
        "report": report,
        "head": head,
        "figures": [(r, _cells(r)) for r in report.figures],
        "commitments": [_line(x, doc_base, item_base) for x in report.commitments],
        "vendors": [_line(x) for x in report.vendors],
        "erp_only": [_line(x, doc_base, item_base) for x in report.erp_only],
        "labels": FIGURE_LABELS,
        "queue_url": reverse("exceptions_ui:queue") + f"?project={project_id}&tab=open",
        "queue_base": reverse("exceptions_ui:queue"),
        "charts": {"history": _chart_history(report.history)},
        "history": report.history,
        "refresh": _refresh_context([report.run]),
    }
    return render(request, "exceptions_ui/reports/project.html", context)


def _causes_text(line) -> str:
    return "; ".join(reports.CAUSES[c] for c in sorted(line.causes))


def _project_export(report, project_id: str, fmt: str, sheet: str):
    commitments = exports.Sheet(
        "Commitments",
        ["Commitment", "Title", "Status", "Vendor", "ERP number", "Cause"],
        (
            (
                [
                    x.label,
                    x.sub,
                    x.doc.status if x.doc else "",
                    x.doc.vendor_name if x.doc else "",
                    x.doc.erp_number if x.doc else "",
                    _causes_text(x),
                ],
                x.currency or report.figures[0].currency,
                x.figures,
            )
            for x in report.commitments
        ),
    )
    vendors = exports.Sheet(
        "Vendors",
        ["Vendor", "Cause"],
        (([x.label, _causes_text(x)], x.currency, x.figures) for x in report.vendors),
    )
    erp_only = exports.Sheet(
        "ERP only",
        ["Document", "ERP id"],
        (([x.label, x.doc.erp_id], x.currency, x.figures) for x in report.erp_only),
    )
    name = f"project-{project_id}"
    if fmt == "csv":
        chosen = {"vendors": vendors, "erp_only": erp_only}.get(sheet, commitments)
        return exports.csv_response(chosen, f"{name}-{sheet}")
    return exports.xlsx_response([commitments, vendors, erp_only], name)


@report_reader
@require_safe
def document(request, project_id: str, pk: int):
    found = reports.document(request.user, project_id, pk)
    if found is None:
        raise Http404("no such document in your reports")
    doc = found["doc"]
    context = {
        **found,
        "cells": _cells(doc),
        "cause_label": reports.CAUSES.get(found["cause"], ""),
        "children": [
            {"doc": d, "cells": _cells(d), "cause": reports.CAUSES.get(c, ""), "item": i}
            for d, c, i in found["children"]
        ],
        "labels": FIGURE_LABELS,
        "project_id": project_id,
    }
    return render(request, "exceptions_ui/reports/document.html", context)


# -- refresh now ----------------------------------------------------------------------------


def _refresh_context(runs) -> dict:
    conns = list(reports.erp_connections())
    running = []
    for conn in conns:
        run = reports.running_run(conn.pk)
        if run is not None:
            run.connection = conn
            running.append(run)
    return {"connections": conns, "running": running, "runs": runs}


@report_reader
@require_POST
def refresh(request):
    """Queue a reconciliation of one ERP connection (or each); one already in flight is not
    queued twice."""
    from django_q.tasks import async_task

    wanted = request.POST.get("connection", "")
    conns = reports.erp_connections().filter(procore_connection__isnull=False)
    if wanted.isdigit():
        conns = conns.filter(pk=int(wanted))
    queued = 0
    for conn in conns:
        if reports.running_run(conn.pk) is None:
            async_task("reconciliation.jobs.reconcile_connection", conn.pk, "report")
            queued += 1
    if queued:
        messages.success(request, "Reconciliation queued; the report updates when it finishes.")
    else:
        messages.info(request, "A reconciliation is already running.")
    if request.htmx:
        return _refresh_partial(request)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("exceptions_ui:reports")
    return redirect(target)


def _refresh_partial(request):
    return render(
        request,
        "exceptions_ui/reports/_refresh.html",
        {"refresh": _refresh_context(reports.latest_runs())},
    )


@report_reader
@require_safe
def refresh_status(request):
    return _refresh_partial(request)
