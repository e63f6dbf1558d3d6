import pytest

from accounts import roles
from tests.exceptions_ui.support import held_item, qbo_world, run
from tests.factories import UserFactory


@pytest.fixture
def controller2(db):
    return UserFactory(username="ctrl2", roles=[roles.CONTROLLER])


@pytest.fixture
def world(monkeypatch, db):
    """QuickBooks; every commitment above 1 needs a controller's approval."""
    return qbo_world(monkeypatch, approval_thresholds={"commitments": "1"})


@pytest.fixture
def item(world):
    pid = world.new_commitment("SC-Q-001")
    run(world, pid)
    return held_item(pid)
