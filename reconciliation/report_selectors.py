"""Reads for the PM reports (HackSoft selectors: no writes). The UI imports this module; the
engine never imports the UI.

Everything comes from the latest successful reconciliation run of each ERP connection
(ProjectFigures / DocumentFigures, written by ``reconciliation.figures``), so a report is
"as of" that run and never calls Procore or the ERP. Amounts are never added across
currencies: totals are kept per currency. A variance's cause is read at request time from the
exception queue (the record's item: waiting, rejected, a reconciliation drift), else it has
not been synced yet; ERP documents nothing in Procore accounts for are "only in the ERP".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Subquery, Sum
from django.db.models.functions import Abs

from accounts import roles
from reconciliation.figures_models import FIGURES, DocKind, DocumentFigures, ProjectFigures
from reconciliation.models import ReconciliationRun, ReconStatus
from sync.models import ACTIVE_STATUSES, Connection, ExceptionItem, ItemStatus

DRIFT = "RECONCILIATION_DRIFT"
ZERO = Decimal("0")
SIDES = ("procore", "erp")
AMOUNTS = tuple(f"{f}_{s}" for f in FIGURES for s in SIDES)
CAUSES = {
    "queue": "Waiting in the exception queue",
    "rejected": "Rejected in the queue",
    "drift": "Drift found by reconciliation",
    "not_synced": "Not yet synced",
    "erp_only": "Only in the ERP",
}
# Which queue items explain a document row (object types of the engine's items).
ITEM_TYPES = {
    DocKind.COMMITMENT: ("commitment", "commitment_change_order"),
    DocKind.REQUISITION: ("requisition", "retainage_release", "payment"),
    DocKind.ERP_BILL: ("erp_bill",),
    DocKind.ERP_PO: ("erp_po",),
}


# -- who sees what --------------------------------------------------------------------------


def can_view(user) -> bool:
    return sees_all(user) or user.has_perm(roles.VIEW_REPORTS)


def sees_all(user) -> bool:
    """Controllers and integration admins read every project; PMs their assigned ones."""
    return user.has_perm(roles.WORK_EXCEPTION_QUEUE) or user.has_perm(roles.MANAGE_CONNECTIONS)


def visible_projects(user):
    """None: every project; else a subquery of the user's Procore project ids."""
    from accounts.models import ProjectAccess

    if sees_all(user):
        return None
    return ProjectAccess.objects.filter(user_id=user.pk).values("procore_project_id")


def _scoped(qs, user):
    projects = visible_projects(user)
    return qs if projects is None else qs.filter(procore_project_id__in=Subquery(projects))


# -- runs -----------------------------------------------------------------------------------


# Reports show connection names only: never load (and decrypt) the credentials.
SECRET_FIELDS = ("secrets_encrypted", "token_encrypted")


def erp_connections():
    return (
        Connection.objects.filter(kind__in=("netsuite", "quickbooks"))
        .defer(*SECRET_FIELDS)
        .order_by("name", "pk")
    )


def latest_runs(connection_id: int | None = None) -> list[ReconciliationRun]:
    """The latest successful run of each ERP connection that stored report figures."""
    conns = erp_connections()
    if connection_id:
        conns = conns.filter(pk=connection_id)
    runs = []
    for conn in conns:
        run = (
            ReconciliationRun.objects.filter(
                connection=conn, status=ReconStatus.SUCCEEDED, project_figures__isnull=False
            )
            .order_by("-started_at", "-pk")
            .first()
        )
        if run is not None:
            run.connection = conn  # already loaded, without its credentials
            runs.append(run)
    return runs


def running_run(connection_id: int) -> ReconciliationRun | None:
    return (
        ReconciliationRun.objects.filter(connection_id=connection_id, status=ReconStatus.RUNNING)
        .order_by("-pk")
        .first()
    )


# -- the portfolio --------------------------------------------------------------------------


@dataclass
class PortfolioFilters:
    subsidiary: str = ""
    connection: int | None = None
    status: str = ""  # "active" | "inactive" | ""
    pm: int | None = None  # a user id: the projects assigned to them
    variances_only: bool = False


PER_PAGE = 100


