"""The queue's pages and actions through HTTP, with and without htmx, and who may use them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.models import ProjectAccess
from sync.models import ChangeState, ExceptionEvent, ExceptionItem, ItemStatus
from tests.exceptions_ui.support import held_item, qbo_pos, qbo_world, run

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "decision"}


def page(response) -> str:
    return response.content.decode()


def url(name, item=None):
    return reverse(f"exceptions_ui:{name}", args=[item.pk] if item else [])


def test_queue_lists_open_items_with_counts_and_filters_in_the_url(client, controller, world):
    pids = [world.new_commitment(f"SC-V-{n}") for n in range(3)]
    for pid in pids:
        run(world, pid)
    client.force_login(controller)
    html = page(client.get(url("queue")))
    assert "SC-V-0" in html and "SC-V-2" in html
    assert (
        "Above the approval threshold" in html and "<strong>3</strong> items in this view" in html
    )
    project = held_item(pids[0]).procore_project_id
    filtered = page(client.get(url("queue"), {"project": project, "reason": "APPROVAL_THRESHOLD"}))
    assert "SC-V-0" in filtered
    none = page(client.get(url("queue"), {"reason": "UNKNOWN_VENDOR"}))
    assert "SC-V-0" not in none and "Nothing here" in none
    searched = page(client.get(url("queue"), {"q": "SC-V-1"}))
    assert "SC-V-1" in searched and "SC-V-2" not in searched
    assert "SC-V-0" in page(client.get(url("queue"), {"amount_min": "3000", "amount_max": "4000"}))
    assert "SC-V-0" not in page(client.get(url("queue"), {"amount_min": "5000"}))
    assert "SC-V-0" in page(client.get(url("queue"), {"assignee": "none"}))
    assert "SC-V-0" not in page(client.get(url("queue"), {"assignee": "me"}))


def test_keyset_pages_walk_every_item_once(client, controller, world):
    pids = [world.new_commitment(f"SC-P-{n}") for n in range(5)]
    for pid in pids:
        run(world, pid)
    client.force_login(controller)
    for sort in ("oldest", "newest", "amount_desc", "amount_asc"):
        seen, query = [], {"per_page": "25", "sort": sort}
        response = client.get(url("queue"), {**query, "per_page": 2})
        while True:
            ctx = response.context
            seen += [row["item"].pk for row in ctx["rows"]]
            if not ctx["next_query"]:
                break
            response = client.get(url("queue") + "?" + ctx["next_query"])
        assert sorted(seen) == sorted(ExceptionItem.objects.values_list("pk", flat=True)), sort
        assert len(seen) == len(set(seen)) == 5


def test_tabs_show_resolved_and_rejected(client, controller, world):
    a, b = world.new_commitment("SC-T-A"), world.new_commitment("SC-T-B")
    run(world, a)
    run(world, b)
    client.force_login(controller)
    assert client.get(url("queue")).context["page"].tab_counts["open"] == 2
    client.post(url("reject", held_item(a)), {"reason": "not ours"})
    counts = client.get(url("queue")).context["page"].tab_counts  # not the cached ones
    assert counts["open"] == 1 and counts["rejected"] == 1
    assert "SC-T-A" in page(client.get(url("queue"), {"tab": "rejected"}))
    assert "SC-T-A" not in page(client.get(url("queue")))
    assert "SC-T-B" not in page(client.get(url("queue"), {"tab": "resolved"}))


def test_item_page_explains_and_shows_the_proposed_write(client, controller, item):
    client.force_login(controller)
    html = page(client.get(url("item", item)))
    assert escape(item.explanation) in html and "What fixes it" in html
    assert "Open in Procore" in html and item.procore_id in html
    assert "Proposed ERP write" in html and "PurchaseOrder" in html
    assert "Timeline" in html and "opened the item" in html
    assert 'accesskey="a"' in html  # approve is reachable from the keyboard


def test_approve_with_htmx_returns_the_panel_and_the_po_goes_out(
    client, controller, world, item, django_capture_on_commit_callbacks
):
    client.force_login(controller)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("approve", item), **HTMX)
    html = page(response)
    assert response.status_code == 200 and 'id="decision"' in html and "<html" not in html
    assert "Approved" in html
    assert len(qbo_pos(world, "SC-Q-001")) == 1
    status = page(client.get(url("status", item), **HTMX))
    assert "sent" in status and "every 2s" not in status  # nothing left to poll for


def test_approve_without_js_redirects_with_a_message(client, controller, item):
    client.force_login(controller)
    response = client.post(url("approve", item), follow=True)
    assert response.redirect_chain[-1][0] == url("item", item)
    html = page(response)
    assert "Approved" in html and "every 2s" in html  # the page polls while the job runs


def test_the_loser_of_two_approvals_sees_who_acted(client, controller, controller2, item):
    client.force_login(controller)
    client.post(url("approve", item))
    client.force_login(controller2)
    response = client.post(url("approve", item), **HTMX)
    assert response.status_code == 409
    assert "ctrl already approved" in page(response)
    assert ExceptionEvent.objects.filter(item=item, action="approved").count() == 1


def test_reject_requires_a_reason(client, controller, item):
    client.force_login(controller)
    html = page(client.post(url("reject", item), {"reason": ""}, follow=True))
    assert "Give a reason" in html
    client.post(url("reject", item), {"reason": "wrong vendor"})
    item.refresh_from_db()
    assert item.status == ItemStatus.REJECTED
    assert "wrong vendor" in page(client.get(url("item", item)))


def test_assign_and_comment(client, controller, controller2, item):
    client.force_login(controller)
    client.post(url("assign", item), {"assignee": controller2.pk, "expected": ""})
    item.refresh_from_db()
    assert item.assignee == controller2
    response = client.post(url("comment", item), {"text": "@ctrl2 please look"}, follow=True)
    assert "Notified: ctrl2" in page(response)
    html = page(client.get(url("item", item)))
    assert "please look" in html and "changed the assignee" in html


def test_edit_form_stores_a_diff_and_segregation_of_duties_disables_approve(
    client, controller, item
):
    client.force_login(controller)
    form = client.get(url("edit", item))
    assert form.status_code == 200
    leaves = form.context["form"].fields
    path = "Memo"
    data = {p: f.initial for p, f in leaves.items()}
    data.update({path: "checked with PM", "seen": form.context["seen"]})
    response = client.post(url("edit", item), data, follow=True)
    html = page(response)
    assert "1 field changed" in html and "checked with PM" in html
    assert "segregation of duties" in html and "disabled" in html
    item.change.refresh_from_db()
    assert "checked with PM" in str(item.change.payload)


def test_inline_fix_form_offers_erp_accounts_and_clears_siblings(client, controller, monkeypatch):
    world = qbo_world(monkeypatch, accounts=False)
    pids = [world.new_commitment(f"SC-F-{n}") for n in range(2)]
    for pid in pids:
        run(world, pid)
    item = held_item(pids[0])
    client.force_login(controller)
    form = page(client.get(url("fix", item)))
    assert "Accounts Payable" in form and "2000" in form and "accounts_payable" in form
    response = client.post(
        url("fix", item),
        {"role": "accounts_payable", "account_id": world.eids["account:ap"]},
        follow=True,
    )
    assert "2 items waited for it: 2 cleared" in page(response)
    assert not ExceptionItem.objects.filter(status=ItemStatus.OPEN).exists()
    assert len(qbo_pos(world, "SC-F-1")) == 1


def test_bulk_shows_count_and_total_then_acts(client, controller, world):
    pids = [world.new_commitment(f"SC-B-{n}") for n in range(2)]
    for pid in pids:
        run(world, pid)
    client.force_login(controller)
    confirm = client.post(
        url("bulk"), {"action": "reject", "scope": "all", "reason": "dup", "query": "tab=open"}
    )
    html = page(confirm)
    assert "Reject 2 items?" in html and "7000.00 USD" in html
    ids = confirm.context["ids"]
    done = client.post(
        url("bulk"),
        {
            "action": "reject",
            "scope": "selected",
            "ids": ids,
            "reason": "dup",
            "confirm": "1",
            "query": "",
        },
        follow=True,
    )
    assert "2 items rejected" in page(done)
    assert ExceptionItem.objects.filter(status=ItemStatus.REJECTED).count() == 2


def test_bulk_approve_a_selection(client, controller, world, django_capture_on_commit_callbacks):
    pids = [world.new_commitment(f"SC-S-{n}") for n in range(3)]
    for pid in pids:
        run(world, pid)
    chosen = [held_item(p).pk for p in pids[:2]]
    client.force_login(controller)
    confirm = client.post(url("bulk"), {"action": "approve", "scope": "selected", "item": chosen})
    assert "Approve 2 items?" in page(confirm)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("bulk"),
            {
                "action": "approve",
                "scope": "selected",
                "ids": confirm.context["ids"],
                "confirm": "1",
            },
        )
    assert len(qbo_pos(world, "SC-S-0")) == 1 and qbo_pos(world, "SC-S-2") == []
    assert held_item(pids[2]).change.state == ChangeState.HELD


# -- who may do what ------------------------------------------------------------------------

ACTIONS = ["approve", "reject", "link", "retry", "replay", "assign", "comment", "edit", "fix"]


@pytest.mark.parametrize("name", ACTIONS)
def test_project_managers_get_403_on_every_action(client, project_manager, item, name):
    ProjectAccess.objects.create(user=project_manager, procore_project_id=item.procore_project_id)
    client.force_login(project_manager)
    assert client.post(url(name, item)).status_code == 403
    assert client.get(url(name, item)).status_code in (403, 405)
    assert client.post(url("bulk"), {"action": "approve", "scope": "all"}).status_code == 403


def test_project_managers_read_their_projects_items_without_buttons(client, project_manager, item):
    client.force_login(project_manager)
    assert "SC-Q-001" not in page(client.get(url("queue")))
    assert client.get(url("item", item)).status_code == 404
    ProjectAccess.objects.create(user=project_manager, procore_project_id=item.procore_project_id)
    html = page(client.get(url("queue")))
    assert "SC-Q-001" in html and "Read only" in html and "Bulk action" not in html
    html = page(client.get(url("item", item)))
    assert escape(item.explanation) in html
    for label in (">Approve<", "Reject…", "Edit fields", "Assign</button>", "Comment</button>"):
        assert label not in html
    assert 'action="/queue/items/' not in html  # no action form at all


def test_integration_admins_can_do_what_controllers_can(client, integration_admin, item):
    client.force_login(integration_admin)
    assert "Bulk action" in page(client.get(url("queue")))
    client.post(url("approve", item))
    item.refresh_from_db()
    assert item.status == ItemStatus.RESOLVED


def test_users_without_a_role_get_403(client, item):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(url("queue")).status_code == 403
    assert client.get(url("item", item)).status_code == 403
    assert client.post(url("approve", item)).status_code == 403


def test_the_queue_query_count_does_not_grow_with_the_page(
    client, controller, world, django_assert_max_num_queries
):
    for n in range(6):
        run(world, world.new_commitment(f"SC-N-{n}"))
    client.force_login(controller)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    client.get(url("queue"))  # the counts are cached until the queue changes
    for per_page in (2, 25):
        with CaptureQueriesContext(connection) as ctx:
            client.get(url("queue"), {"per_page": per_page})
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_inline_fix_of_an_unmapped_cost_code_on_netsuite(client, controller, monkeypatch):
    from django.utils import timezone

    from mappings.models import CostCodeMapping, ReferenceRecord
    from tests.exceptions_ui.support import persist_mappings
    from tests.sync.engine_support import WORLDS

    world = WORLDS["netsuite"]()
    pid = world.new_commitment("SC-NS-CC")
    line = world.procore.scoped("commitment_line_items", int(pid))[0]
    code = world.procore.store.get("cost_codes", line["_cost_code_id"])["full_code"]
    target = world.lookup.costs.pop(code)
    persist_mappings(world)
    ReferenceRecord.objects.create(
        connection=world.erp_conn,
        kind="item",
        remote_id=target.item_id,
        code=code,
        name="Subcontract work",
        refreshed_at=timezone.now(),
    )
    monkeypatch.setattr("sync.services.runs._default_clients", world.clients)
    run(world, pid)
    item = held_item(pid)
    assert item.reason_code == "UNMAPPED_COST_CODE"
    client.force_login(controller)
    form = client.get(url("fix", item))
    html = page(form)
    assert "Subcontract work" in html and f'value="{code}"' in html and "readonly" in html
    data = {
        name: field.initial or ""
        for name, field in form.context["form"].fields.items()
        if field.initial is not None
    }
    data.update(item_id=target.item_id, cost_type="")
    response = client.post(url("fix", item), data, follow=True)
    assert "1 item waited for it: 1 cleared" in page(response), page(response)[-3000:]
    assert CostCodeMapping.objects.filter(connection=world.erp_conn, cost_code=code).exists()
    item.refresh_from_db()
    assert item.status == ItemStatus.AUTO_RESOLVED
