"""Fetch the year's IPLOS files over the assessment API and write them to a folder: what
`hjemflyt iplos YEAR` runs. The completeness report first (what the register would reject,
per person), then the two files, apart: the content file (pseudonymous) and the identity file
(identity numbers; written readable by the owner only). A text progress bar on stderr follows
the steps and the bytes of the download; no dependency beyond httpx."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

STEPS = 3  # completeness, files, written


class ProgressBar:
    """`[#####-----] 2/3 files 1.2 MB` on one line, redrawn in place when stderr is a terminal,
    one line per step otherwise (logs stay readable)."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.width = total, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0

    def show(self, label: str, extra: str = "", *, final: bool = False) -> None:
        filled = round(self.width * self.done / self.total)
        line = (
            f"[{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} {label} {extra}".rstrip()
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width + 40) + ("\n" if final else ""))
        elif final or not extra:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step(self, label: str) -> None:
        self.done += 1
        self.show(label, final=self.done == self.total)


@dataclass(frozen=True)
class Written:
    content: Path
    identity: Path
    completeness: Path
    figures: dict[str, Any]
    problems: Counter[str]


def _raise_for(r: httpx.Response) -> None:
    if r.status_code >= 400:
        try:
            problem = r.json()
            detail = problem.get("detail") or r.text
        except ValueError:
            problem, detail = {}, r.text
        # iplos-records-invalid names the persons whose records fail the schema (no values).
        named = [f"{p['person_id']} ({', '.join(p['elements'])})" for p in problem.get("persons") or []]
        if named:
            more = f" and {len(named) - 10} more" if len(named) > 10 else ""
            detail += " Persons: " + "; ".join(named[:10]) + more
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {detail}")


def _write(
    out_dir: Path, year: int, serial: str, report: dict[str, Any], completeness: dict[str, Any]
) -> tuple[Path, Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"iplos-{report['municipality']}-{year}-{serial}"
    content = out_dir / f"{stem}-content.xml"
    identity = out_dir / f"{stem}-identity.xml"
    summary = out_dir / f"{stem}-completeness.json"
    content.write_text(report["content_file"], encoding="utf-8")
    # Personal data: created readable by the owner only, before anything is written into it.
    fd = os.open(identity, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(report["identity_file"])
    summary.write_text(json.dumps(completeness, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return content, identity, summary


async def export(
    client: httpx.AsyncClient,
    year: int,
    out_dir: Path,
    *,
    contacts: Sequence[dict[str, str]],
    serial: str = "1",
    prefix: str = "/assessment",
    progress: ProgressBar | None = None,
) -> Written:
    bar = progress or ProgressBar(STEPS)
    headers = {"Hjemflyt-Purpose": f"IPLOS delivery {year} (hjemflyt iplos)"}
    bar.show("completeness")
    r = await client.get(f"{prefix}/v1/iplos/{year}/completeness", headers=headers)
    _raise_for(r)
    completeness = r.json()
    bar.step("completeness")

    body = {"contacts": list(contacts), "serial": serial}
    chunks: list[bytes] = []
    async with client.stream("POST", f"{prefix}/v1/iplos/{year}/report", json=body, headers=headers) as r:
        if r.status_code >= 400:
            await r.aread()
            _raise_for(r)
        size = int(r.headers.get("content-length") or 0)
        received = 0
        async for chunk in r.aiter_bytes():
            chunks.append(chunk)
            received += len(chunk)
            bar.show(
                "files", f"{received / 1e6:.1f}/{size / 1e6:.1f} MB" if size else f"{received / 1e6:.1f} MB"
            )
    report = json.loads(b"".join(chunks))
    bar.step("files")

    content, identity, summary = await asyncio.to_thread(_write, out_dir, year, serial, report, completeness)
    bar.step("written")
    problems: Counter[str] = Counter(
        x["rule"] for p in completeness["persons"] for x in p["problems"]
    ) + Counter(x["rule"] for x in completeness["delivery_problems"])
    return Written(content, identity, summary, report["figures"], problems)
