import io
import signal
import sys
import threading
import time

from erpbridge.demo import Service, Supervisor, demo_environment, read_env_file, services

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
# Exits cleanly on SIGTERM, like runserver and qcluster do.
POLITE = [
    sys.executable,
    "-c",
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "time.sleep(60)",
]


def test_stop_request_stops_every_service():
    out = io.StringIO()
    supervisor = Supervisor([Service("a", SLEEPER), Service("b", POLITE)], env={}, out=out)
    supervisor.start()
    threading.Timer(0.3, supervisor.request_stop, args=(signal.SIGINT, None)).start()

    started = time.monotonic()
    code = supervisor.wait(poll_seconds=0.05)

    assert code == 0
    assert time.monotonic() - started < 10
    assert all(p.poll() is not None for p in supervisor.processes.values())
    assert "all stopped" in out.getvalue()


def test_one_service_dying_stops_the_others_and_fails():
    out = io.StringIO()
    crashing = [sys.executable, "-c", "raise SystemExit(3)"]
    supervisor = Supervisor([Service("web", SLEEPER), Service("worker", crashing)], {}, out)
    supervisor.start()

    code = supervisor.wait(poll_seconds=0.05)

    assert code == 1
    assert supervisor.processes["web"].poll() is not None
    assert "worker exited with code 3" in out.getvalue()


def test_stubborn_service_is_killed_after_the_grace_period(monkeypatch):
    monkeypatch.setattr("erpbridge.demo.STOP_GRACE_SECONDS", 0.5)
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)",
    ]
    out = io.StringIO()
    supervisor = Supervisor([Service("stubborn", stubborn)], {}, out)
    supervisor.start()
    time.sleep(0.3)  # let it install its handler

    supervisor.stop()

    assert supervisor.processes["stubborn"].returncode == -signal.SIGKILL
    assert "killing it" in out.getvalue()


def test_demo_environment_generates_keys_once_and_forces_debug(tmp_path):
    first = demo_environment({"DEBUG": "false"}, tmp_path)
    second = demo_environment({}, tmp_path)

    assert first["DEBUG"] == "true"
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["ERPBRIDGE_ENCRYPTION_KEY"] == second["ERPBRIDGE_ENCRYPTION_KEY"]
    assert (tmp_path / "demo.env").stat().st_mode & 0o077 == 0
    assert read_env_file(tmp_path / "demo.env").keys() == {"SECRET_KEY", "ERPBRIDGE_ENCRYPTION_KEY"}


def test_callers_keys_win(tmp_path):
    env = demo_environment({"SECRET_KEY": "mine"}, tmp_path)

    assert env["SECRET_KEY"] == "mine"


def test_demo_runs_the_web_server_and_a_cluster():
    argvs = {s.name: s.argv for s in services("127.0.0.1", "8123")}

    assert argvs["web"][-3:] == ["runserver", "127.0.0.1:8123", "--noreload"]
    assert argvs["worker"][-1] == "qcluster"
