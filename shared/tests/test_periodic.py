"""Background jobs: a failing round is retried, names are unique, jobs switched off are left out."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hjemflyt.shared.platform.periodic import jobs, periodic


async def test_a_failing_round_is_logged_and_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    rounds: list[int] = []

    async def round_() -> int:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database away")
        return 2

    name, run = periodic("test-sweep", round_, every=0.01, report="moved %s")
    task = asyncio.create_task(run())
    try:
        while len(rounds) < 3:
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert name == "test-sweep"
    assert "test-sweep failed; retrying" in caplog.text
    assert "moved 2" in caplog.text


def test_job_names_are_unique_and_switched_off_jobs_are_left_out() -> None:
    async def nothing() -> None:
        return None

    a = periodic("a", nothing, every=1)
    assert list(jobs(a, None, periodic("b", nothing, every=1))) == ["a", "b"]
    with pytest.raises(ValueError, match="two background jobs named 'a'"):
        jobs(a, periodic("a", nothing, every=1))
