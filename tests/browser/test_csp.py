"""The content security policy holds in a real browser: the dashboard, the exception queue,
the reports (with their Chart.js charts, vendored) and the API's documentation page render
with no CSP violation, and a script injected inline is refused.

Violations are caught two ways: Chromium's console ("Refused to … because it violates the
following Content Security Policy directive"), and the page's own ``securitypolicyviolation``
events, recorded by a script Playwright adds to every page before the page's scripts run
(the browser does not hold such init scripts to the page's policy).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import roles
from accounts.services import roles_sync
from reconciliation.figures_models import DocumentFigures, ProjectFigures
from reconciliation.models import ReconciliationRun, ReconStatus
from tests.api.conftest import make_item
from tests.browser.test_queue import login
from tests.factories import UserFactory
from tests.reports.factories import make_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample});
});
"""
CSP_CONSOLE = re.compile(r"Content Security Policy|Refused to", re.I)


@pytest.fixture
def reports_world():
    """Two reconciliation runs of a NetSuite connection (USD and CAD projects), so the
    portfolio draws both charts: committed vs billed vs paid, and variance over time; and a
    queue item so the queue has a row."""
    roles_sync()  # transactional tests flush the groups the migration made
    first = make_run("NetSuite", [("P1", "USD", "1000.00"), ("P2", "CAD", "400.00")])
    now = timezone.now()
    second = ReconciliationRun.objects.create(
        connection=first.connection, status=ReconStatus.SUCCEEDED, as_of=now, finished_at=now
    )
    for row in ProjectFigures.objects.filter(run=first):
        row.pk, row.run, row.as_of = None, second, now
        row.billed_procore, row.paid_procore = Decimal("500.00"), Decimal("250.00")
        row.save()
    for doc in DocumentFigures.objects.filter(run=first):
        doc.pk, doc.run = None, second
        doc.save()
    from sync.models import Connection, Kind

    procore = Connection.objects.create(name="Procore", kind=Kind.PROCORE, settings={})
    Connection.objects.filter(pk=first.connection_id).update(procore_connection=procore)
    make_item(first.connection, 1)
    return second


def watch(page) -> list[str]:
    console: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda msg: console.append(msg.text) if CSP_CONSOLE.search(msg.text) else None,
    )
    return console


def violations(page) -> list:
    return page.evaluate("window.__csp")


def test_pages_render_with_no_csp_violation(browser, live_server, reports_world, artifacts):
    UserFactory(username="carla", roles=[roles.CONTROLLER], is_staff=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console = watch(page)
    login(page, live_server, "carla")
    doc = DocumentFigures.objects.filter(run=reports_world, procore_project_id="P1").first()
    pages = {
        "dashboard": "/",
        "queue": "/queue/",
        "reports": "/queue/reports/",
        "report-project": "/queue/reports/projects/P1/",
        "report-document": f"/queue/reports/projects/P1/documents/{doc.pk}/",
        "api-docs": "/api/docs/",
    }
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "content-security-policy" in response.headers, path
        page.wait_for_load_state("networkidle")
        if name.startswith("report") and name != "report-document":
            # The charts drew: Chart.js (vendored, loaded from our origin) owns every canvas.
            drawn = page.evaluate(
                "[...document.querySelectorAll('canvas[data-chart]')]"
                ".map((c) => !!(window.Chart && window.Chart.getChart(c)))"
            )
            assert drawn and all(drawn), (path, drawn)
        if name == "api-docs":
            page.wait_for_selector(".swagger-ui .info", timeout=15000)
        page.screenshot(path=str(artifacts / f"csp-{name}.png"), full_page=True)
        assert violations(page) == [], (path, violations(page))
    assert console == [], console


def test_an_injected_inline_script_is_blocked(browser, live_server, reports_world):
    UserFactory(username="carla", roles=[roles.CONTROLLER])
    page = browser.new_page()
    console = watch(page)
    login(page, live_server, "carla")
    page.goto(live_server.url + "/queue/reports/")
    page.wait_for_load_state("networkidle")
    assert violations(page) == []

    # What an attacker who got markup into the page would try: an inline script element, an
    # inline event handler, and a javascript: URL.
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__pwned = 'inline';";
          document.body.appendChild(s);
          const img = document.createElement("img");
          img.setAttribute("onerror", "window.__pwned = 'handler';");
          img.src = "/nothing-here.png";
          document.body.appendChild(img);
          const a = document.createElement("a");
          a.href = "javascript:window.__pwned = 'url'";
          document.body.appendChild(a);
          a.click();
        }"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    refused = violations(page)
    assert {v["directive"] for v in refused} >= {"script-src-elem", "script-src-attr"}, refused
    assert any("Content Security Policy" in line for line in console), console
