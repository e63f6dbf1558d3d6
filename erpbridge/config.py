"""Build the environment-dependent part of the settings from a plain mapping.

`build_settings(env, base_dir)` is a pure function: the settings module calls it with
`os.environ`, tests call it with a dict. Every environment variable erpbridge reads is read
here, and every one is documented in the README's configuration section.

A mistake in the environment raises `ConfigError` with one sentence that names the variable;
`manage.py` prints it as a single line instead of a traceback.
"""

import base64
import binascii
import hashlib
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

# Used only when DEBUG is on and the variable is unset, so `runserver` works out of the box.
# A system check warns while they are in use (see erpbridge/checks.py).
INSECURE_DEV_SECRET_KEY = "django-insecure-erpbridge-development-only"  # noqa: S105
INSECURE_DEV_ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"erpbridge insecure development encryption key").digest()
).decode()

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
SQLITE_SCHEMES = {"sqlite"}
REDIS_SCHEMES = {"redis", "rediss"}

SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue on `timeout` instead of
    # failing with "database is locked" halfway through a transaction (Django >= 5.1).
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    # WAL lets readers run while one writer writes: the web server and qcluster share the file.
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
}


class ConfigError(ImproperlyConfigured):
    """The environment does not describe a runnable erpbridge."""


def build_settings(env: Mapping[str, str], base_dir: Path) -> dict:
    """Return the settings that depend on the environment, as a dict of setting names."""
    reader = _reader(env)
    debug = _bool(reader, "DEBUG", False)
    data_dir = Path(reader.str("ERPBRIDGE_DATA_DIR", default=str(base_dir / "var")))
    https = _bool(reader, "ERPBRIDGE_HTTPS", not debug)
    q_cluster = _q_cluster(reader)

    return {
        "DEBUG": debug,
        "SECRET_KEY": _secret_key(reader, debug),
        "ERPBRIDGE_ENCRYPTION_KEYS": _encryption_keys(reader, debug),
        "ERPBRIDGE_DATA_DIR": data_dir,
        "ALLOWED_HOSTS": _list(reader, "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"]),
        "CSRF_TRUSTED_ORIGINS": _list(reader, "CSRF_TRUSTED_ORIGINS", []),
        "DATABASES": {"default": _database(reader, data_dir)},
        "CACHES": {"default": _cache(reader)},
        "Q_CLUSTER": q_cluster,
        **_email(reader, debug),
        "SESSION_COOKIE_SECURE": https,
        "CSRF_COOKIE_SECURE": https,
        **_transport_security(reader, https),
        "ERPBRIDGE_TRUSTED_PROXY_HOPS": _int(reader, "ERPBRIDGE_TRUSTED_PROXY_HOPS", 0, minimum=0),
        "ERPBRIDGE_LOGIN_MAX_FAILURES": _int(reader, "ERPBRIDGE_LOGIN_MAX_FAILURES", 5),
        "ERPBRIDGE_LOGIN_LOCKOUT_SECONDS": _int(reader, "ERPBRIDGE_LOGIN_LOCKOUT_SECONDS", 900),
        "ERPBRIDGE_WEBHOOK_MAX_BYTES": _int(reader, "ERPBRIDGE_WEBHOOK_MAX_BYTES", 1_048_576),
        "ERPBRIDGE_WEBHOOK_RATE_PER_MINUTE": _int(reader, "ERPBRIDGE_WEBHOOK_RATE_PER_MINUTE", 600),
        # Successful tasks kept in the task history (the newest; pruned every 5 minutes).
        "ERPBRIDGE_TASK_HISTORY": _int(reader, "ERPBRIDGE_TASK_HISTORY", 1000, minimum=0),
        # /healthz turns the cluster check red when a task has waited this long for a worker.
        "ERPBRIDGE_HEALTH_MAX_TASK_WAIT": _int(
            reader, "ERPBRIDGE_HEALTH_MAX_TASK_WAIT", 900, minimum=60
        ),
        "STATIC_ROOT": Path(
            reader.str("ERPBRIDGE_STATIC_ROOT", default=str(base_dir / "staticfiles"))
        ),
        "LOGGING": _logging(reader.str("LOG_LEVEL", default="INFO").upper()),
    }


