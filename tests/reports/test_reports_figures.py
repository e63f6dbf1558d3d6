"""The report's numbers against an independent computation: the Procore side from the
generated company (the dataset model the sandboxes were seeded from), the ERP side from the
sandbox's raw QuickBooks records; project rows are the sum of their documents and the totals
are kept per currency."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from accounts import roles
from reconciliation import report_selectors as reports
from reconciliation.models import DocumentFigures, ProjectFigures
from sync.models import Binding
from tests.factories import UserFactory
from tests.reports.support import synced_world

pytestmark = pytest.mark.django_db
D = Decimal
ZERO = D("0")
COMMITTED = ("Approved", "Complete", "Closed")


def procore_status(c) -> str:
    """What the Procore seed makes of a dataset status (purchase orders close instead)."""
    if c.kind == "purchase_order" and c.status in ("Complete", "Terminated", "Void"):
        return "Closed"
    return c.status


def expected_procore(company, kind: str) -> dict[str, dict[str, Decimal]]:
    """Per dataset commitment key: committed (original + approved change orders), billed
    (work claimed), paid (net of paid pay apps), retained (held less released)."""
    projects = company.by_key("projects")
    out: dict[str, dict[str, Decimal]] = {}
    approved_cos = defaultdict(lambda: ZERO)
    for co in company.change_orders:
        if co.status == "approved":
            approved_cos[co.commitment] += co.amount
    for c in company.commitments:
        if projects[c.project].erp != kind or c.deleted:
            continue
        committed = c.amount + approved_cos[c.key] if procore_status(c) in COMMITTED else ZERO
        out[c.key] = {"committed": committed, "billed": ZERO, "paid": ZERO, "retained": ZERO}
    by_commitment = defaultdict(list)
    for r in company.requisitions:
        if r.commitment in out:
            by_commitment[r.commitment].append(r)
    for key, reqs in by_commitment.items():
        fig = out[key]
        for r, due, retained in g702(reqs):
            if r.status == "draft":
                continue
            fig["billed"] += r.gross
            fig["retained"] = retained  # to date, on the latest pay app
            if r.paid_on is not None:
                fig["paid"] += due
    return out


def g702(reqs):
    """AIA G702 per pay app, from the dataset: work completed accumulates, materials stored
    are this period's balance, retainage to date is the work's cumulative retainage less
    releases plus the stored materials' retainage; the payment due is the change in earned
    less retainage. Yields (requisition, current payment due, retainage to date)."""
    cent = D("0.01")
    work_to_date = work_retainage = earned_before = ZERO
    for r in sorted(reqs, key=lambda x: x.number):
        work = sum((ln.work_completed_this_period for ln in r.lines), ZERO)
        stored = sum((ln.materials_stored for ln in r.lines), ZERO)
        work_to_date += work
        work_retainage += sum(
            (
                (ln.work_completed_this_period * ln.retainage_percent / 100).quantize(cent)
                for ln in r.lines
            ),
            ZERO,
        )
        work_retainage -= r.retainage_released
        stored_retainage = sum(
            ((ln.materials_stored * ln.retainage_percent / 100).quantize(cent) for ln in r.lines),
            ZERO,
        )
        retained = work_retainage + stored_retainage
        earned = work_to_date + stored - retained
        yield r, earned - earned_before, retained
        earned_before = earned


def _on_job(doc, job: str) -> bool:
    for line in doc.get("Line") or []:
        detail = line.get(line.get("DetailType") or "") or {}
        if isinstance(detail, dict) and (detail.get("CustomerRef") or {}).get("value") == job:
            return True
    return False


def _bill(doc) -> dict[str, Decimal]:
    gross = retained = ZERO
    for line in doc.get("Line") or []:
        amount = D(str(line.get("Amount") or 0))
        if amount < 0 or str(line.get("Description") or "").lower().startswith("retainage"):
            retained -= amount
        else:
            gross += amount
    paid = D(str(doc["TotalAmt"])) - D(str(doc.get("Balance") or 0))
    return {"billed": gross, "paid": paid, "retained": retained}


def expected_erp(world, project) -> dict[str, dict[str, Decimal]]:
    """Per Procore commitment id: the ERP's committed / billed / paid / retained, pairing by
    binding first, then by document number on the project's job (as the report does)."""
    job = world.eids[f"job:{project.key}"]
    pos = [p for p in world.erp.records("PurchaseOrder") if _on_job(p, job)]
    bills = [b for b in world.erp.records("Bill") if _on_job(b, job)]
    bound = {
        (b.object_type, b.procore_id): b.erp_id
        for b in Binding.objects.filter(connection=world.erp_conn)
    }
    bound_erp = set(bound.values())
    out = defaultdict(lambda: {"committed": ZERO, "billed": ZERO, "paid": ZERO, "retained": ZERO})
    taken: set[str] = set()
    company = world.company
    for c in company.commitments:
        if c.project != project.key or c.deleted:
            continue
        pid = world.pids[f"commitment:{c.key}"]
        erp_id = bound.get(("commitment", pid))
        po = next((p for p in world.erp.records("PurchaseOrder") if p["Id"] == erp_id), None)
        if erp_id is None:
            po = next(
                (
                    p
                    for p in pos
                    if p.get("DocNumber") == c.number
                    and p["Id"] not in taken
                    and p["Id"] not in bound_erp
                ),
                None,
            )
        if po is not None:
            taken.add(po["Id"])
            out[pid]["committed"] += D(str(po["TotalAmt"]))
    commitments = company.by_key("commitments")
    for r in company.requisitions:
        c = commitments[r.commitment]
        if c.project != project.key or c.deleted:
            continue
        rid = world.pids.get(f"requisition:{r.key}")
        erp_id = bound.get(("requisition", rid))
        bill = next((b for b in world.erp.records("Bill") if b["Id"] == erp_id), None)
        if erp_id is None:
            bill = next(
                (
                    b
                    for b in bills
                    if r.invoice_number
                    and str(b.get("DocNumber") or "").lower() == r.invoice_number.lower()
                    and b["Id"] not in taken
                    and b["Id"] not in bound_erp
                ),
                None,
            )
        if bill is not None:
            taken.add(bill["Id"])
            for k, v in _bill(bill).items():
                out[world.pids[f"commitment:{c.key}"]][k] += v
    return out


