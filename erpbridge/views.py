from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from erpbridge.health import run_checks
from erpbridge.navigation import user_roles
from erpbridge.security import ThrottledAuthenticationForm


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """Machine-readable health: 200 when every check is up, 503 otherwise."""
    report = run_checks()
    body = {"status": "ok" if report["ok"] else "down", "checks": report["checks"]}
    return JsonResponse(body, status=200 if report["ok"] else 503)


@require_safe
def home(request):
    return render(request, "home.html", {"roles": user_roles(request.user)})


class LoginView(auth_views.LoginView):
    """Django's sign-in page with throttling per (username, address): see erpbridge.security.
    A refused attempt answers 429 with the reason on the form."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response
