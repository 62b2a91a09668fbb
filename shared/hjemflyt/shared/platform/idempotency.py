"""`Idempotency-Key` for POSTs that integrators retry.

The first request with a key runs and its response is stored in the same transaction as
its effect. A retry with the same key and body gets the stored response (with
`Idempotency-Replayed: true`) and changes nothing; the same key with another body is a
409. Two concurrent requests with one key cannot both commit (primary key), so the
loser gets a 409 and may retry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.crypto import FieldCipher
from hjemflyt.shared.platform.errors import Conflict, Problem
from hjemflyt.shared.platform.tables import PlatformTables

MAX_KEY_LENGTH = 200


@dataclass
class Idempotency:
    request: Request
    session: AsyncSession
    principal: Principal
    tables: PlatformTables
    clock: Clock
    cipher: FieldCipher
    body_hash: str = ""

    @property
    def key(self) -> str | None:
        key = self.request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
            raise Problem(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
                slug="invalid-idempotency-key",
                status=400,
            )
        return key

    async def replay(self) -> JSONResponse | None:
        """The stored response for a retried request, or None if this is the first."""
        key = self.key
        if key is None:
            return None
        self.body_hash = hashlib.sha256(await self.request.body()).hexdigest()
        table = self.tables.idempotency
        row = (
            await self.session.execute(
                select(table).where(table.c.actor == self.principal.subject, table.c.key == key)
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != self.body_hash or row.path != self.request.url.path:
            raise Conflict(
                "This Idempotency-Key was used for a different request.", slug="idempotency-key-reused"
            )
        headers = dict(row.headers)
        headers["Idempotency-Replayed"] = "true"
        content = json.loads(self.cipher.decrypt(row.response))
        return JSONResponse(content, status_code=row.status, headers=headers)

    async def remember(self, status: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
        # A response model dumps itself to JSON types far faster than jsonable_encoder walks it.
        content = body.model_dump(mode="json") if isinstance(body, BaseModel) else jsonable_encoder(body)
        key = self.key
        if key is not None:
            try:
                async with self.session.begin_nested():
                    await self.session.execute(
                        self.tables.idempotency.insert().values(
                            actor=self.principal.subject,
                            key=key,
                            method=self.request.method,
                            path=self.request.url.path,
                            request_hash=self.body_hash,
                            status=status,
                            response=self.cipher.encrypt(json.dumps(content)),
                            headers=headers or {},
                            created_at=self.clock.now(),
                        )
                    )
            except IntegrityError as exc:
                raise Conflict(
                    "A request with this Idempotency-Key is in progress; retry shortly.",
                    slug="idempotency-key-in-progress",
                ) from exc
        return JSONResponse(content, status_code=status, headers=headers)