@dataclass
class Portfolio:
    runs: list[ReconciliationRun]
    rows: list[ProjectFigures]  # this page's rows
    totals: dict[str, dict[str, Decimal]]  # currency -> figure_side -> sum (every row)
    causes: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)
    count: int = 0
    page: int = 1
    pages: int = 1
    chart_rows: list[dict] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> counts


def portfolio_rows(user, f: PortfolioFilters, runs=None):
    from accounts.models import ProjectAccess

    runs = latest_runs(f.connection) if runs is None else runs
    qs = _scoped(ProjectFigures.objects.filter(run__in=[r.pk for r in runs]), user)
    if f.subsidiary:
        qs = qs.filter(subsidiary_id=f.subsidiary)
    if f.status in ("active", "inactive"):
        qs = qs.filter(active=f.status == "active")
    if f.pm:
        assigned = ProjectAccess.objects.filter(user_id=f.pm).values("procore_project_id")
        qs = qs.filter(procore_project_id__in=Subquery(assigned))
    if f.variances_only:
        qs = qs.filter(has_variance=True)
    return qs.order_by("project_name", "procore_project_id", "currency")


def _with_variances(out):
    for sums in out.values():
        for figure in FIGURES:
            sums[f"{figure}_variance"] = sums[f"{figure}_procore"] - sums[f"{figure}_erp"]
    return dict(sorted(out.items()))


def currency_totals(qs) -> tuple[dict[str, dict[str, Decimal]], dict[str, dict[str, int]]]:
    """One sum per currency, computed by the database over every filtered row (amounts of
    different currencies are never added), and per currency how many rows (projects) there
    are and how many have a variance. The page, its exports and the API all read these."""
    rows = (
        qs.order_by()
        .values("currency")
        .annotate(
            **{n: Sum(n) for n in AMOUNTS},
            projects=Count("pk"),
            projects_with_variance=Count("pk", filter=Q(has_variance=True)),
        )
    )
    totals, counts = {}, {}
    for r in rows:
        totals[r["currency"]] = {n: r[n] or ZERO for n in AMOUNTS}
        counts[r["currency"]] = {
            "projects": r["projects"],
            "projects_with_variance": r["projects_with_variance"],
        }
    return _with_variances(totals), dict(sorted(counts.items()))


def totals_per_currency(qs) -> dict[str, dict[str, Decimal]]:
    return currency_totals(qs)[0]


