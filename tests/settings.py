"""Settings for the test suite: the real settings, with test keys and test-only switches.

The environment is filled in *before* the settings module runs, so these tests go through
the same `build_settings` as production. DATABASE_URL / REDIS_URL from the caller's
environment are kept (CI runs the suite once on SQLite, once on PostgreSQL + Redis).
"""

import os
from pathlib import Path

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# A fixed Fernet key for tests only.
os.environ.setdefault("ERPBRIDGE_ENCRYPTION_KEY", "dGVzdC1vbmx5LWVycGJyaWRnZS1lbmNyeXB0aW9uLWs=")
os.environ.setdefault("ERPBRIDGE_HTTPS", "false")

from erpbridge.settings import *  # noqa: E402, F403
from erpbridge.settings import CACHES, INSTALLED_APPS, Q_CLUSTER, STORAGES  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]

# No collectstatic before tests.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# async_task() runs inline and re-raises (django-q2 reads Q_CLUSTER at import time, so this
# cannot be switched per test with override_settings).
Q_CLUSTER = {**Q_CLUSTER, "sync": True}

# With REDIS_URL the cache outlives the test transaction and may be shared with a running
# demo: a prefix of this run's own keeps heartbeats and counters apart.
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": f"erpbridge-test-{os.getpid()}"}}

# Fast hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files from the finders, without a collectstatic'd STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# SQLite: a test database in a file, not in memory. The in-memory database runs in shared-cache
# mode, where a second connection (a thread, a worker) gets "database table is locked" at once
# instead of waiting out the busy timeout; concurrency tests need the real locking behaviour.
from erpbridge.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _test_db = (
        Path(os.environ.get("ERPBRIDGE_TEST_DB_DIR", "/tmp"))
        / f"erpbridge-test-{os.getpid()}.sqlite3"
    )
    DATABASES["default"]["TEST"] = {"NAME": str(_test_db)}