@pytest.fixture
def qbo(monkeypatch):
    return synced_world(monkeypatch, "quickbooks")


def test_every_commitment_figure_matches_the_dataset_and_the_erp_records(qbo):
    world, run = qbo
    user = UserFactory(username="ctl", roles=[roles.CONTROLLER])
    projects = [p for p in world.company.projects if p.erp == "quickbooks"]
    procore = expected_procore(world.company, "quickbooks")
    checked = 0
    for p in projects:
        pid = world.pids[f"project:{p.key}"]
        report = reports.project_report(user, pid)
        assert report is not None and report.run == run
        erp = expected_erp(world, p)
        lines = {x.key: x for x in report.commitments}
        for c in world.company.commitments:
            if c.project != p.key or c.key not in procore:
                continue
            cid = world.pids[f"commitment:{c.key}"]
            want = procore[c.key]
            if not any(want.values()) and not any(erp[cid].values()):
                continue
            line = lines[cid]
            for figure in reports.FIGURES:
                assert line.figures[f"{figure}_procore"] == want[figure], (c.number, figure)
                assert line.figures[f"{figure}_erp"] == erp[cid][figure], (c.number, figure)
            checked += 1
        # The project row is the sum of its documents (ERP-only documents included).
        [row] = report.figures
        docs = DocumentFigures.objects.filter(run=run, procore_project_id=pid)
        for name in reports.AMOUNTS:
            assert getattr(row, name) == sum((getattr(d, name) for d in docs), ZERO), name
        assert row.as_of == run.as_of
    assert checked >= 5


