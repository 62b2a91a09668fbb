"""Every SQL statement of the KOSTRA module."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import delete, func, insert, or_, select

from hjemflyt.budget.hours.models import DecidedHours
from hjemflyt.budget.kostra.models import Inhabitants, KostraFunction
from hjemflyt.shared.platform.repository import Repository


class KostraRepository(Repository):
    async def functions(self) -> dict[str, str]:
        rows = await self.session.execute(select(KostraFunction.service_code, KostraFunction.function))
        return {code: function for code, function in rows}

    async def replace_functions(self, functions: dict[str, str], at: datetime, by: str) -> None:
        await self.session.execute(delete(KostraFunction))
        if functions:
            await self.session.execute(
                insert(KostraFunction),
                [
                    {"service_code": c, "function": f, "updated_at": at, "updated_by": by}
                    for c, f in functions.items()
                ],
            )

    async def inhabitants(self, year: int) -> dict[tuple[str, str], int]:
        """(district, age band) -> inhabitants in the year."""
        rows = await self.session.execute(
            select(Inhabitants.district, Inhabitants.age_band, Inhabitants.inhabitants).where(
                Inhabitants.year == year
            )
        )
        return {(district, band): n for district, band, n in rows}

    async def replace_inhabitants(
        self, year: int, figures: dict[tuple[str, str], int], at: datetime, by: str
    ) -> None:
        await self.session.execute(delete(Inhabitants).where(Inhabitants.year == year))
        if figures:
            await self.session.execute(
                insert(Inhabitants),
                [
                    {
                        "year": year,
                        "district": district,
                        "age_band": band,
                        "inhabitants": n,
                        "updated_at": at,
                        "updated_by": by,
                    }
                    for (district, band), n in figures.items()
                ],
            )

    async def age_bands(self, on: date) -> dict[uuid.UUID, str | None]:
        """Each person's age band from their decisions in force on a date (the latest band
        any of them carries: the decisions of one person differ only by when they were made)."""
        stmt = (
            select(DecidedHours.person_id, func.max(DecidedHours.age_band))
            .where(
                DecidedHours.provider_org.is_not(None),
                DecidedHours.start_date <= on,
                or_(DecidedHours.end_date.is_(None), DecidedHours.end_date >= on),
            )
            .group_by(DecidedHours.person_id)
        )
        return {person_id: band for person_id, band in await self.session.execute(stmt)}
