"""/connections/: the integration admins' Connections area."""

from django.urls import path

from sync.views import connections as views
from sync.views import runs as run_views

app_name = "sync"

urlpatterns = [
    path("", views.connections, name="connections"),
    path("new/<slug:kind>/", views.connection_create, name="connection_create"),
    path("<int:pk>/", views.connection_edit, name="connection_edit"),
    path("<int:pk>/connect/", views.connection_connect, name="connection_connect"),
    path("<int:pk>/test/", views.connection_check, name="connection_test"),
    # The redirect URIs registered with the providers (sandboxes' DEMO_REDIRECT_URI too).
    path("procore/callback", views.procore_callback, name="procore_callback"),
    path("quickbooks/callback", views.quickbooks_callback, name="quickbooks_callback"),
    # Run history and the triggers an admin starts by hand (sync/views/runs.py).
    path("runs/", run_views.runs, name="runs"),
    path("runs/<int:pk>/", run_views.run_detail, name="run_detail"),
    path("runs/sync-now/", run_views.sync_now, name="sync_now"),
    path("runs/reconcile-now/", run_views.reconcile_now, name="reconcile_now"),
]
