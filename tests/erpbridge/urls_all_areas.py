"""A URL conf in which every navigation area exists, to test the per-role filtering."""

from django.http import HttpResponse
from django.urls import include, path

from erpbridge.urls import urlpatterns as project_urlpatterns


def placeholder(request):
    return HttpResponse("area")


exceptions_ui = (
    [path("queue/", placeholder, name="queue"), path("reports/", placeholder, name="reports")],
    "exceptions_ui",
)
sync = ([path("connections/", placeholder, name="connections")], "sync")
mappings = ([path("mappings/", placeholder, name="index")], "mappings")

# Placeholders first: for a namespace that exists twice, reverse() uses the first one.
urlpatterns = [
    path("", include(exceptions_ui)),
    path("", include(sync)),
    path("", include(mappings)),
    *project_urlpatterns,
]