def portfolio(user, f: PortfolioFilters, page: int = 1, per_page: int = PER_PAGE) -> Portfolio:
    """One page of projects (``per_page`` rows, by name) with the causes of their variances;
    the totals per currency and the chart's figures cover every filtered project."""
    runs = latest_runs(f.connection)
    qs = portfolio_rows(user, f, runs)
    count = qs.count()
    pages = max(1, -(-count // per_page))
    page = min(max(1, page), pages)
    rows = list(qs[(page - 1) * per_page : page * per_page])
    chart_rows = list(
        qs.order_by("-committed_procore").values(
            "currency",
            "project_name",
            "procore_project_id",
            *(f"{x}_{side}" for x in ("committed", "billed", "paid") for side in SIDES),
        )
    )
    totals, counts = currency_totals(qs)
    out = Portfolio(
        runs=runs,
        rows=rows,
        totals=totals,
        count=count,
        page=page,
        pages=pages,
        chart_rows=chart_rows,
        counts=counts,
    )
    flagged = [r for r in rows if r.has_variance]
    if flagged:
        out.causes = cause_counts(runs, [r.procore_project_id for r in flagged])
    return out


def cause_counts(runs, project_ids) -> dict[tuple[int, str], dict[str, int]]:
    """Per (run, project): how many differing documents have each cause. Plain tuples, no
    model instances: a page of 100 projects may have thousands of differing documents."""
    docs = DocumentFigures.objects.filter(
        run__in=[r.pk for r in runs], has_variance=True, procore_project_id__in=project_ids
    ).values_list("run_id", "connection_id", "procore_project_id", "kind", "procore_id", "erp_id")
    items = ExceptionItem.objects.filter(
        connection_id__in={r.connection_id for r in runs}, procore_project_id__in=project_ids
    ).values_list("connection_id", "object_type", "procore_id", "status", "reason_code")
    found: dict[tuple, list[tuple[str, str]]] = defaultdict(list)
    for conn, object_type, procore_id, status, code in items.order_by("pk"):
        found[(conn, object_type, procore_id)].append((status, code))
    out: dict[tuple[int, str], dict[str, int]] = {}
    for run_id, conn, project, kind, procore_id, erp_id in docs:
        erp_only = kind in (DocKind.ERP_BILL, DocKind.ERP_PO)
        key = f"erp:{erp_id}" if erp_only else procore_id
        marks = [m for t in ITEM_TYPES.get(kind, ()) for m in found.get((conn, t, key), ())]
        cause = _cause(marks, erp_only)
        counts = out.setdefault((run_id, project), {})
        counts[cause] = counts.get(cause, 0) + 1
    return out


def _cause(marks: list[tuple[str, str]], erp_only: bool) -> str:
    active = [code for status, code in marks if status in ACTIVE_STATUSES]
    if DRIFT in active:
        return "drift"
    if active:
        return "queue"
    if any(status == ItemStatus.REJECTED for status, _code in marks):
        return "rejected"
    return "erp_only" if erp_only else "not_synced"


def filter_choices(user) -> dict[str, list[tuple[str, str]]]:
    """Subsidiaries, ERP connections and PMs for the filter form."""
    from django.contrib.auth import get_user_model

    from accounts.models import ProjectAccess
    from mappings.models import ReferenceRecord

    runs = latest_runs()
    subs = sorted(
        set(
            _scoped(ProjectFigures.objects.filter(run__in=[r.pk for r in runs]), user)
            .exclude(subsidiary_id="")
            .values_list("connection_id", "subsidiary_id")
        )
    )
    names = {
        (r.connection_id, r.remote_id): r.name
        for r in ReferenceRecord.objects.filter(kind="subsidiary")
    }
    pm_ids = ProjectAccess.objects.values("user_id")
    pms = get_user_model().objects.filter(pk__in=Subquery(pm_ids)).order_by("username")
    if not sees_all(user):
        pms = pms.filter(pk=user.pk)
    return {
        "subsidiary": sorted({(s, names.get((c, s)) or f"Subsidiary {s}") for c, s in subs}),
        "connection": [(str(c.pk), c.name) for c in erp_connections()],
        "pm": [(str(u.pk), u.get_full_name() or u.get_username()) for u in pms],
    }


# -- causes ---------------------------------------------------------------------------------


def _item_key(doc: DocumentFigures) -> str:
    return f"erp:{doc.erp_id}" if doc.kind in (DocKind.ERP_BILL, DocKind.ERP_PO) else doc.procore_id


def items_for(docs: list[DocumentFigures]) -> dict[tuple, list[ExceptionItem]]:
    """Queue items (any status) per (connection, object type, procore id) of ``docs``."""
    if not docs:
        return {}
    projects = {d.procore_project_id for d in docs}
    conns = {d.connection_id for d in docs}
    keys = {_item_key(d) for d in docs}
    out: dict[tuple, list[ExceptionItem]] = defaultdict(list)
    items = ExceptionItem.objects.filter(
        connection_id__in=conns, procore_project_id__in=projects
    ).only(
        "pk",
        "connection_id",
        "object_type",
        "procore_id",
        "status",
        "reason_code",
        "explanation",
        "document_number",
        "amount",
        "opened_at",
    )
    for item in items.order_by("pk"):
        if item.procore_id in keys:
            out[(item.connection_id, item.object_type, item.procore_id)].append(item)
    return out


def cause_of(doc: DocumentFigures, items: list[ExceptionItem]) -> tuple[str, ExceptionItem | None]:
    erp_only = doc.kind in (DocKind.ERP_BILL, DocKind.ERP_PO)
    cause = _cause([(i.status, i.reason_code) for i in items], erp_only)
    active = [i for i in items if i.status in ACTIVE_STATUSES]
    if cause == "drift":
        return cause, next(i for i in active if i.reason_code == DRIFT)
    if cause == "queue":
        return cause, active[-1]
    if cause == "rejected":
        return cause, [i for i in items if i.status == ItemStatus.REJECTED][-1]
    return cause, None


def with_causes(docs) -> Iterator[tuple[DocumentFigures, str, ExceptionItem | None]]:
    docs = list(docs)
    found = items_for(docs)
    for doc in docs:
        items = [
            i
            for t in ITEM_TYPES.get(doc.kind, ())
            for i in found.get((doc.connection_id, t, _item_key(doc)), ())
        ]
        cause, item = cause_of(doc, items) if doc.has_variance else ("", None)
        yield doc, cause, item


# -- a project ------------------------------------------------------------------------------


@dataclass
class Line:
    """A commitment (its requisitions folded in), a vendor, or an ERP-only document."""

    key: str
    label: str
    sub: str = ""
    currency: str = ""
    figures: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(AMOUNTS, ZERO))
    doc: DocumentFigures | None = None
    causes: dict[str, int] = field(default_factory=dict)
    items: list[ExceptionItem] = field(default_factory=list)
    children: list = field(default_factory=list)

    def add(self, doc: DocumentFigures) -> None:
        for name in AMOUNTS:
            self.figures[name] += getattr(doc, name)

    def variance(self, figure: str) -> Decimal:
        return self.figures[f"{figure}_procore"] - self.figures[f"{figure}_erp"]

    @property
    def has_variance(self) -> bool:
        return any(self.variance(f) for f in FIGURES)


@dataclass
class ProjectReport:
    run: ReconciliationRun
    figures: list[ProjectFigures]
    commitments: list[Line]
    vendors: list[Line]
    erp_only: list[Line]
    history: list[dict]


def project_figures(user, procore_project_id: str, run_id: int | None = None):
    """The project's rows in the latest runs (or one given run); empty when not visible."""
    runs = [r.pk for r in latest_runs()] if run_id is None else [run_id]
    qs = ProjectFigures.objects.filter(run__in=runs, procore_project_id=procore_project_id)
    rows = list(_scoped(qs, user).select_related("run"))
    conns = {c.pk: c for c in erp_connections()}
    for row in rows:
        row.run.connection = row.connection = conns.get(row.connection_id, row.connection)
    return rows


def project_report(user, procore_project_id: str) -> ProjectReport | None:
    figures = project_figures(user, procore_project_id)
    if not figures:
        return None
    run = figures[0].run
    docs = DocumentFigures.objects.filter(run=run, procore_project_id=procore_project_id).order_by(
        "kind", "vendor_name", "number", "pk"
    )
    commitments: dict[str, Line] = {}
    vendors: dict[tuple[str, str], Line] = {}
    erp_only: list[Line] = []
    names = erp_vendor_names(run.connection_id)
    for doc, cause, item in with_causes(docs):
        if doc.kind == DocKind.COMMITMENT:
            line = commitments.setdefault(
                doc.commitment_id, Line(doc.commitment_id, "", currency=doc.currency)
            )
            line.label, line.sub, line.doc, line.currency = (
                doc.number or doc.procore_id,
                doc.title,
                doc,
                doc.currency,
            )
        elif doc.kind == DocKind.REQUISITION:
            line = commitments.setdefault(
                doc.commitment_id, Line(doc.commitment_id, "", currency=doc.currency)
            )
        else:
            line = Line(f"erp:{doc.erp_id}", doc.title, doc=doc, currency=doc.currency)
            erp_only.append(line)
        line.add(doc)
        if doc.kind == DocKind.REQUISITION:
            line.children.append((doc, cause, item))
        if cause:
            line.causes[cause] = line.causes.get(cause, 0) + 1
            if item is not None and item not in line.items:
                line.items.append(item)
        vkey = doc.vendor_id or f"erp:{doc.erp_vendor_id}"
        vname = doc.vendor_name or names.get(doc.erp_vendor_id) or f"ERP vendor {doc.erp_vendor_id}"
        # One line per vendor and currency: amounts of different currencies are never added.
        vendor = vendors.setdefault((vkey, doc.currency), Line(vkey, vname, currency=doc.currency))
        vendor.add(doc)
        if cause:
            vendor.causes[cause] = vendor.causes.get(cause, 0) + 1
    for line in commitments.values():
        if not line.label:  # pay apps of a commitment with no row of its own
            line.label = f"Commitment {line.key}"
    return ProjectReport(
        run=run,
        figures=figures,
        commitments=sorted(commitments.values(), key=lambda x: (x.label, x.key)),
        vendors=sorted(vendors.values(), key=lambda x: (x.label.lower(), x.currency)),
        erp_only=erp_only,
        history=variance_history(user, procore_project_id=procore_project_id),
    )


def erp_vendor_names(connection_id: int) -> dict[str, str]:
    from mappings.models import ReferenceRecord

    return dict(
        ReferenceRecord.objects.filter(connection_id=connection_id, kind="vendor").values_list(
            "remote_id", "name"
        )
    )


def document(user, procore_project_id: str, pk: int):
    """One document row of a visible project in its run, with its cause, its queue items and
    (for a commitment) its pay applications; None when not visible."""
    doc = DocumentFigures.objects.select_related("run").filter(pk=pk).first()
    if doc is None or doc.procore_project_id != procore_project_id:
        return None
    figures = project_figures(user, procore_project_id, run_id=doc.run_id)
    if not figures:
        return None
    doc.connection = figures[0].connection
    [(doc, cause, item)] = list(with_causes([doc]))
    found = items_for([doc])
    items = [
        i
        for t in ITEM_TYPES.get(doc.kind, ())
        for i in found.get((doc.connection_id, t, _item_key(doc)), ())
    ]
    children = []
    if doc.kind == DocKind.COMMITMENT:
        children = list(
            with_causes(
                DocumentFigures.objects.filter(
                    run_id=doc.run_id, kind=DocKind.REQUISITION, commitment_id=doc.procore_id
                ).order_by("number", "pk")
            )
        )
    return {"doc": doc, "cause": cause, "item": item, "items": items, "children": children}


# -- history (variance over time) -----------------------------------------------------------


def variance_history(user, *, procore_project_id: str | None = None, limit: int = 30):
    """Per stored run and currency: the absolute variance of each figure summed over the
    (visible) projects, oldest first."""
    qs = _scoped(ProjectFigures.objects.all(), user)
    if procore_project_id:
        qs = qs.filter(procore_project_id=procore_project_id)
    run_ids = list(qs.order_by("-run_id").values_list("run_id", flat=True).distinct()[: limit * 4])
    rows = (
        qs.filter(run_id__in=run_ids)
        .values("run_id", "as_of", "currency", "connection__name")
        .annotate(
            **{figure: Sum(Abs(F(f"{figure}_procore") - F(f"{figure}_erp"))) for figure in FIGURES}
        )
        .order_by("as_of", "run_id", "currency")
    )
    return list(rows)[-limit * 4 :]


# -- exports --------------------------------------------------------------------------------


def commitment_rows(user, f: PortfolioFilters) -> Iterator[dict]:
    """Every commitment of the filtered portfolio with its pay apps folded in, streamed in
    (run, project, commitment) order so memory stays flat whatever the size."""
    runs = latest_runs(f.connection)
    projects = portfolio_rows(user, f, runs).values("procore_project_id")
    docs = (
        DocumentFigures.objects.filter(
            run__in=[r.pk for r in runs],
            kind__in=(DocKind.COMMITMENT, DocKind.REQUISITION),
            procore_project_id__in=Subquery(projects),
        )
        .order_by("run_id", "procore_project_id", "commitment_id", "kind", "pk")
        .values(
            "run_id",
            "procore_project_id",
            "commitment_id",
            "kind",
            "currency",
            "number",
            "title",
            "status",
            "vendor_name",
            "erp_number",
            "matched_by",
            *AMOUNTS,
        )
        .iterator(chunk_size=2000)
    )
    names = dict(
        ProjectFigures.objects.filter(run__in=[r.pk for r in runs]).values_list(
            "procore_project_id", "project_name"
        )
    )
    current: dict | None = None
    for d in docs:
        key = (d["run_id"], d["procore_project_id"], d["commitment_id"])
        if current is None or current["key"] != key:
            if current is not None:
                yield current
            current = {
                "key": key,
                "project": names.get(d["procore_project_id"], d["procore_project_id"]),
                "number": "",
                "title": "",
                "status": "",
                "vendor": d["vendor_name"],
                "erp_number": "",
                "currency": d["currency"],
                **dict.fromkeys(AMOUNTS, ZERO),
            }
        if d["kind"] == DocKind.COMMITMENT:
            for name in ("number", "title", "status", "erp_number"):
                current[name] = d[name]
        for name in AMOUNTS:
            current[name] += d[name]
    if current is not None:
        yield current
