"""The configuration a decision is checked against and priced by: service types, measure
codes with their time norms, co-payment bands, legal bases, the municipality's appeal body.
Plain values, cached per process and keyed by the configuration's version token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.config.models import config_version
from hjemflyt.assessment.config.repository import ConfigRepository
from hjemflyt.assessment.config.rules import Band
from hjemflyt.assessment.decisions.rules import ScopeKind
from hjemflyt.assessment.decisions.schemas import MeasureIn, MeasureOut
from hjemflyt.shared.platform.context import ServiceContext


@dataclass(frozen=True, slots=True)
class ServiceTypeInfo:
    """A service type of the catalogue as a decision uses it (a plain value, safe to share)."""

    code: str
    name: str
    iplos_code: str
    chargeable: bool
    legal_basis: tuple[str, ...]
    active: bool


@dataclass(frozen=True, slots=True)
class MeasureInfo:
    """A code of the measure catalogue with its time norm (a plain value, safe to share)."""

    code: str
    name: str
    service_type: str | None
    norm_minutes: int
    active: bool


@dataclass(frozen=True, slots=True)
class MunicipalityInfo:
    appeal_body: str
    appeal_weeks: int


CATALOGUE_CACHE_KEY = "assessment.catalogue"
_CONFIG_TOKEN = select(config_version.c.token).where(config_version.c.id == 1)


class Catalogue:
    """The configuration a decision is checked against.

    Cached per process (per app) and keyed by the configuration's version token: each use
    case reads the token (one small row) in its own transaction, and reloads the catalogue
    when another request, another replica or a hand-made SQL change wrote the configuration
    (triggers change the token in the same transaction as the change, migration 0005_perf).
    So a decision is never checked against a catalogue older than its own snapshot.
    """

    def __init__(
        self,
        service_types: dict[str, ServiceTypeInfo],
        municipality: MunicipalityInfo | None,
        bands: list[Band],
        legal_basis: frozenset[str],
        measures: dict[str, MeasureInfo] | None = None,
    ) -> None:
        self.service_types = service_types
        self.municipality = municipality
        self.bands = bands
        self.legal_basis = legal_basis
        self.measures = measures or {}
        # What the completeness check needs, computed once per catalogue.
        self.active_types = {c: t.iplos_code for c, t in service_types.items() if t.active}
        self.active_measures = {c: m.service_type for c, m in self.measures.items() if m.active}

    @classmethod
    async def load(
        cls, ctx: ServiceContext, session: AsyncSession, *, token: uuid.UUID | None = None
    ) -> Catalogue:
        """The current catalogue; `token` if the caller read the version token already in
        this transaction (it saves a round trip)."""
        if token is None:
            token = await session.scalar(_CONFIG_TOKEN)
        cached: tuple[uuid.UUID, Catalogue] | None = ctx.cache.get(CATALOGUE_CACHE_KEY)
        if token is not None and cached is not None and cached[0] == token:
            return cached[1]
        catalogue = await cls.read(ctx, session)
        if token is not None:
            ctx.cache[CATALOGUE_CACHE_KEY] = (token, catalogue)
        return catalogue

    @classmethod
    async def read(cls, ctx: ServiceContext, session: AsyncSession) -> Catalogue:
        """The catalogue from the database, bypassing the cache."""
        repo = ConfigRepository(session)
        types = {
            s.code: ServiceTypeInfo(
                s.code, s.name, s.iplos_code, s.chargeable, tuple(s.legal_basis or ()), s.active
            )
            for s in await repo.service_types()
        }
        bands = [
            Band(b.valid_from, b.income_min_g, b.income_max_g, b.hourly_price_ore, b.max_per_month_ore)
            for b in await repo.bands()
        ]
        basis = frozenset(b.code for b in await repo.legal_basis())
        municipality = await repo.municipality(ctx.settings.tenant)
        info = MunicipalityInfo(municipality.appeal_body, municipality.appeal_weeks) if municipality else None
        measures = {
            m.code: MeasureInfo(m.code, m.name, m.service_type, m.norm_minutes, m.active)
            for m in await repo.measure_codes()
        }
        return cls(types, info, bands, basis, measures)

    def name(self, service_type: str) -> str:
        found = self.service_types.get(service_type)
        return found.name if found else service_type

    def measure(self, body: MeasureIn, scope_kind: ScopeKind) -> MeasureOut:
        """The measure as the decision states it. With a known code and no description, the
        description is the catalogue's name; with no minutes where the scope is minutes per
        measure (purchaser-provider districts), the minutes are the code's time norm. An
        unknown or inactive code is kept as given, for the completeness check to name."""
        entry = self.measures.get(body.code) if body.code is not None else None
        usable = entry is not None and entry.active
        description = body.description or (entry.name if entry is not None else body.code) or ""
        minutes = body.minutes
        if minutes is None and usable and scope_kind == ScopeKind.minutes_per_measure:
            assert entry is not None
            minutes = entry.norm_minutes
        return MeasureOut(
            code=body.code, description=description, times=body.times, per=body.per, minutes=minutes
        )
