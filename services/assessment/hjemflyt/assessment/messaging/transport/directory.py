"""The directory transport: outgoing messages are files `outbox/<MsgId>.xml`, incoming ones
are read from `inbox/*.xml` and moved to `inbox/done/` once stored.

A file is written under a temporary name and renamed into place, so a reader never sees
half a message; the name is the MsgId, so sending again after a crash replaces the same file
rather than adding a second message."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hjemflyt.assessment.messaging.transport.base import Incoming

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_BYTES = 10 * 1024 * 1024


class DirectoryTransport:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.outbox = root / "outbox"
        self.inbox = root / "inbox"
        self.processed = self.inbox / "done"
        for folder in (self.outbox, self.inbox, self.processed):
            folder.mkdir(parents=True, exist_ok=True)

    def send(self, msg_id: str, body: bytes) -> None:
        name = _SAFE.sub("_", msg_id) + ".xml"
        tmp = self.outbox / f".{name}.tmp"
        with open(tmp, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.outbox / name)

    def receive(self, limit: int) -> list[Incoming]:
        files = sorted(
            (
                p
                for p in self.inbox.iterdir()
                if p.is_file() and p.suffix == ".xml" and not p.name.startswith(".")
            ),
            key=lambda p: (p.stat().st_mtime, p.name),
        )[:limit]
        out = []
        for path in files:
            # Too large: read as not XML, answered with a negative receipt.
            body = b"" if path.stat().st_size > MAX_BYTES else path.read_bytes()
            out.append(Incoming(name=path.name, body=body))
        return out

    def done(self, message: Incoming) -> None:
        source = self.inbox / message.name
        if source.exists():
            os.replace(source, self.processed / message.name)
