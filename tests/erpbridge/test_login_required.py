"""Every URL needs a signed-in user, except the public ones. The URL conf is walked, not
listed, so a view added later is covered the day it is added."""

import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

PUBLIC_URL_NAMES = {"login", "healthz", "admin:login"}
PUBLIC_PREFIXES = ("/webhooks/",)
# The REST API authenticates itself (token or session) and answers 401 in JSON instead of
# redirecting a program to an HTML page; its documentation page is for people and redirects.
API_PREFIX = "/api/"
API_PAGES = {"api:docs"}

CONVERTER_VALUES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "uuid": str(uuid.UUID(int=1)),
    "path": "x/y",
}
REGEX_CANDIDATES = ("1", "x", "auth", "accounts", "x/y")


def _fill_route(route: str) -> str:
    def value(match):
        converter = match.group(1) or "str"
        return CONVERTER_VALUES.get(converter, "1")

    return re.sub(r"<(?:(\w+):)?\w+>", value, route)


def _fill_regex(regex: str) -> str:
    def value(match):
        group = match.group(2)
        for candidate in (*REGEX_CANDIDATES, *group.split("|")):
            if re.fullmatch(group, candidate):
                return candidate
        raise AssertionError(f"no dummy value matches {group!r}")

    filled = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", value, regex)
    filled = filled.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return filled.replace("\\", "")


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(pattern.url_patterns, prefix + _piece(pattern), full_ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield "/" + prefix + _piece(pattern), name


def _piece(pattern) -> str:
    raw = str(pattern.pattern)
    if hasattr(pattern.pattern, "_route"):
        return _fill_route(raw)
    return _fill_regex(raw)


def all_urls():
    seen = {}
    for path, name in _walk(get_resolver().url_patterns):
        seen.setdefault(path, name)
    return sorted(seen.items())


def is_public(path: str, name: str | None) -> bool:
    return name in PUBLIC_URL_NAMES or path.startswith(PUBLIC_PREFIXES)


def is_api(path: str, name: str | None) -> bool:
    return path.startswith(API_PREFIX) and name not in API_PAGES


def test_the_walk_covers_the_project_and_the_admin():
    paths = {path for path, _ in all_urls()}

    assert "/" in paths
    assert "/healthz" in paths
    assert "/admin/" in paths
    assert any(p.startswith("/admin/django_q/schedule/") for p in paths)
    assert len(paths) > 30


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name"), [u for u in all_urls() if not is_public(*u) and not is_api(*u)]
)
def test_anonymous_user_is_sent_to_login(client, path, name):
    resolve(path)  # the dummy values must reach the view, or this test proves nothing

    response = client.get(path)

    assert response.status_code == 302, f"{path} ({name}) answered {response.status_code}"
    target = urlsplit(response["Location"]).path
    assert target in {reverse(settings.LOGIN_URL), reverse("admin:login")}, (
        f"{path} ({name}) redirected to {target}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "name"), [u for u in all_urls() if is_public(*u)])
def test_public_urls_do_not_redirect_to_login(client, path, name):
    response = client.get(path)

    location = urlsplit(response.get("Location", "")).path
    assert location not in {reverse(settings.LOGIN_URL), reverse("admin:login")}, path
    assert response.status_code in {200, 405, 503}, f"{path} answered {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "name"), [u for u in all_urls() if is_api(*u)])
def test_anonymous_api_requests_get_a_json_401(client, path, name):
    response = client.get(path, HTTP_ACCEPT="application/json")

    expected = 404 if name == "api:not_found" else 401
    assert response.status_code == expected, f"{path} ({name}) answered {response.status_code}"
    assert response.json()["error"]["status"] == expected
