"""build_settings(env) is pure: these tests give it a dict and read the result."""

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from erpbridge.config import (
    INSECURE_DEV_ENCRYPTION_KEY,
    INSECURE_DEV_SECRET_KEY,
    ConfigError,
    build_settings,
)

BASE = Path("/srv/erpbridge")
KEY = Fernet.generate_key().decode()
PROD = {"SECRET_KEY": "s" * 50, "ERPBRIDGE_ENCRYPTION_KEY": KEY}


def build(**env):
    return build_settings(env, BASE)


def test_defaults_are_safe_sqlite_with_orm_broker_and_shared_cache():
    config = build(**PROD)

    assert config["DEBUG"] is False
    db = config["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == BASE / "var" / "erpbridge.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert db["OPTIONS"]["timeout"] == 20
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert config["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CSRF_COOKIE_SECURE"] is True
    assert config["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]


def test_data_dir_moves_the_sqlite_file():
    config = build(**PROD, ERPBRIDGE_DATA_DIR="/data/eb")

    assert config["DATABASES"]["default"]["NAME"] == Path("/data/eb/erpbridge.sqlite3")


def test_q_cluster_is_defensive():
    q = build(**PROD)["Q_CLUSTER"]

    assert q["orm"] == "default"
    assert 0 < q["max_attempts"] < 10
    assert q["retry"] > q["timeout"]
    assert q["catch_up"] is False
    # Successes are kept and pruned by id every few minutes (erpbridge.task_history): with
    # save_limit > 0 django-q2 unpickles that many successes after every single task.
    assert q["save_limit"] == 0
    assert q["workers"] >= 1
    assert q.get("sync", False) is False
    assert "redis" not in q


def test_task_history_comes_from_the_environment():
    assert build(**PROD)["ERPBRIDGE_TASK_HISTORY"] == 1000
    assert build(**PROD, ERPBRIDGE_TASK_HISTORY="50")["ERPBRIDGE_TASK_HISTORY"] == 50
    with pytest.raises(ConfigError, match="ERPBRIDGE_TASK_HISTORY"):
        build(**PROD, ERPBRIDGE_TASK_HISTORY="-1")


def test_q_cluster_retry_must_exceed_timeout():
    with pytest.raises(ConfigError, match="ERPBRIDGE_Q_RETRY"):
        build(**PROD, ERPBRIDGE_Q_TIMEOUT="300", ERPBRIDGE_Q_RETRY="300")


def test_q_cluster_numbers_come_from_the_environment():
    q = build(**PROD, ERPBRIDGE_Q_WORKERS="6", ERPBRIDGE_Q_TIMEOUT="120")["Q_CLUSTER"]

    assert q["workers"] == 6
    assert q["timeout"] == 120
    assert q["retry"] == 420


def test_postgres_url_selects_psycopg_with_persistent_checked_connections():
    config = build(**PROD, DATABASE_URL="postgres://app:pw@db.internal:5433/erpbridge")

    db = config["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "db.internal",
        5433,
        "erpbridge",
        "app",
    )
    assert db["CONN_MAX_AGE"] == 600
    assert db["CONN_HEALTH_CHECKS"] is True
    # The broker rides on the same database.
    assert config["Q_CLUSTER"]["orm"] == "default"


def test_postgresql_scheme_keeps_query_options():
    db = build(**PROD, DATABASE_URL="postgresql://h/eb?sslmode=require")["DATABASES"]["default"]

    assert db["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_url_is_honoured_with_the_wal_options():
    db = build(**PROD, DATABASE_URL="sqlite:////tmp/other.sqlite3")["DATABASES"]["default"]

    assert db["NAME"] == Path("/tmp/other.sqlite3")
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_redis_url_selects_django_redis_cache():
    cache = build(**PROD, REDIS_URL="redis://127.0.0.1:6379/0")["CACHES"]["default"]

    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/0"
    assert cache["OPTIONS"]["SOCKET_TIMEOUT"] > 0


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ERPBRIDGE_ENCRYPTION_KEY"])
def test_debug_off_refuses_to_start_without_each_secret(missing):
    env = {k: v for k, v in PROD.items() if k != missing}

    with pytest.raises(ConfigError, match=f"^{missing} is not set"):
        build(**env)


def test_blank_secret_counts_as_missing():
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        build(SECRET_KEY="  ", ERPBRIDGE_ENCRYPTION_KEY=KEY)


def test_debug_on_falls_back_to_development_keys():
    config = build(DEBUG="true")

    assert config["DEBUG"] is True
    assert config["SECRET_KEY"] == INSECURE_DEV_SECRET_KEY
    assert config["ERPBRIDGE_ENCRYPTION_KEYS"] == [INSECURE_DEV_ENCRYPTION_KEY]
    Fernet(INSECURE_DEV_ENCRYPTION_KEY)  # a usable key
    assert config["SESSION_COOKIE_SECURE"] is False


def test_several_encryption_keys_newest_first():
    old = Fernet.generate_key().decode()

    config = build(SECRET_KEY="x", ERPBRIDGE_ENCRYPTION_KEY=f"{KEY}, {old}")

    assert config["ERPBRIDGE_ENCRYPTION_KEYS"] == [KEY, old]


def test_invalid_encryption_key_is_named_by_position_without_echoing_it():
    with pytest.raises(ConfigError, match="entry 2 is not a Fernet key") as error:
        build(SECRET_KEY="x", ERPBRIDGE_ENCRYPTION_KEY=f"{KEY},not-a-key-hunter2")

    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:pw@host:notaport/db", "DATABASE_URL is malformed"),
        ("mysql://u@host/db", "DATABASE_URL must start with postgres:// or sqlite:///"),
        ("notaurl", "DATABASE_URL must start with"),
        ("postgres://host", "DATABASE_URL names no database"),
        ("postgres:///db", "DATABASE_URL names no host"),
        ("sqlite://", "DATABASE_URL names no SQLite file"),
    ],
)
def test_malformed_database_url_names_the_variable(url, expected):
    with pytest.raises(ConfigError, match=expected):
        build(**PROD, DATABASE_URL=url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://h:port/0", "REDIS_URL is malformed"),
        ("memcached://h:11211", "REDIS_URL must start with redis://"),
        ("redis:///0", "REDIS_URL names no host"),
        ("redis://h:6379/zero", "REDIS_URL database must be a number"),
    ],
)
def test_malformed_redis_url_names_the_variable(url, expected):
    with pytest.raises(ConfigError, match=expected):
        build(**PROD, REDIS_URL=url)


def test_url_errors_hide_the_password():
    with pytest.raises(ConfigError) as error:
        build(**PROD, DATABASE_URL="mysql://app:s3cret@host/db")

    assert "s3cret" not in str(error.value)
    assert "app:***@host" in str(error.value)


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False)])
def test_boolean_spellings(raw, expected):
    assert build(**PROD, DEBUG=raw)["DEBUG"] is expected


def test_unreadable_boolean_is_an_error_not_false():
    with pytest.raises(ConfigError, match="DEBUG must be true or false"):
        build(**PROD, DEBUG="maybe")


def test_allowed_hosts_and_https_override():
    config = build(**PROD, ALLOWED_HOSTS="erp.example.com, ", ERPBRIDGE_HTTPS="false")

    assert config["ALLOWED_HOSTS"] == ["erp.example.com"]
    assert config["SESSION_COOKIE_SECURE"] is False


def test_build_settings_does_not_touch_the_process_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://h/from_process")

    db = build(**PROD)["DATABASES"]["default"]

    assert db["ENGINE"] == "django.db.backends.sqlite3"


def test_http_client_request_lines_are_not_logged_at_info():
    loggers = build(**PROD)["LOGGING"]["loggers"]

    assert loggers["httpx"]["level"] == "WARNING"
