"""The API's base views: DRF does its own authentication (token or session + CSRF) and
answers 401/403 in JSON, so the site's LoginRequiredMiddleware (which would redirect a
token client to the HTML sign-in page) is told to let API views through. Every API view
must derive from these, and ``IsAuthenticated`` stays the default permission; the
permission matrix test (tests/security/test_permission_matrix.py) checks every URL."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from rest_framework import generics
from rest_framework.views import APIView


class ApiMixin:
    # DRF >= 3.15 already marks APIView.as_view() so; kept explicit on purpose, the
    # contract must not depend on a library default.
    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


class ApiView(ApiMixin, APIView):
    pass


class ListApiView(ApiMixin, generics.ListAPIView):
    pass


class RetrieveApiView(ApiMixin, generics.RetrieveAPIView):
    pass
