"""A controller clears a class of items in the browser; a project manager only reads."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts import roles
from accounts.models import ProjectAccess
from accounts.services import roles_sync
from sync.models import ExceptionItem, ItemStatus
from tests.exceptions_ui.support import qbo_pos, qbo_world, run
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(re.compile(r".*/$"))


@pytest.fixture
def queue_world(monkeypatch):
    """QuickBooks with no accounts-payable mapping: every commitment waits for it; above
    3,000 a controller must approve."""
    roles_sync()  # transactional tests flush the groups the migration made
    world = qbo_world(monkeypatch, accounts=False, approval_thresholds={"commitments": "3000"})
    small = [world.new_commitment(f"SC-BR-{n}", ("100.00", "200.00")) for n in range(2)]
    big = world.new_commitment("SC-BR-BIG")
    for pid in [*small, big]:
        run(world, pid)
    assert ExceptionItem.objects.filter(reason_code="UNMAPPED_ACCOUNT").count() == 3
    return world, big


def test_controller_fixes_the_mapping_inline_and_approves(
    browser, live_server, queue_world, artifacts
):
    world, big = queue_world
    UserFactory(username="carla", roles=[roles.CONTROLLER])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(page, live_server, "carla")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exception queue").click()
    page.get_by_role("link", name=re.compile("Account not mapped")).click()
    expect(page.locator("#results")).to_contain_text("3 items in this view")
    page.screenshot(path=str(artifacts / "queue.png"), full_page=True)

    page.locator("a[data-item-link]").first.click()
    expect(page.locator("h1")).to_contain_text("Account not mapped")
    expect(page.locator(".explanation").first).to_contain_text("accounts_payable")
    page.screenshot(path=str(artifacts / "item-unmapped.png"), full_page=True)

    page.get_by_role("link", name="Add the missing mapping").click()
    page.select_option('select[name="account_id"]', world.eids["account:ap"])
    page.get_by_role("button", name="Save the mapping and re-check").click()
    expect(page.locator(".messages")).to_contain_text(
        "3 items waited for it: 2 cleared; 1 now above the approval threshold"
    )
    assert not ExceptionItem.objects.filter(
        reason_code="UNMAPPED_ACCOUNT", status=ItemStatus.OPEN
    ).exists()
    assert len(qbo_pos(world, "SC-BR-0")) == 1 and len(qbo_pos(world, "SC-BR-1")) == 1

    page.get_by_role("link", name="« Exception queue").click()
    page.get_by_role("link", name=re.compile("Above the approval threshold")).click()
    page.get_by_role("link", name=re.compile("SC-BR-BIG")).click()
    page.screenshot(path=str(artifacts / "item.png"), full_page=True)
    page.get_by_role("button", name="Approve").click()  # htmx: no reload
    expect(page.locator("#decision")).to_contain_text("Approved")
    expect(page.locator("[data-change-state]")).to_have_text("sent", timeout=15000)
    page.screenshot(path=str(artifacts / "item-approved.png"), full_page=True)
    [po] = qbo_pos(world, "SC-BR-BIG")
    assert sum(float(line["Amount"]) for line in po["Line"]) == 3500.0


def test_project_manager_sees_no_action_buttons(browser, live_server, queue_world, artifacts):
    world, big = queue_world
    pm = UserFactory(username="pete", roles=[roles.PROJECT_MANAGER])
    item = ExceptionItem.objects.get(procore_id=big)
    ProjectAccess.objects.create(user=pm, procore_project_id=item.procore_project_id)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(page, live_server, "pete")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exception queue").click()
    expect(page.locator("#results")).to_contain_text(big)
    expect(page.get_by_text("Bulk action")).to_have_count(0)
    page.get_by_role("link", name=re.compile(big)).click()
    expect(page.locator(".explanation").first).to_be_visible()
    for name in ("Approve", "Add the missing mapping", "Edit fields", "Assign", "Comment"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    page.screenshot(path=str(artifacts / "item-pm.png"), full_page=True)
    response = page.request.post(f"{live_server.url}/queue/items/{item.pk}/approve/")
    assert response.status == 403
