"""The embedded PostgreSQL and NATS servers that `make run` and `make test` use."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
import nats
import psutil  # type: ignore[import-untyped]
import pytest
from nats.js.api import StorageType

from hjemflyt.shared.platform.embedded import (
    RESERVED_PORTS,
    EmbeddedError,
    EmbeddedNats,
    EmbeddedNatsCluster,
    EmbeddedPostgres,
    free_port,
    nats_server_binary,
    port_is_free,
    process,
)
from hjemflyt.shared.platform.embedded.process import resolve_port

T = TypeVar("T")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")


async def eventually(make: Callable[[], Awaitable[T]], within: float = 20.0) -> T:
    """Retry an awaitable factory until it succeeds (leader elections, reconnects)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await make()
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def processes_in(pgdata: Path) -> list[psutil.Process]:
    """postgres processes (postmaster and backends) working in pgdata."""
    found = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == "postgres":
            try:
                if Path(proc.cwd()) == pgdata:
                    found.append(proc)
            except psutil.Error:
                pass
    return found


# ----------------------------------------------------------------------------- ports


def test_free_port_is_free_and_never_reserved() -> None:
    ports = {free_port() for _ in range(20)}
    assert len(ports) == 20  # never handed out twice
    assert not ports & RESERVED_PORTS
    assert all(port_is_free(p) for p in ports)
    assert free_port(avoid={*ports}) not in ports


def test_recorded_reserved_or_busy_port_is_not_reused(tmp_path: Path) -> None:
    record = tmp_path / "port"
    for reserved in (5432, 4222):
        record.write_text(f"{reserved}\n")
        assert resolve_port(None, record, set()) not in RESERVED_PORTS
    free = free_port()
    record.write_text(f"{free}\n")
    assert resolve_port(None, record, set()) == free
    assert resolve_port(None, record, {free}) != free
    with pytest.raises(EmbeddedError, match="reserved"):
        EmbeddedNats(tmp_path / "nats", port=4222).start()


def test_nats_server_binary_comes_from_the_venv() -> None:
    binary = nats_server_binary()
    assert binary.is_file()
    assert binary.parent == Path(sys.executable).parent


# -------------------------------------------------------------------------- postgres


