"""District configuration: each district's name, organisation model and case office."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.districts.models import District
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.districts.schemas import DistrictIn


async def configure(session: AsyncSession, code: str, body: DistrictIn) -> District:
    """Create the district or replace its configuration."""
    return await DistrictRepository(session).upsert(code, body.model_dump(mode="json"))


async def list_all(session: AsyncSession) -> Sequence[District]:
    return await DistrictRepository(session).list()
