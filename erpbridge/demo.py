"""`make demo`: prepare a demo database, then run the web server and a qcluster together.

Run as `python -m erpbridge.demo`. This launcher imports no Django: every step is a
subprocess of `manage.py` with the demo environment, so the servers see exactly what the
setup steps saw. Ctrl-C (SIGINT) or SIGTERM stops every process; if one of them exits on its
own, the others are stopped too and the launcher exits non-zero.

To add a process (the sandboxes server, say), append a `Service` to `services()`; to add a
setup step (seeding data), append to `setup_steps()`.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 15


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]


def manage(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


def setup_steps() -> list[list[str]]:
    return [
        manage("migrate", "--no-input"),
        manage("createcachetable"),
        manage("demo_users"),
    ]


SANDBOX_PORTS = {"procore": 8701, "netsuite": 8702, "quickbooks": 8703}


def background_services(data_dir: Path) -> list[Service]:
    """What must be up before the post-start steps: the three simulated remote systems."""
    ports = [f"--{name}-port={port}" for name, port in SANDBOX_PORTS.items()]
    return [
        Service(
            "sandboxes",
            [
                sys.executable,
                "-m",
                "sandboxes",
                "serve",
                "--seed=42",
                "--size=demo",
                f"--state={data_dir / 'sandboxes.json'}",
                f"--ids-file={data_dir / 'sandbox-ids.json'}",
                *ports,
            ],
        )
    ]


def post_start_steps(host: str, port: str) -> list[list[str]]:
    """Steps that talk to the sandboxes (connect the demo connections, then seed them)."""
    app_url = f"--app-url=http://{host}:{port}"
    return [
        manage("demo_connections", app_url),
        # Mappings (most, not all), webhooks, schedules, and the first sync queued for the
        # qcluster that starts next.
        manage("demo_seed", app_url),
    ]


def wait_for_ports(ports: list[int], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.5):
                pending.pop(0)
        except OSError:
            time.sleep(0.2)
    return not pending


def services(host: str, port: str) -> list[Service]:
    return [
        # --noreload: one process per service, so stopping it stops everything it started.
        Service("web", manage("runserver", f"{host}:{port}", "--noreload")),
        Service("worker", manage("qcluster")),
    ]


def demo_environment(base_env: dict[str, str], data_dir: Path) -> dict[str, str]:
    """The demo's environment: DEBUG on, keys generated once and kept in the data folder.

    Keys persist so that secrets stored in one run can be read in the next; keys already
    set in the caller's environment win. DEBUG is always on (plain static files, no
    collectstatic), and cookies work over plain http on localhost.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    env_file = data_dir / "demo.env"
    if not env_file.exists():
        env_file.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(48)}\n"
            f"ERPBRIDGE_ENCRYPTION_KEY={Fernet.generate_key().decode()}\n"
        )
        env_file.chmod(0o600)
    env = {**read_env_file(env_file), **base_env}
    env.update({"DEBUG": "true", "ERPBRIDGE_DATA_DIR": str(data_dir), "ERPBRIDGE_HTTPS": "false"})
    return env


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


class Supervisor:
    """Starts services, waits, and stops them all when one exits or a signal arrives."""

    def __init__(self, services: list[Service], env: dict[str, str], out=sys.stdout) -> None:
        self.services = services
        self.env = env
        self.out = out
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self, only: list[Service] | None = None) -> None:
        for service in only if only is not None else self.services:
            # A session of its own: the terminal's Ctrl-C reaches only this launcher, which
            # then stops each child in order (SIGINT to a qcluster's whole group can hang it).
            self.processes[service.name] = subprocess.Popen(
                service.argv, env=self.env, cwd=BASE_DIR, start_new_session=True
            )
            self._say(f"started {service.name} (pid {self.processes[service.name].pid})")

    def request_stop(self, signum=None, frame=None) -> None:
        self.stopping = True

    def wait(self, poll_seconds: float = 0.2) -> int:
        """Block until a signal or a child's exit; stop everything; return an exit code."""
        exited = None
        while not self.stopping:
            exited = next((n for n, p in self.processes.items() if p.poll() is not None), None)
            if exited:
                break
            time.sleep(poll_seconds)
        if exited:
            code = self.processes[exited].returncode
            self._say(f"{exited} exited with code {code}; stopping the others")
        self.stop()
        return 1 if exited else 0

    def stop(self) -> None:
        running = [p for p in self.processes.values() if p.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"{name} did not stop in {STOP_GRACE_SECONDS}s; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._say("all stopped")

    def _say(self, message: str) -> None:
        print(f"[demo] {message}", file=self.out, flush=True)


def main() -> int:
    data_dir = Path(os.environ.get("ERPBRIDGE_DATA_DIR", BASE_DIR / "var"))
    host = os.environ.get("ERPBRIDGE_DEMO_HOST", "127.0.0.1")
    port = os.environ.get("ERPBRIDGE_DEMO_PORT", "8000")
    env = demo_environment(dict(os.environ), data_dir)
    for step in setup_steps():
        if subprocess.run(step, env=env, cwd=BASE_DIR).returncode != 0:
            print(f"[demo] setup step failed: {' '.join(step[1:])}", file=sys.stderr)
            return 1
    ids_file = data_dir / "sandbox-ids.json"
    ids_file.unlink(missing_ok=True)  # rewritten by the sandboxes once they listen
    first = background_services(data_dir)
    rest = services(host, port)
    supervisor = Supervisor(first + rest, env)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    supervisor.start(first)
    if not wait_for_ports(list(SANDBOX_PORTS.values())) or not _wait_for_file(ids_file):
        print("[demo] the sandboxes did not start; stopping", file=sys.stderr)
        supervisor.stop()
        return 1
    for step in post_start_steps(host, port):
        if subprocess.run(step, env=env, cwd=BASE_DIR).returncode != 0:
            print(f"[demo] step failed: {' '.join(step[1:])}", file=sys.stderr)
            supervisor.stop()
            return 1
    supervisor.start(rest)
    urls = ", ".join(f"{n} http://127.0.0.1:{p}" for n, p in SANDBOX_PORTS.items())
    print(f"[demo] sandboxes: {urls}", flush=True)
    print(f"[demo] erpbridge is at http://{host}:{port}/ — Ctrl-C stops everything", flush=True)
    return supervisor.wait()


def _wait_for_file(path: Path, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return path.exists()


if __name__ == "__main__":
    sys.exit(main())