async def test_postgres_persists_data_and_reuses_its_port(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg")
    url = pg.start()
    port = pg.port
    assert port is not None
    assert port not in RESERVED_PORTS
    assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{port}/hjemflyt"
    assert pg.raw_dsn == f"postgresql://postgres@127.0.0.1:{port}/hjemflyt"
    assert pg.start() == url  # idempotent
    if IS_ROOT:
        assert psutil.Process(pg.pid).username() == "pgserver"

    conn = await asyncpg.connect(pg.raw_dsn)
    try:
        await conn.execute("CREATE TABLE visit (id int PRIMARY KEY, note text)")
        await conn.execute("INSERT INTO visit VALUES (1, 'Blåbærsyltetøy')")
        assert await conn.fetchval("SHOW unix_socket_directories") == ""
        assert await conn.fetchval("SHOW listen_addresses") == "127.0.0.1"
        assert await conn.fetchval("SHOW fsync") == "on"
        assert await conn.fetchval("SELECT upper('æøå')") == "ÆØÅ"  # a UTF-8 aware ctype
    finally:
        await conn.close()

    # Helpers for tests: a database from a template, and dropping it with connections open.
    copy_url = pg.create_database("copy", template="hjemflyt")
    assert copy_url.endswith(f":{port}/copy")
    copy = await asyncpg.connect(pg.dsn("copy", driver=None))
    assert await copy.fetchval("SELECT note FROM visit") == "Blåbærsyltetøy"
    pg.drop_database("copy")  # WITH (FORCE) ends the open session
    assert not pg.database_exists("copy")
    copy.terminate()

    pid = pg.pid
    pg.stop()
    pg.stop()  # idempotent
    assert not pg.running
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not processes_in(pg.pgdata)
    assert "received fast shutdown request" in pg.log_path.read_text()
    assert (pg.data_dir / "port").read_text().strip() == str(port)

    again = EmbeddedPostgres(tmp_path / "pg")
    assert again.start() == url  # same port, recorded in data_dir/port
    try:
        conn = await asyncpg.connect(again.raw_dsn)
        assert await conn.fetchval("SELECT note FROM visit WHERE id = 1") == "Blåbærsyltetøy"
        await conn.close()
    finally:
        again.stop()


def test_postgres_data_dir_is_used_by_one_owner_and_leftovers_are_replaced(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path / "pg")
    first.start()
    with pytest.raises(EmbeddedError, match="in use"):
        EmbeddedPostgres(tmp_path / "pg").start()

    # Simulate an owner that died without stopping its server: the lock is gone, the server is not.
    leftover = first._proc
    assert leftover is not None
    first._proc = None
    first._lock.release()

    second = EmbeddedPostgres(tmp_path / "pg")
    try:
        second.start()
        assert leftover.wait(timeout=10) is not None  # stopped, not adopted
        assert second.pid != leftover.pid
        assert second.port == first.port
        assert second.psql("SELECT 1", "hjemflyt") == "1"
    finally:
        second.stop()


def test_a_port_taken_between_choice_and_bind_is_replaced(tmp_path: Path, monkeypatch) -> None:
    """The race free_port() cannot close: the chosen port is taken before the server binds it."""
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    monkeypatch.setattr(process, "port_is_free", lambda port, host="127.0.0.1": True)
    pg = EmbeddedPostgres(tmp_path / "pg")
    server = EmbeddedNats(tmp_path / "nats")
    for data_dir in (pg.data_dir, server.data_dir):
        data_dir.mkdir(parents=True)
        (data_dir / "port").write_text(f"{taken}\n")
    try:
        pg.start()
        server.start()
        assert pg.port not in (None, taken)
        assert server.port not in (None, taken)
        assert "could not bind" in pg.log_path.read_text()
        assert "address already in use" in server.log_path.read_text()
        with pytest.raises(EmbeddedError, match="exited"):  # an explicit port is never replaced
            EmbeddedNats(tmp_path / "fixed", port=taken).start()
    finally:
        server.stop()
        pg.stop()
        blocker.close()


# ------------------------------------------------------------------------------ NATS


async def test_nats_jetstream_file_storage_survives_restart(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats")
    url = await asyncio.to_thread(server.start)  # a worker thread: the server must outlive it
    port = server.port
    assert port is not None
    assert port not in RESERVED_PORTS
    assert server.monitor_port not in RESERVED_PORTS
    assert url == f"nats://127.0.0.1:{port}"

    nc = await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    try:
        js = nc.jetstream()
        await js.add_stream(name="EMBEDDED", subjects=["embedded.>"], storage=StorageType.FILE)
        ack = await js.publish("embedded.one", b"hei")

        pid = server.pid
        await asyncio.to_thread(server.restart)
        assert server.port == port
        assert server.pid != pid

        msg = await eventually(lambda: js.get_msg("EMBEDDED", ack.seq))  # the same client reconnected
        assert msg.data == b"hei"
        sub = await js.pull_subscribe("embedded.>", durable="reader")
        [received] = await sub.fetch(1, timeout=5)
        assert received.data == b"hei"
        await received.ack()
    finally:
        await nc.close()
        server.stop()
    server.stop()  # idempotent
    assert not server.pid_path.exists()

    again = EmbeddedNats(tmp_path / "nats")
    try:
        assert again.start() == url  # port reused across runs
    finally:
        again.stop()


async def until_answered(call: Callable[[], Awaitable[T]], seconds: float = 20.0) -> T:
    """Retry a JetStream call until the cluster answers: right after a stream is created or a
    node is lost, requests meet no responders or time out until a leader is elected, which on
    a loaded machine takes seconds. (`eventually` retries failed assertions only.)"""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            return await call()
        except nats.errors.Error:
            if loop.time() > deadline:
                raise
        await asyncio.sleep(0.1)


async def test_nats_cluster_r3_stream_survives_losing_a_node(tmp_path: Path) -> None:
    cluster = EmbeddedNatsCluster(tmp_path / "cluster")
    urls = await asyncio.to_thread(cluster.start)
    nc = None
    try:
        assert len(urls) == 3
        ports = [p for node in cluster.nodes for p in (node.port, node.monitor_port, node.cluster_port)]
        assert len(set(ports)) == 9
        assert not set(ports) & RESERVED_PORTS
        assert cluster.url == ",".join(urls)

        nc = await nats.connect(servers=urls, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
        js = nc.jetstream()
        info = await until_answered(
            lambda: js.add_stream(name="R3", subjects=["r3.>"], num_replicas=3, storage=StorageType.FILE)
        )
        assert info.config.num_replicas == 3
        await until_answered(lambda: js.publish("r3.a", b"1", timeout=1))

        info = await js.stream_info("R3")
        assert info.cluster is not None
        assert info.cluster.leader is not None
        leader = int(info.cluster.leader.removeprefix("n")) - 1
        cluster.stop_node(leader)  # the stream leader: forces an election

        await until_answered(lambda: js.publish("r3.b", b"2", timeout=1))
        info = await until_answered(lambda: js.stream_info("R3"))
        assert info.state.messages == 2
        assert info.cluster is not None
        assert info.cluster.leader != f"n{leader + 1}"

        await asyncio.to_thread(cluster.start_node, leader)

        async def all_current() -> None:
            info = await js.stream_info("R3")
            assert info.cluster is not None
            replicas = info.cluster.replicas or []
            assert len(replicas) == 2
            assert all(r.current for r in replicas)

        await eventually(all_current)
    finally:
        if nc is not None:
            await nc.close()
        cluster.stop()
    assert not any(node.running for node in cluster.nodes)


# --------------------------------------------------------------------- parent death


@linux_only
@pytest.mark.skipif(not IS_ROOT, reason="needs root to switch to the pgserver user")
def test_preexec_fn_runs_after_uid_switch() -> None:
    """CPython's _posixsubprocess switches uid before calling preexec_fn; the death signal set there
    therefore survives (a change of euid would clear it)."""
    read, write = os.pipe()

    def report() -> None:
        os.write(write, f"{os.getuid()} {os.geteuid()}".encode())

    subprocess.run(["true"], user="pgserver", preexec_fn=report, pass_fds=(write,), check=True)
    os.close(write)
    uid, euid = map(int, os.read(read, 100).split())
    os.close(read)
    assert uid == euid == pwd.getpwnam("pgserver").pw_uid


HELPER = r"""
import json, sys, threading, time
from pathlib import Path
from hjemflyt.shared.platform.embedded import EmbeddedNats, EmbeddedPostgres

pg = EmbeddedPostgres(Path(sys.argv[1]))
server = EmbeddedNats(Path(sys.argv[2]))
starter = threading.Thread(target=pg.start)  # a thread that ends: the server must not die with it
starter.start()
starter.join()
server.start()
time.sleep(0.3)
sys.stdout.write(json.dumps({"pg": pg.pid, "nats": server.pid, "pg_port": pg.port}) + "\n")
sys.stdout.flush()
time.sleep(300)
"""


@linux_only
def test_servers_die_with_a_sigkilled_parent(tmp_path: Path) -> None:
    helper = subprocess.Popen(
        [sys.executable, "-c", HELPER, str(tmp_path / "pg"), str(tmp_path / "nats")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert helper.stdout is not None
        line = helper.stdout.readline()
        assert line, f"helper exited with {helper.wait()}"
        started = json.loads(line)
        assert started["pg"] is not None, "postgres died with the thread that started it"
        assert started["nats"] is not None
        servers = [psutil.Process(started["pg"]), psutil.Process(started["nats"])]
        assert all(p.is_running() for p in servers)
        if IS_ROOT:
            assert servers[0].username() == "pgserver"
    finally:
        helper.send_signal(signal.SIGKILL)
        helper.wait()

    _gone, alive = psutil.wait_procs(servers, timeout=20)
    assert not alive, f"still running after the parent died: {alive}"
    pgdata = (tmp_path / "pg" / "pgdata").resolve()
    deadline = time.monotonic() + 10
    while processes_in(pgdata) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_in(pgdata)
    assert "received fast shutdown request" in (tmp_path / "pg" / "postgres.log").read_text()  # SIGINT
    assert 'Trapped "terminated" signal' in (tmp_path / "nats" / "nats.log").read_text()  # SIGTERM

    # The dead owner's lock went with it: the next run takes over the data and the port.
    pg = EmbeddedPostgres(tmp_path / "pg")
    try:
        pg.start()
        assert pg.port == started["pg_port"]
    finally:
        pg.stop()
