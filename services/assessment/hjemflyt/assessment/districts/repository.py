from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.assessment.districts.models import District
from hjemflyt.shared.platform.repository import Repository


class DistrictRepository(Repository):
    async def get(self, code: str) -> District | None:
        return await self.session.get(District, code)

    async def list(self) -> Sequence[District]:
        return (await self.session.scalars(select(District).order_by(District.code))).all()

    async def upsert(self, code: str, values: dict[str, str]) -> District:
        stmt = insert(District).values(code=code, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[District.code], set_=values)
        await self.session.execute(stmt)
        district = await self.session.get(District, code, populate_existing=True)
        assert district is not None
        return district
