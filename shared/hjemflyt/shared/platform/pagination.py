"""Opaque cursors for keyset pagination: the client passes back what it was given."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

from hjemflyt.shared.platform.errors import Problem

T = TypeVar("T")

MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null at the end.")


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor", status=400) from exc
    if not isinstance(value, dict):
        raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor", status=400)
    return value


def encode_position(created_at: datetime, id_: UUID) -> str:
    """A cursor for lists ordered by (created_at, id)."""
    return encode_cursor({"created_at": created_at.isoformat(), "id": str(id_)})


def decode_position(cursor: str | None) -> tuple[datetime, UUID] | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        created_at = datetime.fromisoformat(values["created_at"])
        return created_at, UUID(values["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor", status=400) from exc
