"""The district routine registry (to be built): templates, district overrides, versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def routines_reference(session: AsyncSession, district: str) -> dict[str, Any] | None:
    """What an order says about the district's routines: the published set in force for
    `district` (e.g. {"district": ..., "version": n, "published_at": ...}), or None if
    nothing is published yet. Orders carry it so a provider knows which routines apply."""
    return None
