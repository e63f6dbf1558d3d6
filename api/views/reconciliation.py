"""/api/v1/reconciliation/: the PM reports' figures (committed / billed / paid / retained,
Procore vs ERP, with the variances and their causes) for the firm's own tools.

One source of truth: every figure here is read through ``reconciliation.report_selectors``,
the module the report pages (exceptions_ui/views_reports.py) read: the same runs (the
latest successful run of each ERP connection that stored report figures), the same rows
(ProjectFigures, DocumentFigures), the same filters, totals per currency (never added
across currencies), the same causes and the same scoping (project managers the projects
assigned to them in accounts.ProjectAccess, controllers and integration admins every one;
a project someone may not see is a 404, as on the pages).

* ``portfolio/``: the runs it is "as of", and the portfolio page's totals per currency;
* ``projects/``: the portfolio page's rows (one per project and currency), cursor-paged;
* ``projects/{procore_project_id}/``: the project page: its totals, per commitment, per
  vendor, ERP-only documents.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.base import ApiView, ListApiView
from api.pagination import Ascending
from api.permissions import ReadReports
from reconciliation import report_selectors as reports
from reconciliation.figures_models import ProjectFigures as ProjectFiguresModel

FIGURES = reports.FIGURES
MAX_ID = 2**31 - 1


# -- filters (the portfolio page's, plus one project / one currency) ------------------------


class PortfolioQuery(serializers.Serializer):
    subsidiary = serializers.CharField(required=False, allow_blank=True, max_length=40)
    connection = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="One ERP connection"
    )
    status = serializers.ChoiceField(
        choices=["active", "inactive"],
        required=False,
        allow_blank=True,
        help_text="The project's status",
    )
    pm = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A user id: the projects assigned to that project manager",
    )
    variances_only = serializers.BooleanField(
        required=False, default=False, help_text="Only projects with a variance"
    )

    def filters(self) -> reports.PortfolioFilters:
        data = self.validated_data
        return reports.PortfolioFilters(
            subsidiary=data.get("subsidiary") or "",
            connection=data.get("connection"),
            status=data.get("status") or "",
            pm=data.get("pm"),
            variances_only=bool(data.get("variances_only")),
        )


class ProjectsQuery(PortfolioQuery):
    project = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="One Procore project id"
    )
    currency = serializers.CharField(required=False, allow_blank=True, max_length=3)


def _query(serializer_class, request):
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query


# -- shapes ---------------------------------------------------------------------------------


class FigureSerializer(serializers.Serializer):
    procore = serializers.DecimalField(max_digits=18, decimal_places=2)
    erp = serializers.DecimalField(max_digits=18, decimal_places=2)
    variance = serializers.DecimalField(max_digits=18, decimal_places=2)


def figures_of(amounts) -> dict:
    """The four figures, each {procore, erp, variance}, from a dict of ``reports.AMOUNTS``."""
    out = {}
    for name in FIGURES:
        procore, erp = amounts[f"{name}_procore"], amounts[f"{name}_erp"]
        out[name] = {"procore": procore, "erp": erp, "variance": procore - erp}
    return out


class FiguresSerializer(serializers.Serializer):
    committed = FigureSerializer(help_text="Original + approved change orders")
    billed = FigureSerializer(help_text="Work claimed (retainage not deducted)")
    paid = FigureSerializer()
    retained = FigureSerializer(help_text="Retainage held to date, less releases")


class CausesField(serializers.DictField):
    """How many differing documents have each cause (codes of ``reports.CAUSES``)."""

    child = serializers.IntegerField()


class AsOfRunSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    connection = serializers.IntegerField()
    connection_name = serializers.CharField()
    as_of = serializers.DateTimeField()


def run_of(run) -> dict:
    return {
        "run": run.pk,
        "connection": run.connection_id,
        "connection_name": run.connection.name,
        "as_of": run.as_of,
    }


class CurrencyTotalSerializer(FiguresSerializer):
    currency = serializers.CharField()
    projects = serializers.IntegerField()
    projects_with_variance = serializers.IntegerField()


class PortfolioSerializer(serializers.Serializer):
    runs = AsOfRunSerializer(many=True, help_text="The reconciliation runs these figures are as of")
    causes = serializers.DictField(
        child=serializers.CharField(), help_text="Cause codes and what they mean"
    )
    totals = CurrencyTotalSerializer(
        many=True,
        help_text="One line per currency: amounts of different currencies are never added",
    )


class ProjectRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    connection = serializers.IntegerField(source="connection_id")
    connection_name = serializers.SerializerMethodField()
    procore_project_id = serializers.CharField()
    project_name = serializers.CharField()
    project_number = serializers.CharField()
    active = serializers.BooleanField()
    subsidiary_id = serializers.CharField()
    currency = serializers.CharField()
    as_of = serializers.DateTimeField()
    committed = serializers.SerializerMethodField()
    billed = serializers.SerializerMethodField()
    paid = serializers.SerializerMethodField()
    retained = serializers.SerializerMethodField()
    has_variance = serializers.BooleanField()
    in_agreement = serializers.SerializerMethodField()
    causes = serializers.SerializerMethodField()

    def _figure(self, row, name) -> dict:
        """As FigureSerializer writes it (amounts are stored with two places), without a
        serializer per figure: four of them per row cost more than the row's query."""
        procore, erp = getattr(row, f"{name}_procore"), getattr(row, f"{name}_erp")
        variance = procore - erp
        return {"procore": f"{procore:.2f}", "erp": f"{erp:.2f}", "variance": f"{variance:.2f}"}

    def get_connection_name(self, row) -> str:
        return self.context.get("connection_names", {}).get(row.connection_id, "")

    @extend_schema_field(FigureSerializer)
    def get_committed(self, row):
        return self._figure(row, "committed")

    @extend_schema_field(FigureSerializer)
    def get_billed(self, row):
        return self._figure(row, "billed")

    @extend_schema_field(FigureSerializer)
    def get_paid(self, row):
        return self._figure(row, "paid")

    @extend_schema_field(FigureSerializer)
    def get_retained(self, row):
        return self._figure(row, "retained")

    def get_in_agreement(self, row) -> bool:
        return not row.has_variance

    @extend_schema_field(CausesField)
    def get_causes(self, row):
        return self.context.get("causes", {}).get((row.run_id, row.procore_project_id), {})


