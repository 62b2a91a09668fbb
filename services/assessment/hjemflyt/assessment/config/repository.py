from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.assessment.config.models import (
    CaseOffice,
    CopaymentBand,
    LegalBasis,
    MeasureCode,
    Municipality,
    ServiceType,
)
from hjemflyt.assessment.db import Base
from hjemflyt.shared.platform.repository import Repository


class ConfigRepository(Repository):
    async def upsert(self, model: type[Base], key: str, values: dict[str, Any]) -> None:
        stmt = insert(model).values(**values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[key], set_={k: v for k, v in values.items() if k != key}
            )
        )

    async def municipality(self, tenant: str) -> Municipality | None:
        return await self.session.get(Municipality, tenant)

    async def service_types(self) -> Sequence[ServiceType]:
        return (await self.session.scalars(select(ServiceType).order_by(ServiceType.code))).all()

    async def service_types_by_code(self, codes: set[str]) -> dict[str, ServiceType]:
        rows = await self.session.scalars(select(ServiceType).where(ServiceType.code.in_(codes)))
        return {s.code: s for s in rows}

    async def legal_basis(self) -> Sequence[LegalBasis]:
        return (await self.session.scalars(select(LegalBasis).order_by(LegalBasis.code))).all()

    async def legal_basis_by_code(self, codes: set[str]) -> dict[str, LegalBasis]:
        rows = await self.session.scalars(select(LegalBasis).where(LegalBasis.code.in_(codes)))
        return {b.code: b for b in rows}

    async def bands(self) -> Sequence[CopaymentBand]:
        stmt = select(CopaymentBand).order_by(CopaymentBand.valid_from, CopaymentBand.income_min_g)
        return (await self.session.scalars(stmt)).all()

    async def replace_bands(self, valid_from: date, bands: list[dict[str, Any]]) -> None:
        await self.session.execute(delete(CopaymentBand).where(CopaymentBand.valid_from == valid_from))
        if bands:
            await self.session.execute(insert(CopaymentBand), bands)

    async def case_offices(self) -> Sequence[CaseOffice]:
        return (await self.session.scalars(select(CaseOffice).order_by(CaseOffice.code))).all()

    async def measure_codes(
        self, *, service_type: str | None = None, active: bool | None = None
    ) -> Sequence[MeasureCode]:
        """The measure catalogue; for a service type, its own codes and those of any service."""
        stmt = select(MeasureCode).order_by(MeasureCode.code)
        if service_type is not None:
            stmt = stmt.where((MeasureCode.service_type == service_type) | MeasureCode.service_type.is_(None))
        if active is not None:
            stmt = stmt.where(MeasureCode.active.is_(active))
        return (await self.session.scalars(stmt)).all()

    async def measure_code(self, code: str) -> MeasureCode | None:
        return await self.session.get(MeasureCode, code)

    async def add_measure_code(self, values: dict[str, Any]) -> bool:
        """Insert a new code; False if the code exists (nothing is changed then)."""
        stmt = insert(MeasureCode).values(**values).on_conflict_do_nothing(index_elements=["code"])
        result = await self.session.execute(stmt.returning(MeasureCode.code))
        return result.scalar_one_or_none() is not None
