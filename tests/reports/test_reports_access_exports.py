"""Who sees which project, and the exports: they open with openpyxl and hold the page's
figures, with typed currency cells, a frozen header, filters, and formulas neutralised."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from accounts import roles
from accounts.models import ProjectAccess
from reconciliation.models import DocumentFigures, ProjectFigures
from tests.factories import UserFactory
from tests.reports.factories import make_run

pytestmark = pytest.mark.django_db
URL = "/queue/reports/"


@pytest.fixture
def portfolio():
    return make_run("NetSuite", [("P1", "USD", "100.00"), ("P2", "CAD", "250.00")])


def _doc(pid):
    return DocumentFigures.objects.get(procore_project_id=pid)


def test_a_pm_sees_only_assigned_projects(client, portfolio, project_manager):
    ProjectAccess.objects.create(user=project_manager, procore_project_id="P1")
    client.force_login(project_manager)
    page = client.get(URL).content.decode()
    assert 'data-project="P1"' in page and 'data-project="P2"' not in page
    assert client.get(f"{URL}projects/P1/").status_code == 200
    assert client.get(f"{URL}projects/P2/").status_code == 404
    assert client.get(f"{URL}projects/P2/documents/{_doc('P2').pk}/").status_code == 404
    # A document id of another project under an allowed project's URL: 404 as well.
    assert client.get(f"{URL}projects/P1/documents/{_doc('P2').pk}/").status_code == 404
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(f"{URL}?format=xlsx"))))
    assert [r[2] for r in wb["Portfolio"].iter_rows(min_row=2, values_only=True)] == ["P1"]


@pytest.mark.parametrize("role", [roles.CONTROLLER, roles.INTEGRATION_ADMIN])
def test_controllers_and_admins_see_every_project(client, portfolio, role):
    client.force_login(UserFactory(username="u", roles=[role], is_staff=True))
    page = client.get(URL).content.decode()
    assert 'data-project="P1"' in page and 'data-project="P2"' in page
    assert client.get(f"{URL}projects/P2/").status_code == 200


def test_no_role_no_report(client, portfolio):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}projects/P1/").status_code == 403


def test_filters_and_as_of(client, portfolio, controller):
    ProjectFigures.objects.filter(procore_project_id="P2").update(
        active=False, has_variance=False, committed_erp=Decimal("250.00")
    )
    client.force_login(controller)
    page = client.get(URL).content.decode()
    assert "as of" in page and f"reconciliation run {portfolio.pk}" in page
    assert 'data-project="P2"' not in client.get(URL + "?variances=on").content.decode()
    assert 'data-project="P1"' not in client.get(URL + "?status=inactive").content.decode()
    pm = UserFactory(username="pm2", roles=[roles.PROJECT_MANAGER])
    ProjectAccess.objects.create(user=pm, procore_project_id="P2")
    page = client.get(URL + f"?pm={pm.pk}").content.decode()
    assert 'data-project="P2"' in page and 'data-project="P1"' not in page


def test_xlsx_export_is_typed_frozen_filtered_and_matches_the_page(client, portfolio, controller):
    client.force_login(controller)
    response = client.get(URL + "?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == ["Portfolio", "Totals per currency", "Commitments"]
    ws = wb["Portfolio"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    header = [c.value for c in ws[1]]
    rows = {
        r[2]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)
    }
    for pf in ProjectFigures.objects.all():
        row = rows[pf.procore_project_id]
        assert row["Currency"] == pf.currency
        assert Decimal(str(row["Committed Procore"])) == pf.committed_procore
        assert Decimal(str(row["Committed ERP"])) == pf.committed_erp
        assert Decimal(str(row["Committed variance"])) == pf.committed_procore - pf.committed_erp
    cell = ws.cell(row=2, column=header.index("Committed Procore") + 1)
    assert isinstance(cell.value, (int, float)) and "$" in cell.number_format
    commitments = wb["Commitments"]
    texts = [c.value for c in commitments[2]]
    assert '\'=HYPERLINK("http://evil")' in texts and "'@vendor" in texts
    totals = {r[0]: r for r in wb["Totals per currency"].iter_rows(min_row=2, values_only=True)}
    assert set(totals) == {"USD", "CAD"}


def test_csv_export_neutralises_formulas(client, portfolio, controller):
    client.force_login(controller)
    body = b"".join(client.get(URL + "?format=csv&sheet=commitments").streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Project", "Commitment"]
    assert any(r[2] == '\'=HYPERLINK("http://evil")' and r[4] == "'@vendor" for r in rows[1:])


def test_project_page_and_export_hold_the_same_figures(client, monkeypatch, controller):
    from tests.reports.support import synced_world

    world, run = synced_world(monkeypatch, "quickbooks")
    client.force_login(controller)
    pf = ProjectFigures.objects.filter(run=run, has_variance=True).first()
    page = client.get(f"{URL}projects/{pf.procore_project_id}/").content.decode()
    assert "as of" in page and 'id="commitments"' in page and "/queue/items/" in page
    wb = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get(f"{URL}projects/{pf.procore_project_id}/?format=xlsx")))
    )
    assert wb.sheetnames == ["Commitments", "Vendors", "ERP only"]
    for sheet in ("Commitments", "Vendors"):
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        total = sum(
            Decimal(str(r[header.index("Committed Procore")]))
            for r in ws.iter_rows(min_row=2, values_only=True)
        )
        assert total == pf.committed_procore, sheet
        for r in ws.iter_rows(min_row=2, values_only=True):
            figure = r[header.index("Committed Procore")]
            assert f"{Decimal(str(figure)):,.2f}" in page


def test_refresh_queues_one_reconciliation_and_shows_progress(
    client, portfolio, project_manager, monkeypatch
):
    from django_q import tasks

    from reconciliation.models import ReconciliationRun
    from sync.models import Connection, Kind

    queued = []
    monkeypatch.setattr(tasks, "async_task", lambda *a, **k: queued.append(a))
    procore = Connection.objects.create(name="Procore", kind=Kind.PROCORE)
    Connection.objects.filter(pk=portfolio.connection_id).update(procore_connection=procore)
    ProjectAccess.objects.create(user=project_manager, procore_project_id="P1")
    client.force_login(project_manager)
    response = client.post(f"{URL}refresh/", {"connection": portfolio.connection_id})
    assert response.status_code == 302
    assert queued == [
        ("reconciliation.jobs.reconcile_connection", portfolio.connection_id, "report")
    ]
    ReconciliationRun.objects.create(connection=portfolio.connection, total=4, done=1)
    partial = client.get(f"{URL}refresh/status/").content.decode()
    assert 'hx-trigger="every 2s"' in partial and "1 / 4" in partial
    client.post(f"{URL}refresh/", {"connection": portfolio.connection_id})
    assert len(queued) == 1  # one in flight: not queued again


def test_the_portfolio_pages_by_100_and_totals_cover_every_page(client, controller):
    make_run("NetSuite", [(f"P{i:03d}", "USD", "100.00") for i in range(150)])
    client.force_login(controller)
    first = client.get(URL).content.decode()
    second = client.get(URL + "?page=2").content.decode()
    assert first.count("data-project=") == 100 and second.count("data-project=") == 50
    assert "Page 1 of 2" in first and 'rel="next"' in first
    for page in (first, second):
        assert "15,000.00" in page  # the committed total of all 150 projects, on each page


def test_xlsx_filter_range_covers_the_whole_table_on_every_sheet(client, portfolio, controller):
    """The sheet's auto-filter and the workbook's hidden _FilterDatabase name (what Excel
    itself writes) span the header and every row, so Excel filters the whole table."""
    import zipfile

    client.force_login(controller)
    body = b"".join(client.get(URL + "?format=xlsx").streaming_content)
    wb = openpyxl.load_workbook(io.BytesIO(body))
    workbook_xml = zipfile.ZipFile(io.BytesIO(body)).read("xl/workbook.xml").decode()
    for ws in wb.worksheets:
        ref = ws.auto_filter.ref
        assert ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{ws.max_row}"
        first, last = ref.split(":")
        assert f"'{ws.title}'!${first[0]}$1:${last.rstrip('0123456789')}${ws.max_row}" in (
            workbook_xml
        )
        assert ws.freeze_panes == "A2"
        assert all(c.font.b for c in ws[1])


def test_a_currency_code_is_formula_guarded_too(client, controller):
    make_run("NetSuite", [("P1", "=1+", "100.00")])
    client.force_login(controller)
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(URL + "?format=xlsx"))))
    header = [c.value for c in wb["Portfolio"][1]]
    [row] = wb["Portfolio"].iter_rows(min_row=2, values_only=True)
    assert row[header.index("Currency")] == "'=1+"
    body = b"".join(client.get(URL + "?format=csv&sheet=portfolio").streaming_content)
    assert "'=1+" in body.decode("utf-8-sig")


def test_an_invalid_filter_does_not_drop_the_valid_ones(client, portfolio, controller):
    """A bookmarked URL with a PM or connection that no longer exists still applies its
    other filters (it used to show every project)."""
    ProjectFigures.objects.filter(procore_project_id="P2").update(active=False)
    client.force_login(controller)
    page = client.get(URL + "?status=inactive&pm=999999&connection=999999").content.decode()
    assert 'data-project="P2"' in page and 'data-project="P1"' not in page
