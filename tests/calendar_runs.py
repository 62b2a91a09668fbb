"""Run the date-sensitive tests (marker `calendar`) as if it were each of the given days.

    python -m tests.calendar_runs [--system] DAY [DAY ...]     (DAY: YYYY-MM-DD[THH:MM], Oslo)

One pytest process per day with HJEMFLYT_TEST_TODAY set, in as many lanes as the machine has
cores (two at most: the tests wait on the bus as much as they compute), each lane with its
own embedded servers (HJEMFLYT_TEST_DATA_DIR), so the runs cannot see each other. The
whole-system tests run in one lane: their stacks live in fixed folders under .hjemflyt/system.
A day's output is printed whole when it ends; the exit status is 1 if any day failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(os.environ.get("HJEMFLYT_TEST_DATA_DIR", ".hjemflyt/test"))


async def _run_day(day: str, lane: int, marker: str) -> tuple[str, int, float, bytes]:
    env = os.environ | {
        "HJEMFLYT_TEST_TODAY": day,
        "HJEMFLYT_TEST_DATA_DIR": str(BASE_DIR.with_name(f"{BASE_DIR.name}-calendar-{lane}")),
    }
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-m",
        marker,
        "-q",
        "-p",
        "no:cacheprovider",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return day, process.returncode, time.monotonic() - started, output


async def _lane(lane: int, days: asyncio.Queue[str], marker: str, failed: list[str]) -> None:
    while not days.empty():
        day, code, seconds, output = await _run_day(days.get_nowait(), lane, marker)
        summary = output.decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
        print(f"== {marker} as if it were {day} (Europe/Oslo): {summary[0]} [{seconds:.0f} s]", flush=True)
        if code != 0:
            failed.append(day)
            print(output.decode(errors="replace"), flush=True)


async def _main(days: list[str], marker: str, most_lanes: int) -> int:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for day in days:
        queue.put_nowait(day)
    failed: list[str] = []
    lanes = max(1, min(most_lanes, os.cpu_count() or 1, len(days)))
    await asyncio.gather(*(_lane(n, queue, marker, failed) for n in range(lanes)))
    if failed:
        print(f"calendar runs failed on: {' '.join(failed)}", flush=True)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("days", nargs="+", help="YYYY-MM-DD or YYYY-MM-DDTHH:MM, Oslo time")
    parser.add_argument("--system", action="store_true", help="the whole-system calendar tests instead")
    args = parser.parse_args()
    if args.system:
        return asyncio.run(_main(args.days, "calendar and system", most_lanes=1))
    return asyncio.run(_main(args.days, "calendar and not system", most_lanes=2))


if __name__ == "__main__":
    sys.exit(main())