def _transport_security(reader: environ.Env, https: bool) -> dict:
    """HTTPS-only settings: redirect, HSTS, and the proxy header that says a request came in
    over TLS (behind a TLS-terminating proxy every request reaches us as plain http)."""
    header = _value(reader, "ERPBRIDGE_PROXY_SSL_HEADER")
    if header and not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise ConfigError(
            f"ERPBRIDGE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto, "
            f"not {header!r}."
        )
    return {
        "SECURE_SSL_REDIRECT": _bool(reader, "ERPBRIDGE_SSL_REDIRECT", https),
        # Load balancers probe /healthz over plain http.
        "SECURE_REDIRECT_EXEMPT": [r"^healthz$"],
        "SECURE_PROXY_SSL_HEADER": (
            ("HTTP_" + header.upper().replace("-", "_"), "https") if header else None
        ),
        "SECURE_HSTS_SECONDS": _int(
            reader, "ERPBRIDGE_HSTS_SECONDS", 31_536_000 if https else 0, minimum=0
        ),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": _bool(reader, "ERPBRIDGE_HSTS_INCLUDE_SUBDOMAINS", True),
        "SECURE_HSTS_PRELOAD": _bool(reader, "ERPBRIDGE_HSTS_PRELOAD", True),
    }


def _email(reader: environ.Env, debug: bool) -> dict:
    """EMAIL_URL (`smtp+tls://user:password@host:587`, `consolemail://`) read by django-environ;
    unset: the console under DEBUG (the demo prints the queue digest), else SMTP on localhost."""
    values = {"DEFAULT_FROM_EMAIL": reader.str("DEFAULT_FROM_EMAIL", default="erpbridge@localhost")}
    if _value(reader, "EMAIL_URL"):
        return {**values, **reader.email_url("EMAIL_URL")}
    backend = "console" if debug else "smtp"
    return {**values, "EMAIL_BACKEND": f"django.core.mail.backends.{backend}.EmailBackend"}


def _reader(env: Mapping[str, str]) -> environ.Env:
    reader = environ.Env()
    # django-environ reads `self.ENVIRON`; point it at the mapping we were given.
    reader.ENVIRON = dict(env)
    return reader


def _value(reader: environ.Env, name: str) -> str:
    """The variable's value with surrounding blanks removed, or '' when unset."""
    return reader.ENVIRON.get(name, "").strip()


