"""The daily digest: counts of new, ageing, resolved and open-by-reason, to controllers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from sync.jobs import send_queue_digest
from sync.services import review
from sync.services.digest import queue_digest
from tests.exceptions_ui.support import held_item, run

pytestmark = pytest.mark.django_db


def test_digest_counts_and_is_mailed_to_controllers(
    world, controller, controller2, project_manager
):
    a, b, c = (world.new_commitment(f"SC-D-{n}") for n in range(3))
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        run(world, a)
    run(world, b)
    run(world, c)
    review.item_reject(item_id=held_item(c).pk, actor=controller, reason="no")
    digest = queue_digest()
    assert digest.new == 2 and digest.ageing == 1 and digest.rejected == 1
    assert digest.open_by_reason == [("Above the approval threshold", 2)]
    assert send_queue_digest() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ctrl2@example.com", "ctrl@example.com"]
    assert "past their SLA (ageing):   1" in mail.outbox[0].body


def test_the_digest_is_scheduled_daily():
    schedule = Schedule.objects.get(name="exception-queue-digest")
    assert schedule.func == "sync.jobs.send_queue_digest"
    assert schedule.schedule_type == Schedule.DAILY


def test_ageing_items_stand_out_in_the_queue(client, world, controller):
    pid = world.new_commitment("SC-D-OLD")
    with time_machine.travel(timezone.now() - timedelta(hours=60)):
        run(world, pid)
    client.force_login(controller)
    html = client.get("/queue/").content.decode()
    assert 'class="late"' in html and "2 d" in html
    assert "SC-D-OLD" in client.get("/queue/", {"past_sla": "on"}).content.decode()
