from django.urls import path

from mappings import views

app_name = "mappings"

urlpatterns = [
    path("", views.index, name="index"),
    path("templates/<str:table>/", views.template, name="template"),
    path("uploads/<int:upload_id>/", views.upload_detail, name="upload_detail"),
    path("uploads/<int:upload_id>/apply/", views.upload_apply, name="upload_apply"),
    path("uploads/<int:upload_id>/errors/", views.upload_errors, name="upload_errors"),
    path("<int:connection_id>/coverage/", views.coverage, name="coverage"),
    path("<int:connection_id>/vendor-suggestions/", views.suggestions, name="suggestions"),
    path("<int:connection_id>/refresh/", views.refresh, name="refresh"),
    path("<int:connection_id>/<str:table>/", views.table, name="table"),
    path("<int:connection_id>/<str:table>/export/", views.export, name="export"),
    path("<int:connection_id>/<str:table>/upload/", views.upload, name="upload"),
    path("<int:connection_id>/<str:table>/history/", views.history, name="history"),
]
