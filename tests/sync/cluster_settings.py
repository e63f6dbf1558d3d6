"""Settings for the ``qcluster`` processes a test starts (tests/sync/test_crash_safety.py):
the test settings (same keys, same apps), with a real task queue instead of inline tasks.

The caller points ``DATABASE_URL`` at its own test database (the SQLite file or the PostgreSQL
``test_…`` database pytest-django created) and passes its cache prefix, so the cluster's
heartbeats (django-q2's ``Stat``) land where the test reads them.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import CACHES, Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": False}

CACHES = {
    "default": {
        **CACHES["default"],
        "KEY_PREFIX": os.environ.get("ERPBRIDGE_TEST_CACHE_PREFIX", "erpbridge-test-cluster"),
    }
}


def _die_with_the_test(parent: int) -> None:
    """If the test process is killed before its ``finally`` runs, this cluster follows it:
    SIGKILL to its own process group (it runs in a session of its own)."""
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-the-test", daemon=True).start()


if os.environ.get("ERPBRIDGE_TEST_PARENT_PID"):
    _die_with_the_test(int(os.environ["ERPBRIDGE_TEST_PARENT_PID"]))
