"""The Connections area for integration admins: list, create/edit, connect, test.

Views parse input, call a service and render; every remote call happens in
sync/services/authorisation.py through sync.clients.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.roles import MANAGE_CONNECTIONS
from sync.forms import FORMS
from sync.models import Connection, Kind
from sync.selectors import connection_list
from sync.services.authorisation import (
    ConnectFailed,
    connect_finish,
    connect_start,
    connection_test,
    netsuite_connection_save,
)
from sync.services.connections import connection_save
from sync.services.oauth import StateRefused

CONNECT = (MANAGE_CONNECTIONS, "sync.connect_connection")
manage_required = permission_required(MANAGE_CONNECTIONS, raise_exception=True)
connect_required = permission_required(CONNECT, raise_exception=True)
CALLBACKS = {Kind.PROCORE: "sync:procore_callback", Kind.QUICKBOOKS: "sync:quickbooks_callback"}
# Settings the connect flow captures and the form does not edit.
CAPTURED = {Kind.QUICKBOOKS: ("realm_id",)}


def uses_sign_in(connection: Connection) -> bool:
    """Procore user sign-in and QuickBooks connect through the provider's authorize page."""
    if connection.kind == Kind.QUICKBOOKS:
        return True
    return connection.kind == Kind.PROCORE and (
        connection.settings.get("grant", "authorization_code") == "authorization_code"
    )


def site_callback(request, kind: str) -> str:
    """This site's callback for ``kind`` as the admin's browser reaches it."""
    return request.build_absolute_uri(reverse(CALLBACKS[kind]))


@manage_required
@require_safe
def connections(request):
    rows = [(c, uses_sign_in(c)) for c in connection_list()]
    return render(request, "sync/connections.html", {"rows": rows, "kinds": Kind.choices})


def _save(form, connection: Connection | None) -> Connection:
    common = {
        "name": form.cleaned_data["name"],
        "settings": form.settings_values(),
        "secrets": form.secret_values(),
        "procore_connection": form.cleaned_data.get("procore_connection"),
    }
    if form.kind == Kind.NETSUITE:
        return netsuite_connection_save(connection=connection, **common)
    return connection_save(
        connection=connection, kind=form.kind, keep_settings=CAPTURED.get(form.kind, ()), **common
    )


def _edit(request, kind: str, connection: Connection | None):
    form_class = FORMS[kind]
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, instance=connection)
        if form.is_valid():
            try:
                saved = _save(form, connection)
            except ConnectFailed as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Saved {saved.name}.")
                return redirect(f"{reverse('sync:connections')}#connection-{saved.pk}")
    else:
        form = form_class(instance=connection)
    context = {"form": form, "connection": connection, "kind_label": Kind(kind).label}
    return render(request, "sync/connection_form.html", context)


@manage_required
@require_http_methods(["GET", "HEAD", "POST"])
def connection_create(request, kind: str):
    if kind not in FORMS:
        raise Http404("unknown kind of connection")
    return _edit(request, kind, None)


@manage_required
@require_http_methods(["GET", "HEAD", "POST"])
def connection_edit(request, pk: int):
    connection = get_object_or_404(Connection, pk=pk)
    return _edit(request, connection.kind, connection)


@connect_required
@require_POST
def connection_connect(request, pk: int):
    """Start the provider's sign-in: record the state, send the browser to the authorize URL."""
    connection = get_object_or_404(Connection, pk=pk)
    if not uses_sign_in(connection):
        messages.error(request, f"{connection.name} does not sign in through the provider.")
        return redirect("sync:connections")
    url = connect_start(
        connection=connection,
        user=request.user,
        site_callback=site_callback(request, connection.kind),
    )
    return HttpResponseRedirect(url)


def _callback(request, kind: str):
    try:
        connection = connect_finish(
            kind=kind,
            user=request.user,
            params=request.GET.dict(),
            site_callback=site_callback(request, kind),
        )
    except (StateRefused, ConnectFailed) as exc:
        messages.error(request, exc.message)
        return redirect("sync:connections")
    messages.success(request, f"Connected: {connection.name} is healthy.")
    return redirect(f"{reverse('sync:connections')}#connection-{connection.pk}")


@connect_required
@require_safe
def procore_callback(request):
    return _callback(request, Kind.PROCORE)


@connect_required
@require_safe
def quickbooks_callback(request):
    return _callback(request, Kind.QUICKBOOKS)


@manage_required
@require_POST
def connection_check(request, pk: int):
    """ "Test connection": fetch a token and make one cheap read."""
    connection = get_object_or_404(Connection, pk=pk)
    try:
        summary = connection_test(connection=connection)
    except ConnectFailed as exc:
        messages.error(request, f"Test of {connection.name} failed. {exc.message}")
    else:
        messages.success(request, f"Test of {connection.name} passed. {summary}")
    return redirect(f"{reverse('sync:connections')}#connection-{connection.pk}")
