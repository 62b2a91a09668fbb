"""The providers a person may choose, as case handling knows them (from provider events)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.providers.models import ApprovedProvider
from hjemflyt.assessment.providers.repository import ProviderRepository


async def list_all(session: AsyncSession) -> Sequence[ApprovedProvider]:
    return await ProviderRepository(session).list()
