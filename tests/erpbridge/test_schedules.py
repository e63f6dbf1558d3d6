import pytest
from django_q.models import Schedule

from erpbridge.schedules import schedule_ensure

pytestmark = pytest.mark.django_db


def test_ensuring_twice_leaves_one_schedule_with_the_latest_values():
    schedule_ensure(name="nightly", func="math.floor", schedule_type=Schedule.DAILY, args="1.5")
    schedule_ensure(name="nightly", func="math.ceil", schedule_type=Schedule.HOURLY)

    schedule = Schedule.objects.get(name="nightly")
    assert Schedule.objects.filter(name="nightly").count() == 1
    assert (schedule.func, schedule.schedule_type) == ("math.ceil", Schedule.HOURLY)
