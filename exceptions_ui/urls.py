from django.urls import path

from exceptions_ui import views, views_reports

app_name = "exceptions_ui"

urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("items/<int:pk>/", views.item_view, name="item"),
    path("items/<int:pk>/status/", views.item_status, name="status"),
    path("items/<int:pk>/approve/", views.approve, name="approve"),
    path("items/<int:pk>/reject/", views.reject, name="reject"),
    path("items/<int:pk>/link/", views.link, name="link"),
    path("items/<int:pk>/retry/", views.retry, name="retry"),
    path("items/<int:pk>/replay/", views.replay, name="replay"),
    path("items/<int:pk>/assign/", views.assign, name="assign"),
    path("items/<int:pk>/comment/", views.comment, name="comment"),
    path("items/<int:pk>/edit/", views.edit, name="edit"),
    path("items/<int:pk>/fix/", views.fix, name="fix"),
    # The PM reports (views_reports.py).
    path("reports/", views_reports.portfolio, name="reports"),
    path("reports/refresh/", views_reports.refresh, name="reports_refresh"),
    path("reports/refresh/status/", views_reports.refresh_status, name="reports_refresh_status"),
    path("reports/projects/<str:project_id>/", views_reports.project, name="report_project"),
    path(
        "reports/projects/<str:project_id>/documents/<int:pk>/",
        views_reports.document,
        name="report_document",
    ),
]
