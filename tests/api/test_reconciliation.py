"""/api/v1/reconciliation/: the API's figures are the report pages' figures.

For a generated company with planted differences (seeded into the sandboxes, synced through
the engine, reconciled), every figure the API returns is compared with what the portfolio
page and the project pages *render* (parsed from their HTML), and checked on its own: rows
add up to the totals of their currency, currencies stay apart. Who sees what follows the
pages: a project manager the projects assigned to them, 404 for any other.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from accounts import roles
from accounts.models import ProjectAccess
from reconciliation.figures_models import FIGURES, ProjectFigures
from tests.api.conftest import client_for
from tests.factories import UserFactory
from tests.reports.factories import make_run
from tests.reports.support import synced_world

pytestmark = pytest.mark.django_db
PAGE = "/queue/reports/"
API = "/api/v1/reconciliation/"
ZERO = Decimal("0")


# -- what the pages show --------------------------------------------------------------------

ROW = r'<tr {attr}="(?P<key>[^"]*)" data-currency="(?P<cur>[A-Z]{{3}})"[^>]*>(?P<body>.*?)</tr>'
NUM = re.compile(r'<td class="num[^"]*">([^<]*)</td>')
CAUSE = re.compile(r'<span class="cause cause-(\w+)">[^<×]*(?:×(\d+))?</span>')


def page_rows(html: str, attr: str) -> dict[tuple[str, str], dict]:
    """Rows of a report table by (key, currency): the twelve figure cells as rendered, and the
    cause badges."""
    out = {}
    for m in re.finditer(ROW.format(attr=attr), html, re.S):
        out[(m["key"], m["cur"])] = {
            "cells": NUM.findall(m["body"]),
            "causes": {code: int(n or 1) for code, n in CAUSE.findall(m["body"])},
        }
    return out


def page_totals(html: str) -> dict[str, list[str]]:
    table = html.split('id="totals"', 1)[1].split("</table>", 1)[0]
    return {
        m[1]: NUM.findall(m[2])
        for m in re.finditer(r'<tr data-currency="([A-Z]{3})">(.*?)</tr>', table, re.S)
    }


def cells(figures: dict) -> list[str]:
    """An API object's four figures as the page prints them (variance 0 is a dash)."""
    out = []
    for name in FIGURES:
        f = figures[name]
        procore, erp, variance = (Decimal(f[k]) for k in ("procore", "erp", "variance"))
        assert variance == procore - erp, name
        out += [f"{procore:,.2f}", f"{erp:,.2f}", f"{variance:,.2f}" if variance else "—"]
    return out


def api_rows(client, **params) -> list[dict]:
    rows, url = [], f"{API}projects/"
    params = {"page_size": 2, **params}  # several cursor pages
    while url:
        body = client.get(url, params).json()
        rows += body["results"]
        url, params = body["next"], None
    return rows


# -- the generated company ------------------------------------------------------------------


@pytest.fixture(params=["netsuite", "quickbooks"])
def company(request, monkeypatch):
    return synced_world(monkeypatch, request.param)


def test_api_figures_are_the_pages_figures(company, client):
    world, run = company
    user = UserFactory(username="ctl", roles=[roles.CONTROLLER])
    api = client_for(user)
    client.force_login(user)

    html = client.get(PAGE).content.decode()
    shown = page_rows(html, "data-project")
    rows = api_rows(api)
    assert rows and len(rows) == len(shown) == ProjectFigures.objects.filter(run=run).count()
    assert any(r["has_variance"] for r in rows), "the generated company plants differences"
    for r in rows:
        row = shown[(r["procore_project_id"], r["currency"])]
        assert cells(r) == row["cells"], r["procore_project_id"]
        assert r["causes"] == row["causes"], r["procore_project_id"]
        assert r["in_agreement"] is (not r["has_variance"]) and r["run"] == run.pk
        if r["has_variance"]:
            assert r["causes"], "a variance always has a cause"

    portfolio = client_for(user).get(f"{API}portfolio/").json()
    assert [x["run"] for x in portfolio["runs"]] == [run.pk]
    assert f"reconciliation run {run.pk}" in html
    totals = {t["currency"]: t for t in portfolio["totals"]}
    assert {cur: cells(t) for cur, t in totals.items()} == page_totals(html)
    # Independently: each currency's total is the sum of that currency's rows, nothing else.
    for cur, t in totals.items():
        mine = [r for r in rows if r["currency"] == cur]
        assert t["projects"] == len(mine)
        assert t["projects_with_variance"] == sum(r["has_variance"] for r in mine)
        for name in FIGURES:
            for side in ("procore", "erp"):
                want = sum((Decimal(r[name][side]) for r in mine), ZERO)
                assert Decimal(t[name][side]) == want, (cur, name, side)
    if world.kind == "netsuite":
        assert set(totals) == {"USD", "CAD"}  # OneWorld: two currencies, two totals

    # The project pages: per commitment, per vendor, ERP-only documents.
    compared = {"commitments": 0, "vendors": 0, "causes": 0}
    for r in rows:
        pid = r["procore_project_id"]
        html = client.get(f"{PAGE}projects/{pid}/").content.decode()
        body = api.get(f"{API}projects/{pid}/").json()
        assert body["run"]["run"] == run.pk
        assert [cells(t) for t in body["totals"]] == [cells(r)]
        for section, attr in (
            ("commitments", "data-commitment"),
            ("vendors", "data-vendor"),
        ):
            shown = page_rows(html, attr)
            got = {(x["key"], x["currency"]): x for x in body[section]}
            assert set(got) == set(shown), (pid, section)
            for key, x in got.items():
                assert cells(x) == shown[key]["cells"], (pid, section, key)
                assert x["causes"] == shown[key]["causes"], (pid, section, key)
                compared[section] += 1
                compared["causes"] += bool(x["causes"])
        erp_only = re.findall(r'<tr data-erp="([^"]*)"', html)
        assert [x["key"] for x in body["erp_only"]] == erp_only
        # The project's lines add up to its total (ERP-only documents included).
        for name in FIGURES:
            for side in ("procore", "erp"):
                lines = body["commitments"] + body["erp_only"]
                want = sum((Decimal(x[name][side]) for x in lines), ZERO)
                assert Decimal(body["totals"][0][name][side]) == want, (pid, name, side)
    assert compared["commitments"] >= 5 and compared["vendors"] >= 2 and compared["causes"]


