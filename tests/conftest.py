# Authlib installs an "always" filter for its deprecation warnings when authlib.deprecate is
# first imported, ahead of pytest's filters if that happens inside a test. Importing it here,
# before any test runs, lets pyproject's `filterwarnings` apply as written.
import authlib.deprecate  # noqa: F401, I001
import pytest

from accounts import roles
from tests.factories import UserFactory


@pytest.fixture
def controller(db):
    return UserFactory(username="ctrl", roles=[roles.CONTROLLER])


@pytest.fixture
def project_manager(db):
    return UserFactory(username="pm", roles=[roles.PROJECT_MANAGER])


@pytest.fixture
def integration_admin(db):
    return UserFactory(username="ia", roles=[roles.INTEGRATION_ADMIN], is_staff=True)
