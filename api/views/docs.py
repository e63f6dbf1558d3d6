"""The OpenAPI schema and its documentation page (Swagger UI from drf-spectacular-sidecar,
served from our static files: no CDN, and no inline script or style, so the site's content
security policy holds on this page too)."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.base import ApiMixin


class SchemaView(ApiMixin, SpectacularAPIView):
    pass


class DocsView(SpectacularSwaggerSplitView):
    """A page for people: LoginRequiredMiddleware sends anonymous visitors to sign in."""

    template_name = "api/swagger_ui.html"
    url_name = "api:schema"

    @classmethod
    def as_view(cls, *args, **kwargs):
        view = super().as_view(*args, **kwargs)
        # DRF marks its views login_required = False (it authenticates itself); this one is
        # a page, so the site's LoginRequiredMiddleware applies again.
        view.login_required = True
        return view