def test_filters_are_the_pages_filters(company, client):
    world, run = company
    user = UserFactory(username="ctl", roles=[roles.CONTROLLER])
    api = client_for(user)
    client.force_login(user)
    html = client.get(PAGE + "?variances=on").content.decode()
    flagged = api_rows(api, variances_only="true")
    assert flagged and all(r["has_variance"] for r in flagged)
    assert {(r["procore_project_id"], r["currency"]) for r in flagged} == set(
        page_rows(html, "data-project")
    )
    totals = api.get(f"{API}portfolio/", {"variances_only": "true"}).json()["totals"]
    assert {t["currency"]: cells(t) for t in totals} == page_totals(html)


# -- who sees what --------------------------------------------------------------------------


def test_a_pm_sees_only_assigned_projects_in_the_api_too(client):
    make_run("NetSuite", [("P1", "USD", "100.00"), ("P2", "USD", "250.00"), ("P3", "CAD", "7")])
    pm = UserFactory(username="pm", roles=[roles.PROJECT_MANAGER])
    ProjectAccess.objects.create(user=pm, procore_project_id="P1")
    ProjectAccess.objects.create(user=pm, procore_project_id="P3")
    api = client_for(pm)
    client.force_login(pm)

    rows = api_rows(api)
    assert sorted(r["procore_project_id"] for r in rows) == ["P1", "P3"]
    totals = {t["currency"]: t for t in api.get(f"{API}portfolio/").json()["totals"]}
    assert totals["USD"]["committed"]["procore"] == "100.00"  # P2's 250 is not theirs
    assert totals["CAD"]["committed"]["procore"] == "7.00"  # and never added to USD
    assert {cur: cells(t) for cur, t in totals.items()} == page_totals(
        client.get(PAGE).content.decode()
    )
    assert api.get(f"{API}projects/P1/").status_code == 200
    for pid in ("P2", "nope"):
        response = api.get(f"{API}projects/{pid}/")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    # Naming another project or another PM only narrows what they may see.
    assert api_rows(api, project="P2") == []
    other = UserFactory(username="pm2", roles=[roles.PROJECT_MANAGER])
    ProjectAccess.objects.create(user=other, procore_project_id="P2")
    assert api_rows(api, pm=other.pk) == []


@pytest.mark.parametrize("role", [roles.CONTROLLER, roles.INTEGRATION_ADMIN])
def test_controllers_and_admins_see_every_project(role):
    make_run("NetSuite", [("P1", "USD", "100.00"), ("P2", "CAD", "250.00")])
    api = client_for(UserFactory(username="u", roles=[role], is_staff=True))
    assert sorted(r["procore_project_id"] for r in api_rows(api)) == ["P1", "P2"]
    assert api.get(f"{API}projects/P2/").status_code == 200


def test_no_role_no_figures():
    make_run("NetSuite", [("P1", "USD", "100.00")])
    api = client_for(UserFactory(username="nobody"))
    for path in ("portfolio/", "projects/", "projects/P1/"):
        response = api.get(API + path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"


def test_bad_filters_are_400_in_the_error_shape():
    make_run("NetSuite", [("P1", "USD", "100.00")])
    api = client_for(UserFactory(username="ctl", roles=[roles.CONTROLLER]))
    for params in ({"connection": "x"}, {"status": "closed"}, {"pm": "-1"}):
        response = api.get(f"{API}projects/", params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "invalid"
        assert set(response.json()["error"]["fields"]) == set(params)


def test_currency_and_project_filters_and_the_latest_run_only():
    first = make_run("NetSuite", [("P1", "USD", "100.00"), ("P2", "CAD", "250.00")])
    # A newer run of the same connection replaces the older one.
    from django.utils import timezone

    from reconciliation.models import ReconciliationRun, ReconStatus

    now = timezone.now()
    newer = ReconciliationRun.objects.create(
        connection=first.connection, status=ReconStatus.SUCCEEDED, as_of=now, finished_at=now
    )
    ProjectFigures.objects.create(
        run=newer,
        connection=first.connection,
        procore_project_id="P1",
        currency="USD",
        as_of=now,
        committed_procore=Decimal("5.00"),
        committed_erp=Decimal("5.00"),
    )
    api = client_for(UserFactory(username="ctl", roles=[roles.CONTROLLER]))
    rows = api_rows(api)
    assert [(r["procore_project_id"], r["run"]) for r in rows] == [("P1", newer.pk)]
    assert rows[0]["in_agreement"] is True and rows[0]["causes"] == {}
    assert api_rows(api, currency="cad") == [] and api_rows(api, project="P2") == []
    assert api_rows(api, currency="usd", project="P1")[0]["committed"]["procore"] == "5.00"
