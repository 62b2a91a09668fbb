"""Configuration use cases: read it all, change one part, or apply a preset."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.config.models import CaseOffice, LegalBasis, MeasureCode, Municipality, ServiceType
from hjemflyt.assessment.config.presets import PRESETS
from hjemflyt.assessment.config.repository import ConfigRepository
from hjemflyt.assessment.config.schemas import (
    CaseOfficeIn,
    CaseOfficeOut,
    ConfigurationOut,
    CopaymentBandIn,
    LegalBasisIn,
    LegalBasisOut,
    MeasureCodeIn,
    MeasureCodeNew,
    MeasureCodeOut,
    MunicipalityIn,
    MunicipalityOut,
    ServiceTypeIn,
    ServiceTypeOut,
)
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, RuleViolation


async def read(ctx: ServiceContext, session: AsyncSession) -> ConfigurationOut:
    repo = ConfigRepository(session)
    municipality = await repo.municipality(ctx.settings.tenant)
    return ConfigurationOut(
        municipality=MunicipalityOut.model_validate(municipality) if municipality else None,
        service_types=[ServiceTypeOut.model_validate(s) for s in await repo.service_types()],
        legal_basis=[LegalBasisOut.model_validate(b) for b in await repo.legal_basis()],
        copayment_bands=[CopaymentBandIn.model_validate(b) for b in await repo.bands()],
        case_offices=[CaseOfficeOut.model_validate(c) for c in await repo.case_offices()],
        measure_codes=[MeasureCodeOut.model_validate(m) for m in await repo.measure_codes()],
    )


async def put_municipality(
    ctx: ServiceContext, session: AsyncSession, body: MunicipalityIn, preset: str | None = None
) -> None:
    values: dict[str, Any] = body.model_dump() | {
        "tenant": ctx.settings.tenant,
        "preset": preset,
        "updated_at": ctx.clock.now(),
    }
    await ConfigRepository(session).upsert(Municipality, "tenant", values)


async def put_service_type(session: AsyncSession, code: str, body: ServiceTypeIn) -> ServiceTypeOut:
    repo = ConfigRepository(session)
    known = await repo.legal_basis_by_code(set(body.legal_basis))
    missing = sorted(set(body.legal_basis) - known.keys())
    if missing:
        raise RuleViolation(f"Unknown legal basis: {', '.join(missing)}.", slug="unknown-legal-basis")
    await repo.upsert(ServiceType, "code", body.model_dump() | {"code": code})
    return ServiceTypeOut(code=code, **body.model_dump())


async def measure_codes(
    session: AsyncSession, *, service_type: str | None = None, active: bool | None = None
) -> list[MeasureCodeOut]:
    rows = await ConfigRepository(session).measure_codes(service_type=service_type, active=active)
    return [MeasureCodeOut.model_validate(m) for m in rows]


async def _known_service_type(repo: ConfigRepository, body: MeasureCodeIn) -> None:
    if body.service_type is None:
        return
    if not await repo.service_types_by_code({body.service_type}):
        raise RuleViolation(
            f"{body.service_type!r} is not in the service catalogue; give one of its codes, "
            "or null for a measure of any service.",
            slug="unknown-service",
        )


async def add_measure_code(session: AsyncSession, body: MeasureCodeNew) -> MeasureCodeOut:
    """A new code; an existing one is changed with PUT, never replaced by accident."""
    repo = ConfigRepository(session)
    await _known_service_type(repo, body)
    if not await repo.add_measure_code(body.model_dump()):
        raise Conflict(
            f"The measure code {body.code!r} exists; change it with PUT "
            f"/v1/config/measure-codes/{body.code}.",
            slug="measure-code-exists",
        )
    return MeasureCodeOut(**body.model_dump())


async def put_measure_code(session: AsyncSession, code: str, body: MeasureCodeIn) -> MeasureCodeOut:
    """Add or change a code. A changed norm applies to decisions made from now on; decisions
    made earlier keep the minutes they were made with."""
    repo = ConfigRepository(session)
    await _known_service_type(repo, body)
    await repo.upsert(MeasureCode, "code", body.model_dump() | {"code": code})
    return MeasureCodeOut(code=code, **body.model_dump())


async def put_legal_basis(session: AsyncSession, code: str, body: LegalBasisIn) -> LegalBasisOut:
    await ConfigRepository(session).upsert(LegalBasis, "code", body.model_dump() | {"code": code})
    return LegalBasisOut(code=code, **body.model_dump())


async def put_bands(session: AsyncSession, bands: list[CopaymentBandIn]) -> None:
    """Replace the bands of each valid_from date given; bands of one date must not overlap."""
    by_date: dict[Any, list[CopaymentBandIn]] = {}
    for band in bands:
        by_date.setdefault(band.valid_from, []).append(band)
    for valid_from, group in by_date.items():
        ordered = sorted(group, key=lambda b: b.income_min_g)
        for lower, upper in itertools.pairwise(ordered):
            if lower.income_max_g is None or lower.income_max_g > upper.income_min_g:
                raise RuleViolation(f"Income bands from {valid_from} overlap.", slug="overlapping-bands")
        await ConfigRepository(session).replace_bands(valid_from, [b.model_dump() for b in ordered])


async def put_case_office(session: AsyncSession, code: str, body: CaseOfficeIn) -> CaseOfficeOut:
    await ConfigRepository(session).upsert(CaseOffice, "code", body.model_dump() | {"code": code})
    return CaseOfficeOut(code=code, **body.model_dump())


async def apply_preset(ctx: ServiceContext, session: AsyncSession, name: str) -> ConfigurationOut:
    make = PRESETS.get(name)
    if make is None:
        raise NotFound(f"No preset called {name!r}; there are: {', '.join(sorted(PRESETS))}.")
    preset = make()
    tenant = preset["municipality"]["tenant"]
    if tenant != ctx.settings.tenant:
        raise Conflict(
            f"The {name} preset is for municipality {tenant}, this deployment serves {ctx.settings.tenant}.",
            slug="preset-for-another-municipality",
        )
    municipality = {k: v for k, v in preset["municipality"].items() if k != "tenant"}
    await put_municipality(ctx, session, MunicipalityIn(**municipality), preset=name)
    for basis in preset["legal_basis"]:
        await put_legal_basis(session, basis["code"], LegalBasisIn(title=basis["title"], text=basis["text"]))
    for service in preset["service_types"]:
        code = service.pop("code")
        await put_service_type(session, code, ServiceTypeIn(**service))
    await put_bands(session, [CopaymentBandIn(**b) for b in preset["copayment_bands"]])
    for office in preset["case_offices"]:
        code = office.pop("code")
        await put_case_office(session, code, CaseOfficeIn(**office))
    districts = DistrictRepository(session)
    for district in preset["districts"]:
        code = district.pop("code")
        await districts.upsert(code, district)
    return await read(ctx, session)
