"""/api/v1/reconciliation/: the figures of the latest successful reconciliation per ERP
connection (committed / billed / paid / retained, Procore vs ERP, with the variances).

Read through reconciliation.selectors. Who sees what follows the PM reports
(reconciliation.report_selectors): project managers the projects they follow
(accounts.ProjectAccess), controllers and integration admins every project.
The PM reports issue may grow these figures (history, drill-down); the shapes here are the
ones the stored ProjectTotals carry today.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet, Subquery
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers

from accounts import roles
from api.base import ApiView, ListApiView
from api.pagination import Ascending
from api.permissions import ReadReports
from reconciliation.models import ProjectTotals
from sync.models import Connection, Kind

FIGURES = ProjectTotals.FIGURES


def _latest_runs(connection_id: int | None = None) -> dict[int, object]:
    from reconciliation import selectors

    connections = Connection.objects.filter(kind__in=(Kind.NETSUITE, Kind.QUICKBOOKS))
    if connection_id is not None:
        connections = connections.filter(pk=connection_id)
    runs = {}
    for conn in connections.only("pk"):
        run = selectors.latest_run(connection_id=conn.pk)
        if run is not None:
            runs[conn.pk] = run
    return runs


def visible_totals(user, connection_id: int | None = None) -> QuerySet[ProjectTotals]:
    runs = _latest_runs(connection_id)
    totals = ProjectTotals.objects.filter(run_id__in=[r.pk for r in runs.values()])
    # The reports' rule (reconciliation.report_selectors.sees_all).
    if user.has_perm(roles.WORK_EXCEPTION_QUEUE) or user.has_perm(roles.MANAGE_CONNECTIONS):
        return totals
    from accounts.models import ProjectAccess

    mine = ProjectAccess.objects.filter(user_id=user.pk).values("procore_project_id")
    return totals.filter(procore_project_id__in=Subquery(mine))


class FigureSerializer(serializers.Serializer):
    procore = serializers.DecimalField(max_digits=18, decimal_places=2)
    erp = serializers.DecimalField(max_digits=18, decimal_places=2)
    variance = serializers.DecimalField(max_digits=18, decimal_places=2)


class ProjectFiguresSerializer(serializers.ModelSerializer):
    committed = serializers.SerializerMethodField()
    billed = serializers.SerializerMethodField()
    paid = serializers.SerializerMethodField()
    retained = serializers.SerializerMethodField()
    in_agreement = serializers.SerializerMethodField()

    class Meta:
        model = ProjectTotals
        fields = (
            "id",
            "connection",
            "run",
            "procore_project_id",
            "project_name",
            "currency",
            "as_of",
            "committed",
            "billed",
            "paid",
            "retained",
            "in_agreement",
        )

    def _figure(self, totals, name):
        return FigureSerializer(
            {
                "procore": getattr(totals, f"{name}_procore"),
                "erp": getattr(totals, f"{name}_erp"),
                "variance": totals.variance(name),
            }
        ).data

    @extend_schema_field(FigureSerializer)
    def get_committed(self, totals):
        return self._figure(totals, "committed")

    @extend_schema_field(FigureSerializer)
    def get_billed(self, totals):
        return self._figure(totals, "billed")

    @extend_schema_field(FigureSerializer)
    def get_paid(self, totals):
        return self._figure(totals, "paid")

    @extend_schema_field(FigureSerializer)
    def get_retained(self, totals):
        return self._figure(totals, "retained")

    def get_in_agreement(self, totals) -> bool:
        return all(totals.variance(name) == 0 for name in FIGURES)


def _connection_param(request) -> int | None:
    from rest_framework.exceptions import ValidationError

    raw = request.query_params.get("connection", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError({"connection": ["A connection id (a number)."]})
    return int(raw)


FILTERS = [
    OpenApiParameter("connection", int, description="One ERP connection"),
    OpenApiParameter("project", str, description="One Procore project id"),
    OpenApiParameter("currency", str),
    OpenApiParameter("variance_only", bool, description="Only projects that disagree"),
]


class ProjectFigures(ListApiView):
    permission_classes = [ReadReports]
    serializer_class = ProjectFiguresSerializer
    pagination_class = Ascending

    @extend_schema(parameters=FILTERS, summary="Per project and currency, latest run")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        totals = visible_totals(self.request.user, _connection_param(self.request))
        if params.get("project"):
            totals = totals.filter(procore_project_id=params["project"][:64])
        if params.get("currency"):
            totals = totals.filter(currency=params["currency"].upper()[:3])
        if params.get("variance_only") in ("1", "true", "yes"):
            from django.db.models import F, Q

            differs = Q()
            for name in FIGURES:
                differs |= ~Q(**{f"{name}_procore": F(f"{name}_erp")})
            totals = totals.filter(differs)
        return totals


class PortfolioLine(serializers.Serializer):
    connection = serializers.IntegerField()
    connection_name = serializers.CharField()
    currency = serializers.CharField()
    as_of = serializers.DateTimeField()
    projects = serializers.IntegerField()
    projects_with_variance = serializers.IntegerField()
    committed = FigureSerializer()
    billed = FigureSerializer()
    paid = FigureSerializer()
    retained = FigureSerializer()


class PortfolioSerializer(serializers.Serializer):
    results = PortfolioLine(many=True)


class Portfolio(ApiView):
    permission_classes = [ReadReports]

    @extend_schema(
        parameters=[FILTERS[0]],
        responses=PortfolioSerializer,
        summary="Totals per ERP connection and currency (the projects you may see)",
    )
    def get(self, request):
        totals = visible_totals(request.user, _connection_param(request)).select_related(
            "connection"
        )
        lines: dict[tuple[int, str], dict] = {}
        sums: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for row in totals.order_by("connection__name", "currency").iterator(chunk_size=2000):
            key = (row.connection_id, row.currency)
            line = lines.setdefault(
                key,
                {
                    "connection": row.connection_id,
                    "connection_name": row.connection.name,
                    "currency": row.currency,
                    "as_of": row.as_of,
                    "projects": 0,
                    "projects_with_variance": 0,
                },
            )
            line["projects"] += 1
            if any(row.variance(name) != 0 for name in FIGURES):
                line["projects_with_variance"] += 1
            for name in FIGURES:
                sums[key][f"{name}_procore"] += getattr(row, f"{name}_procore")
                sums[key][f"{name}_erp"] += getattr(row, f"{name}_erp")
        results = []
        for key, line in lines.items():
            for name in FIGURES:
                procore, erp = sums[key][f"{name}_procore"], sums[key][f"{name}_erp"]
                line[name] = {"procore": procore, "erp": erp, "variance": procore - erp}
            results.append(line)
        from rest_framework.response import Response

        return Response(PortfolioSerializer({"results": results}).data)