def test_planted_differences_show_with_their_cause(qbo):
    world, run = qbo
    user = UserFactory(username="ctl", roles=[roles.CONTROLLER])
    data = reports.portfolio(user, reports.PortfolioFilters())
    flagged = [r for r in data.rows if r.has_variance]
    assert flagged, "the generated company plants differences"
    causes = set()
    for r in flagged:
        counts = data.causes[(r.run_id, r.procore_project_id)]
        assert counts and set(counts) <= set(reports.CAUSES)
        causes |= set(counts)
    # Seeded ERP copies wait in the queue as suspected duplicates, pay apps wait for a
    # retention account mapping.
    assert "queue" in causes
    only = reports.portfolio(user, reports.PortfolioFilters(variances_only=True))
    assert [r.pk for r in only.rows] == [r.pk for r in flagged]


def test_retainage_held_and_released_add_up_and_currencies_stay_apart(monkeypatch):
    world, run = synced_world(monkeypatch, "netsuite")
    user = UserFactory(username="ctl", roles=[roles.CONTROLLER])
    commitments = world.company.by_key("commitments")
    projects = world.company.by_key("projects")
    releases = [
        r
        for r in world.company.requisitions
        if r.retainage_released
        and r.status != "draft"
        and projects[commitments[r.commitment].project].erp == "netsuite"
    ]
    assert releases, "the dataset plants retainage releases"
    for release in releases:
        c = commitments[release.commitment]
        reqs = [r for r in world.company.requisitions if r.commitment == c.key]
        live = [r for r in reqs if r.status != "draft"]
        held = sum((r.retainage for r in live), ZERO)
        released = sum((r.retainage_released for r in live), ZERO)
        stored = sum((ln.materials_stored for r in reqs for ln in r.lines), ZERO)
        report = reports.project_report(user, world.pids[f"project:{c.project}"])
        line = next(x for x in report.commitments if x.key == world.pids[f"commitment:{c.key}"])
        *_, (_last, _due, to_date) = g702(reqs)
        assert released > 0 and line.figures["retained_procore"] == to_date
        if not stored:  # with no stored-materials balance, to date = held - released exactly
            assert line.figures["retained_procore"] == held - released
    # OneWorld: US projects in USD, Canadian ones in CAD; one total per currency, each the
    # sum of its own projects.
    data = reports.portfolio(user, reports.PortfolioFilters())
    assert set(data.totals) == {"USD", "CAD"}
    for currency, totals in data.totals.items():
        rows = [r for r in data.rows if r.currency == currency]
        want = {
            p.key: p.currency
            for p in world.company.projects
            if p.erp == "netsuite" and p.currency == currency
        }
        assert {r.procore_project_id for r in rows} == {world.pids[f"project:{k}"] for k in want}
        for name in reports.AMOUNTS:
            assert totals[name] == sum((getattr(r, name) for r in rows), ZERO)


def test_totals_per_currency_never_mix(client):
    """Two runs' projects in USD and CAD: one total per currency, each the sum of its own."""
    from tests.reports.factories import make_run

    run_us = make_run("NetSuite", [("P1", "USD", "100.00"), ("P2", "USD", "50.00")])
    make_run("NetSuite CA", [("P3", "CAD", "70.00")])
    user = UserFactory(username="ctl", roles=[roles.CONTROLLER])
    data = reports.portfolio(user, reports.PortfolioFilters())
    assert set(data.totals) == {"USD", "CAD"}
    assert data.totals["USD"]["committed_procore"] == D("150.00")
    assert data.totals["CAD"]["committed_procore"] == D("70.00")
    client.force_login(user)
    html = client.get("/queue/reports/").content.decode()
    assert 'data-currency="USD"' in html and 'data-currency="CAD"' in html
    assert "220.00" not in html  # 150 USD + 70 CAD is no number
    assert ProjectFigures.objects.filter(run=run_us).count() == 2
