from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from erpbridge import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("connections/", include("sync.urls")),
    path("mappings/", include("mappings.urls")),
    path("queue/", include("exceptions_ui.urls")),
    path("webhooks/", include("sync.webhook_urls")),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]
