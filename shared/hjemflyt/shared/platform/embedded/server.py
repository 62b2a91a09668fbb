"""The lifecycle EmbeddedPostgres and EmbeddedNats share: one child process in a locked data
folder, started on free ports (again on others when one was taken meanwhile), waited for until
ready, and stopped in order.
"""

from __future__ import annotations

import abc
import atexit
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

from hjemflyt.shared.platform.embedded.process import (
    DirLock,
    EmbeddedError,
    StartFailed,
    child_env,
    log_tail,
    spawn,
    stop_child,
)

logger = logging.getLogger(__name__)

_START_ATTEMPTS = 3


def retry_on_taken_ports(
    launch: Callable[[set[int]], None],
    *,
    fixed: Iterable[int | None],
    what: str,
    before_retry: Callable[[], None] = lambda: None,
) -> None:
    """`launch(avoid)` again, avoiding the ports it could not bind, when one it chose was taken between
    choice and bind (a race free_port() cannot close). A port the caller fixed is never replaced."""
    given = {port for port in fixed if port is not None}
    avoid: set[int] = set()
    for attempt in range(_START_ATTEMPTS):
        try:
            launch(set(avoid))
            return
        except StartFailed as exc:
            if not exc.busy_ports or exc.busy_ports & given or attempt == _START_ATTEMPTS - 1:
                raise
            logger.info("%s port(s) %s taken meanwhile; trying others", what, sorted(exc.busy_ports))
            avoid |= exc.busy_ports
            before_retry()


class StartStop(abc.ABC):
    """`with x:` starts x and stops it again, whatever happens inside."""

    @abc.abstractmethod
    def start(self) -> object: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass(eq=False)
class ChildServer(StartStop):
    """One server: a data folder locked while it runs and one child process in it, started by the
    subclass's `start()` and stopped here. Subclasses name their program and log and say how they
    stop (`_stop_signals`)."""

    program: ClassVar[str]  # the executable's name, in messages
    log_name: ClassVar[str]  # the log file in data_dir

    data_dir: Path

    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _owner_pid: int = field(default=0, init=False, repr=False)  # the process that started _proc
    _lock: DirLock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        self._lock = DirLock(self.data_dir / "lock")

    @property
    def log_path(self) -> Path:
        return self.data_dir / self.log_name

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @abc.abstractmethod
    def start(self) -> str: ...

    def stop(self) -> None:
        """Stop the server with its `_stop_signals`, SIGKILL last, and free the folder. Idempotent."""
        atexit.unregister(self.stop)
        self._shutdown()

    def restart(self) -> None:
        """Stop and start again on the same port(s), so connected clients reconnect."""
        self.stop()
        self.start()

    # ---- for subclasses

    @property
    def _label(self) -> str:
        return f"embedded {self.program}"

    @abc.abstractmethod
    def _stop_signals(self) -> Sequence[tuple[signal.Signals, float]]: ...

    def _stopped(self) -> None:
        """After our child has exited (a hook)."""

    def _forget_exited(self) -> None:
        if self._proc is not None and not self.running:
            logger.warning(
                "%s (pid %s) had exited with %s", self._label, self._proc.pid, self._proc.returncode
            )
            self._proc = None

    def _spawn(
        self,
        argv: Sequence[str | Path],
        *,
        cwd: Path,
        death_signal: signal.Signals,
        run_as: tuple[int, int] | None = None,
    ) -> subprocess.Popen[bytes]:
        self._proc = spawn(
            argv, log=self.log_path, cwd=cwd, env=child_env(), death_signal=death_signal, run_as=run_as
        )
        self._owner_pid = os.getpid()
        return self._proc

    def _wait_ready(
        self,
        log_offset: int,
        timeout: float,
        probe: Callable[[], str],
        busy_ports: Callable[[str], Iterable[int]],
    ) -> None:
        """Until `probe()` says nothing is missing (''). If the child exits first: StartFailed with
        the ports it could not bind, which `busy_ports` reads from its log."""
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                tail = log_tail(self.log_path, log_offset)
                raise StartFailed(
                    f"{self.program} exited with {proc.returncode} while starting; {self.log_path}:\n{tail}",
                    busy_ports=busy_ports(tail),
                )
            missing = probe()
            if not missing and proc.poll() is None:
                return
            if time.monotonic() > deadline:
                tail = log_tail(self.log_path, log_offset)
                raise EmbeddedError(
                    f"{self.program} not ready after {timeout:.0f}s ({missing}); {self.log_path}:\n{tail}"
                )
            time.sleep(0.05)

    def _shutdown(self) -> None:
        if self._proc is not None and self._owner_pid != os.getpid():
            self._proc = None  # we are a fork()ed copy of the owner: not ours to stop
        if self._proc is not None:
            logger.info("stopping %s (pid %s)", self._label, self._proc.pid)
            stop_child(self._proc, self._stop_signals(), self.program)
            self._proc = None
            self._stopped()
        self._lock.release()