def _bool(reader: environ.Env, name: str, default: bool) -> bool:
    raw = _value(reader, name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _int(reader: environ.Env, name: str, default: int, minimum: int = 1) -> int:
    raw = _value(reader, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}.")
    return value


def _list(reader: environ.Env, name: str, default: list[str]) -> list[str]:
    raw = _value(reader, name)
    if not raw:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def _secret_key(reader: environ.Env, debug: bool) -> str:
    value = _value(reader, "SECRET_KEY")
    if value:
        return value
    if debug:
        return INSECURE_DEV_SECRET_KEY
    raise ConfigError("SECRET_KEY is not set; it is required when DEBUG is off.")


def _encryption_keys(reader: environ.Env, debug: bool) -> list[str]:
    """Fernet keys, newest first. Several comma-separated keys allow rotation."""
    keys = _list(reader, "ERPBRIDGE_ENCRYPTION_KEY", [])
    if not keys:
        if debug:
            return [INSECURE_DEV_ENCRYPTION_KEY]
        raise ConfigError(
            "ERPBRIDGE_ENCRYPTION_KEY is not set; it is required when DEBUG is off "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
    for position, key in enumerate(keys, start=1):
        if not _is_fernet_key(key):
            raise ConfigError(
                f"ERPBRIDGE_ENCRYPTION_KEY entry {position} is not a Fernet key "
                "(32 bytes, url-safe base64)."
            )
    return keys


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def _redacted(url: str) -> str:
    """The URL without its password, safe to print in an error message."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparsable>"
    return url


def _split(name: str, url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a non-numeric or out-of-range port)
    except ValueError as exc:
        raise ConfigError(f"{name} is malformed ({exc}): {_redacted(url)}") from None
    return parts


def _database(reader: environ.Env, data_dir: Path) -> dict:
    url = _value(reader, "DATABASE_URL")
    if not url:
        return _sqlite(data_dir / "erpbridge.sqlite3")
    parts = _split("DATABASE_URL", url)
    if parts.scheme in SQLITE_SCHEMES:
        config = environ.Env.db_url_config(url)
        if config.get("NAME") in (None, "", ":memory:"):
            # An in-memory database cannot be shared by the web server and qcluster.
            raise ConfigError(f"DATABASE_URL names no SQLite file: {_redacted(url)}")
        return _sqlite(Path(config["NAME"]))
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ConfigError(
            f"DATABASE_URL must start with postgres:// or sqlite:///, not {parts.scheme or '?'}:"
            f" {_redacted(url)}"
        )
    if not parts.hostname and "host=" not in parts.query:
        raise ConfigError(f"DATABASE_URL names no host: {_redacted(url)}")
    if not parts.path.strip("/"):
        raise ConfigError(f"DATABASE_URL names no database: {_redacted(url)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = environ.Env.db_url_config(url)
    config["ENGINE"] = "django.db.backends.postgresql"
    # Persistent connections: the ORM broker polls constantly; reconnecting per query cost
    # 4x throughput in our measurements. Health checks drop connections the server closed.
    config["CONN_MAX_AGE"] = _int(reader, "ERPBRIDGE_CONN_MAX_AGE", 600, minimum=0)
    config["CONN_HEALTH_CHECKS"] = True
    return config


def _sqlite(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": dict(SQLITE_OPTIONS),
    }


def ensure_sqlite_dir(database: dict) -> None:
    """Create the folder of a SQLite database file, so a fresh checkout just runs."""
    if database["ENGINE"] != "django.db.backends.sqlite3" or str(database["NAME"]) == ":memory:":
        return
    folder = Path(database["NAME"]).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"The database folder {folder} cannot be created ({exc.strerror})."
        ) from None


def _cache(reader: environ.Env) -> dict:
    url = _value(reader, "REDIS_URL")
    if not url:
        # A database table, not process memory: the web server and every qcluster process
        # must see the same values (django-q2 cluster heartbeats, shared rate limiters).
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "erpbridge_cache",
            "KEY_PREFIX": "erpbridge",
        }
    parts = _split("REDIS_URL", url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigError(
            f"REDIS_URL must start with redis:// or rediss://, not {parts.scheme or '?'}:"
            f" {_redacted(url)}"
        )
    if not parts.hostname:
        raise ConfigError(f"REDIS_URL names no host: {_redacted(url)}")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise ConfigError(f"REDIS_URL database must be a number, not {db!r}: {_redacted(url)}")
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "erpbridge",
        "OPTIONS": {
            # Fail fast: a slow cache must not hang a request or a sync job.
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
    }


def _q_cluster(reader: environ.Env) -> dict:
    timeout = _int(reader, "ERPBRIDGE_Q_TIMEOUT", 600)
    retry = _int(reader, "ERPBRIDGE_Q_RETRY", timeout + 300)
    if retry <= timeout:
        raise ConfigError(
            f"ERPBRIDGE_Q_RETRY ({retry}) must be longer than ERPBRIDGE_Q_TIMEOUT ({timeout}), "
            "or a slow task is handed to a second worker while the first still runs it."
        )
    workers = _int(reader, "ERPBRIDGE_Q_WORKERS", 2)
    return {
        "name": "erpbridge",
        # The ORM broker on the configured database: it has delivery receipts, so a task whose
        # worker dies comes back after `retry` seconds. The Redis broker would lose it.
        "orm": "default",
        "workers": workers,
        "timeout": timeout,
        "retry": retry,
        # Redelivery after a worker died is bounded (0 would mean forever).
        "max_attempts": _int(reader, "ERPBRIDGE_Q_MAX_ATTEMPTS", 3),
        # A task that raised is recorded as a Failure and not redelivered: retrying with
        # backoff is the connector layer's job (one retry layer only, DESIGN.md rule 5).
        "ack_failures": True,
        # Successful results are kept, but pruned by us (sync.jobs.recover_stale_changes keeps
        # the newest ERPBRIDGE_TASK_HISTORY), not by django-q2: with save_limit N > 0 its
        # monitor loads and unpickles the N newest successes, args and results included, after
        # every task to count them, which was 35-45 % of a 3-worker cluster's CPU during a sync
        # (django_q/monitor.py save_task). 0 = django-q2 does not prune. Failures: always kept.
        "save_limit": 0,
        # After downtime, run a missed schedule once, not once per missed slot.
        "catch_up": False,
        "queue_limit": workers * 2,
        "recycle": 500,
        "poll": 1,
        "cache": "default",
        "label": "Task queue",
    }


def _logging(level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"level": "INFO"},
            # django-q2 logs every poll at DEBUG.
            "django-q": {"level": "INFO"},
            # httpx logs every request line at INFO, query string included (OAuth codes and
            # some vendors' tokens travel there); connectors log what they need themselves.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }
