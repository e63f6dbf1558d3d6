"""Create django-q2 schedules idempotently, by name.

A schedule stores its job's dotted path (`sync.jobs.poll_connection`), so renaming a job needs
a data migration that updates `func`. Calling `schedule_ensure` twice leaves one schedule.
"""

from django_q.models import Schedule


def schedule_ensure(*, name: str, func: str, schedule_type: str, **fields) -> Schedule:
    """Create the schedule called `name`, or update it to these values."""
    schedule, _ = Schedule.objects.update_or_create(
        name=name, defaults={"func": func, "schedule_type": schedule_type, **fields}
    )
    return schedule
