"""What every embedded server is made of: free ports and the files that record them, child
processes that die with their parent and are stopped step by step, and a locked data folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# The default ports of PostgreSQL and NATS (client, monitoring, cluster): never ours.
RESERVED_PORTS: frozenset[int] = frozenset({5432, 4222, 8222, 6222})
_LOG_ROTATE_BYTES = 20 * 1024 * 1024
_IS_LINUX = sys.platform.startswith("linux")

# psutil ships no type information; the one place it is imported keeps `Any` contained.
psutil: Any = importlib.import_module("psutil")


class EmbeddedError(RuntimeError):
    """An embedded server could not be found, started or used."""


class StartFailed(EmbeddedError):
    def __init__(self, message: str, *, busy_ports: Iterable[int] = ()) -> None:
        super().__init__(message)
        self.busy_ports = set(busy_ports)  # ports the server could not bind


# --------------------------------------------------------------------------------------- ports


_ports_lock = threading.Lock()
_handed_out: set[int] = set()  # ports free_port() returned in this process, never returned twice


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could listen on host:port now.

    SO_REUSEADDR like the servers themselves, so connections of a just-stopped server lingering in
    TIME_WAIT do not make its port look taken; a live listener (on host or on a wildcard) does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK, avoid: Iterable[int] = RESERVED_PORTS) -> int:
    """A TCP port that is free on host, never one of `avoid` nor of RESERVED_PORTS.

    The kernel picks it; a port is not handed out twice by one process, so several servers can
    choose their ports before any of them binds.
    """
    excluded = set(avoid) | RESERVED_PORTS
    with _ports_lock:
        for _ in range(200):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((host, 0))
                port: int = sock.getsockname()[1]
            if port not in excluded and port not in _handed_out:
                _handed_out.add(port)
                return port
    raise EmbeddedError(f"could not find a free TCP port on {host}")


def read_int_file(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def resolve_port(current: int | None, record: Path, taken: set[int]) -> int:
    """`current` if set (the instance's port is fixed), else the recorded port if free, else a new one."""
    if current is not None:
        port = current
    else:
        recorded = read_int_file(record)
        if (
            recorded is not None
            and 0 < recorded < 65536
            and recorded not in RESERVED_PORTS
            and recorded not in taken
            and port_is_free(recorded)
        ):
            port = recorded
        else:
            if recorded is not None:
                logger.info("recorded port %s in %s is not usable; choosing another", recorded, record)
            port = free_port(avoid=RESERVED_PORTS | taken)
    if port in RESERVED_PORTS:
        raise EmbeddedError(f"port {port} is reserved for a developer's own servers; choose another")
    taken.add(port)
    return port


# --------------------------------------------------------------------- child processes


_PR_SET_PDEATHSIG = 1


def _death_signal_preexec(sig: signal.Signals) -> Callable[[], None] | None:
    """A preexec_fn setting PR_SET_PDEATHSIG in the child (Linux only, else None).

    CPython's _posixsubprocess calls preexec_fn after setgroups/setregid/setreuid (checked by
    test_preexec_fn_runs_after_uid_switch), which matters: a change of euid clears the death signal.
    """
    if not _IS_LINUX:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    def preexec() -> None:
        if prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the death signal was armed
            os._exit(1)

    return preexec


class _Spawner:
    """Forks every server from one long-lived daemon thread (see the package docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[], subprocess.Popen[bytes]], Future[subprocess.Popen[bytes]]]
        ] = queue.SimpleQueue()

    def popen(self, make: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        if not _IS_LINUX:
            return make()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # also after os.fork()
                self._jobs = queue.SimpleQueue()
                self._thread = threading.Thread(
                    target=self._run, name="hjemflyt-embedded-spawner", daemon=True
                )
                self._thread.start()
            future: Future[subprocess.Popen[bytes]] = Future()
            self._jobs.put((make, future))
        return future.result()

    def _run(self) -> None:
        jobs = self._jobs
        while True:
            make, future = jobs.get()
            try:
                future.set_result(make())
            except BaseException as exc:
                future.set_exception(exc)


_spawner = _Spawner()


def run_as_ids(run_as: tuple[int, int] | None) -> dict[str, Any]:
    """subprocess keyword arguments running the child as (uid, gid), without our extra groups."""
    if run_as is None:
        return {}
    return {"user": run_as[0], "group": run_as[1], "extra_groups": []}


def spawn(
    argv: Sequence[str | Path],
    *,
    log: Path,
    cwd: Path,
    env: Mapping[str, str],
    death_signal: signal.Signals,
    run_as: tuple[int, int] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a child in a process group of its own, its output appended to `log`, that gets
    `death_signal` when this process dies (Linux)."""
    logger.debug("starting %s", " ".join(map(str, argv)))
    with open_log(log) as out:

        def make() -> subprocess.Popen[bytes]:
            return subprocess.Popen(  # noqa: S603 - our own binaries, arguments are not shell-parsed
                [str(a) for a in argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=dict(env),
                process_group=0,
                preexec_fn=_death_signal_preexec(death_signal),
                **run_as_ids(run_as),
            )

        return _spawner.popen(make)


def open_log(path: Path) -> IO[bytes]:
    with contextlib.suppress(OSError):
        if path.stat().st_size > _LOG_ROTATE_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    return path.open("ab")


def log_tail(path: Path, offset: int, limit: int = 3000) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(offset, 0))
            data = f.read()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace").strip()


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def stop_child(
    proc: subprocess.Popen[bytes], steps: Sequence[tuple[signal.Signals, float]], what: str
) -> None:
    """Signal the child step by step until it exits; SIGKILL last. Always reaps it."""
    for sig, timeout in steps:
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            logger.warning("%s (pid %s) still running %.0fs after %s", what, proc.pid, timeout, sig.name)
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def stop_foreign(procs: Sequence[Any], sig: signal.Signals, timeout: float, what: str) -> None:
    """Stop psutil processes that are not our children: `sig`, wait up to `timeout`, then SIGKILL."""
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(sig)
    _gone, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        logger.warning("killing %s (pid %s)", what, proc.pid)
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)


def child_env() -> dict[str, str]:
    """The environment for servers and psql: no PG* variables (PGOPTIONS, PGSERVICE, ...) that would
    change what we connect to or how, and English messages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_MESSAGES"] = "C"
    return env


class DirLock:
    """An exclusive flock on <data_dir>/lock, held while a server of that folder runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise EmbeddedError(
                f"{self.path.parent} is in use by another process (pid {holder}); "
                "use another data dir or stop that process"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
