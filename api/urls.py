"""/api/: the REST API (v1), its OpenAPI schema and documentation page."""

from django.urls import path, re_path

from api.errors import not_found
from api.views import audit, docs, exceptions, mappings, reconciliation, sync

app_name = "api"

v1 = [
    path("exceptions/", exceptions.ExceptionList.as_view(), name="exceptions"),
    path("exceptions/<int:pk>/", exceptions.ExceptionDetail.as_view(), name="exception"),
    path("exceptions/<int:pk>/approve/", exceptions.ExceptionApprove.as_view(), name="approve"),
    path("exceptions/<int:pk>/reject/", exceptions.ExceptionReject.as_view(), name="reject"),
    path("exceptions/<int:pk>/retry/", exceptions.ExceptionRetry.as_view(), name="retry"),
    path("exceptions/<int:pk>/assign/", exceptions.ExceptionAssign.as_view(), name="assign"),
    path("exceptions/<int:pk>/comment/", exceptions.ExceptionComment.as_view(), name="comment"),
    path("runs/", sync.RunList.as_view(), name="runs"),
    path("runs/trigger/", sync.RunTrigger.as_view(), name="run_trigger"),
    path("runs/<int:pk>/", sync.RunDetail.as_view(), name="run"),
    path("runs/<int:pk>/records/", sync.RunRecords.as_view(), name="run_records"),
    path("connections/", sync.ConnectionList.as_view(), name="connections"),
    path("connections/<int:pk>/", sync.ConnectionDetail.as_view(), name="connection"),
    path("mappings/", mappings.MappingIndex.as_view(), name="mappings"),
    path("mappings/uploads/<int:pk>/", mappings.UploadDetail.as_view(), name="upload"),
    path("mappings/uploads/<int:pk>/apply/", mappings.UploadApply.as_view(), name="upload_apply"),
    path(
        "mappings/uploads/<int:pk>/discard/",
        mappings.UploadDiscard.as_view(),
        name="upload_discard",
    ),
    path(
        "mappings/<int:connection_id>/<str:table>/",
        mappings.MappingRows.as_view(),
        name="mapping_rows",
    ),
    path(
        "mappings/<int:connection_id>/<str:table>/<int:pk>/",
        mappings.MappingRow.as_view(),
        name="mapping_row",
    ),
    path(
        "mappings/<int:connection_id>/<str:table>/uploads/",
        mappings.UploadCreate.as_view(),
        name="upload_create",
    ),
    path("reconciliation/portfolio/", reconciliation.Portfolio.as_view(), name="portfolio"),
    path("reconciliation/projects/", reconciliation.ProjectFigures.as_view(), name="projects"),
    path(
        "reconciliation/projects/<str:procore_project_id>/",
        reconciliation.ProjectReport.as_view(),
        name="project",
    ),
    path("audit/", audit.AuditList.as_view(), name="audit"),
]

urlpatterns = [
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(), name="docs"),
    *[path("v1/" + str(p.pattern), p.callback, name=p.name) for p in v1],
    # Anything else under /api/ answers the API's JSON 404, not the site's HTML page (any
    # character: an id with a newline in it must not fall through to the site's 404).
    re_path(r"^(?P<rest>[\s\S]*)\Z", not_found, name="not_found"),
]
