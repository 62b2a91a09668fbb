"""Peak resident memory and CPU time of the stack's processes, sampled from a background thread.

RSS is summed over a process and its children. For PostgreSQL that sum counts the shared
buffers once per backend that touched them, so its peak RSS overstates what the server
really uses; the proportional set size (PSS) is sampled as well for that reason.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil  # type: ignore[import-untyped]  # no types-psutil in the lock file


@dataclass
class _Watched:
    name: str
    process: psutil.Process
    tree: bool
    peak_rss: int = 0
    peak_pss: int = 0
    last_rss: int = 0


def _tree(process: psutil.Process, tree: bool = True) -> list[psutil.Process]:
    if not tree:
        return [process]
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return [process]


def _cpu_seconds(process: psutil.Process, tree: bool) -> float:
    """User + system time of the process, its live children, and the children it has reaped."""
    total = 0.0
    for i, proc in enumerate(_tree(process, tree)):
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
        if i == 0 and tree:  # reaped children (e.g. postgres backends that exited) are charged to the parent
            total += times.children_user + times.children_system
    return total


@dataclass
class ProcessWatch:
    """Samples RSS (and PSS every few rounds) of named process trees every `interval` seconds.
    Processes named in `solo` are measured without their children."""

    pids: dict[str, int]
    solo: frozenset[str] = frozenset()
    interval: float = 0.25
    pss_every: int = 8
    _watched: list[_Watched] = field(default_factory=list, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    samples: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        for name, pid in self.pids.items():
            try:
                self._watched.append(_Watched(name, psutil.Process(pid), name not in self.solo))
            except psutil.Error:
                continue

    def start(self) -> None:
        self._sample(with_pss=True)
        self._thread = threading.Thread(target=self._run, name="bench-procwatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sample(with_pss=True)

    def _run(self) -> None:
        rounds = 0
        while not self._stop.wait(self.interval):
            rounds += 1
            self._sample(with_pss=rounds % self.pss_every == 0)

    def _sample(self, *, with_pss: bool) -> None:
        for watched in self._watched:
            rss = pss = 0
            for proc in _tree(watched.process, watched.tree):
                try:
                    if with_pss:
                        info = proc.memory_full_info()
                        rss += info.rss
                        pss += info.pss
                    else:
                        rss += proc.memory_info().rss
                except psutil.Error:
                    continue
            with self._lock:
                watched.last_rss = rss
                watched.peak_rss = max(watched.peak_rss, rss)
                if with_pss:
                    watched.peak_pss = max(watched.peak_pss, pss)
        self.samples += 1

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each watched process tree."""
        return {w.name: _cpu_seconds(w.process, w.tree) for w in self._watched}

    def memory(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                w.name: {
                    "peak_rss_mb": round(w.peak_rss / 2**20, 1),
                    "peak_pss_mb": round(w.peak_pss / 2**20, 1),
                    "last_rss_mb": round(w.last_rss / 2**20, 1),
                }
                for w in self._watched
            }


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROC_STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def machine_cpu_ticks() -> dict[str, int]:
    """The machine-wide CPU tick counters of /proc/stat (Linux); empty elsewhere."""
    try:
        with open("/proc/stat") as f:
            first = f.readline().split()
    except OSError:
        return {}
    return dict(zip(_PROC_STAT_FIELDS, map(int, first[1:9]), strict=False))


@dataclass
class CpuPhase:
    """CPU seconds each process tree used between `begin` and `end`, and how busy the whole
    machine was meanwhile (from /proc/stat)."""

    watch: ProcessWatch
    _before: dict[str, float] = field(default_factory=dict, init=False)
    _ticks: dict[str, int] = field(default_factory=dict, init=False)
    _t0: float = field(default=0.0, init=False)
    wall_s: float = field(default=0.0, init=False)
    seconds: dict[str, float] = field(default_factory=dict, init=False)
    machine: dict[str, float] = field(default_factory=dict, init=False)  # share of all CPUs' time
    untracked_s: float = field(default=0.0, init=False)

    def begin(self) -> CpuPhase:
        self._before = self.watch.cpu()
        self._ticks = machine_cpu_ticks()
        self._t0 = time.perf_counter()
        return self

    def end(self) -> CpuPhase:
        after = self.watch.cpu()
        self.wall_s = time.perf_counter() - self._t0
        ticks = machine_cpu_ticks()
        self.seconds = {k: after[k] - self._before.get(k, 0.0) for k in after}
        delta = {k: ticks[k] - self._ticks.get(k, 0) for k in ticks}
        total = sum(delta.values())
        if total > 0:
            self.machine = {k: round(100 * v / total, 1) for k, v in delta.items()}
            busy = total - delta["idle"] - delta["iowait"] - delta["steal"]
            self.untracked_s = max(0.0, busy / _CLOCK_TICKS - sum(self.seconds.values()))
        return self

    @property
    def untracked_percent(self) -> float:
        """CPU used by processes the benchmark does not watch (other work on the machine, the
        kernel's own threads), as a share of one core."""
        return 100 * self.untracked_s / self.wall_s if self.wall_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": {k: round(v, 3) for k, v in self.seconds.items()},
            "machine_percent": self.machine,
            "untracked_cpu_percent_of_one_core": round(self.untracked_percent, 1),
            "cpu_percent_of_one_core": {
                k: round(100 * v / self.wall_s, 1) if self.wall_s else None for k, v in self.seconds.items()
            },
        }


def machine_busy_percent(seconds: float = 1.0) -> float | None:
    """How busy all CPUs together were over the next `seconds` (Linux); None elsewhere."""
    before = machine_cpu_ticks()
    time.sleep(seconds)
    after = machine_cpu_ticks()
    delta = {k: after[k] - before.get(k, 0) for k in after}
    total = sum(delta.values())
    if not total:
        return None
    return 100 * (total - delta["idle"] - delta["iowait"] - delta["steal"]) / total