class ReportLineSerializer(FiguresSerializer):
    key = serializers.CharField(help_text="Procore commitment id, vendor id or erp:<id>")
    label = serializers.CharField()
    title = serializers.CharField()
    currency = serializers.CharField()
    document = serializers.IntegerField(
        allow_null=True, help_text="The document row (its page: /queue/reports/…/documents/N/)"
    )
    status = serializers.CharField()
    vendor = serializers.CharField()
    erp_id = serializers.CharField()
    erp_number = serializers.CharField()
    has_variance = serializers.BooleanField()
    causes = CausesField()
    items = serializers.ListField(
        child=serializers.IntegerField(), help_text="Exception queue items behind the variance"
    )


def line_of(line) -> dict:
    doc = line.doc
    return {
        "key": line.key,
        "label": line.label,
        "title": line.sub,
        "currency": line.currency,
        "document": doc.pk if doc is not None else None,
        "status": doc.status if doc is not None else "",
        "vendor": doc.vendor_name if doc is not None else "",
        "erp_id": doc.erp_id if doc is not None else "",
        "erp_number": doc.erp_number if doc is not None else "",
        "has_variance": line.has_variance,
        "causes": dict(sorted(line.causes.items())),
        "items": [i.pk for i in line.items],
        **figures_of(line.figures),
    }


class ProjectTotalSerializer(FiguresSerializer):
    currency = serializers.CharField()
    has_variance = serializers.BooleanField()


class ProjectReportSerializer(serializers.Serializer):
    procore_project_id = serializers.CharField()
    project_name = serializers.CharField()
    project_number = serializers.CharField()
    run = AsOfRunSerializer()
    totals = ProjectTotalSerializer(many=True, help_text="One line per currency")
    commitments = ReportLineSerializer(many=True, help_text="Pay applications folded in")
    vendors = ReportLineSerializer(many=True, help_text="One line per vendor and currency")
    erp_only = ReportLineSerializer(many=True, help_text="ERP documents Procore does not explain")


# -- views ----------------------------------------------------------------------------------


class Portfolio(ApiView):
    permission_classes = [ReadReports]

    @extend_schema(
        parameters=[PortfolioQuery],
        responses=PortfolioSerializer,
        summary="The portfolio's totals per currency (the projects you may see)",
    )
    def get(self, request):
        f = _query(PortfolioQuery, request).filters()
        runs = reports.latest_runs(f.connection)
        totals, counts = reports.currency_totals(reports.portfolio_rows(request.user, f, runs))
        body = {
            "runs": [run_of(r) for r in runs],
            "causes": reports.CAUSES,
            "totals": [
                {"currency": cur, **counts[cur], **figures_of(sums)} for cur, sums in totals.items()
            ],
        }
        return Response(PortfolioSerializer(body).data)


class ProjectFigures(ListApiView):
    permission_classes = [ReadReports]
    serializer_class = ProjectRowSerializer
    pagination_class = Ascending

    @extend_schema(
        parameters=[ProjectsQuery], summary="Per project and currency (the portfolio's rows)"
    )
    def get(self, request, *args, **kwargs):
        self.query = _query(ProjectsQuery, request)
        self.runs = reports.latest_runs(self.query.validated_data.get("connection"))
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "query", None) is None:  # the schema generator asks, not a request
            return ProjectFiguresModel.objects.none()
        data = self.query.validated_data
        rows = reports.portfolio_rows(self.request.user, self.query.filters(), self.runs)
        if data.get("project"):
            rows = rows.filter(procore_project_id=data["project"])
        if data.get("currency"):
            rows = rows.filter(currency=data["currency"].upper())
        return rows

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        # The page's causes, read as the portfolio page reads them (one query per page).
        flagged = [r.procore_project_id for r in page or () if r.has_variance]
        self.causes = reports.cause_counts(self.runs, flagged) if flagged else {}
        return page

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "causes": getattr(self, "causes", {}),
            "connection_names": {r.connection_id: r.connection.name for r in self.runs},
        }


class ProjectReport(ApiView):
    permission_classes = [ReadReports]

    @extend_schema(
        parameters=[OpenApiParameter("procore_project_id", str, OpenApiParameter.PATH)],
        responses=ProjectReportSerializer,
        summary="One project: totals, per commitment, per vendor, ERP-only documents",
    )
    def get(self, request, procore_project_id: str):
        report = reports.project_report(request.user, procore_project_id)
        if report is None:
            raise NotFound("No such project in your reports.")
        head = report.figures[0]
        body = {
            "procore_project_id": head.procore_project_id,
            "project_name": head.project_name,
            "project_number": head.project_number,
            "run": run_of(report.run),
            "totals": [
                {
                    "currency": r.currency,
                    "has_variance": r.has_variance,
                    **figures_of({n: getattr(r, n) for n in reports.AMOUNTS}),
                }
                for r in report.figures
            ],
            "commitments": [line_of(x) for x in report.commitments],
            "vendors": [line_of(x) for x in report.vendors],
            "erp_only": [line_of(x) for x in report.erp_only],
        }
        return Response(ProjectReportSerializer(body).data)
