"""Decided versus delivered per person, provider and month: the contract owner (manager) and
integrations see every district, case officers and service leads their own."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hjemflyt.budget.delivered import service
from hjemflyt.budget.delivered.schemas import DecidedVsDelivered
from hjemflyt.budget.settlements.schemas import MONTH
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, PrincipalDep, SessionDep
from hjemflyt.shared.platform.errors import Forbidden, NotFound

router = APIRouter(prefix="/v1", tags=["decided-vs-delivered"])


async def _reader(principal: PrincipalDep) -> Principal:
    # Budget readers (contract owner, integrations) and the case office (decisions:read).
    if not (principal.has(Scope.budget_read) or principal.has(Scope.decisions_read)):
        raise Forbidden(
            "Decided versus delivered is for the contract owner and the case office.",
            missing_scopes=[Scope.budget_read.value],
        )
    return principal


Reader = Annotated[Principal, Depends(_reader)]
Month = Annotated[str, Query(pattern=MONTH, description="YYYY-MM")]
_DESCRIPTION = (
    "Per person and provider: decided hours in the month (hours per month, a frame's minimum and "
    "maximum, each decision by the days of the month it covers), hours delivered on visits, the "
    "difference, and measures ordered (expected times from the decided frequency, by the month's "
    "real days) against measures done (visits naming the code). `flags`: above the decision at any "
    "time; far below it (under half of the hours, or under the frame's minimum) once the month is over."
)


def _districts(principal: Principal, district: str | None) -> list[str] | None:
    if district is not None:
        if not principal.may_see_district(district):
            raise NotFound("No such district among yours.")
        return [district]
    return None if principal.all_districts else sorted(principal.districts)


@router.get(
    "/decided-vs-delivered",
    summary="Decided versus delivered per person and provider",
    description=_DESCRIPTION,
)
async def decided_vs_delivered(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    month: Month,
    provider_org: Annotated[str | None, Query(pattern=r"^\d{9}$")] = None,
    district: str | None = None,
) -> list[DecidedVsDelivered]:
    rows = await service.read_person_months(
        session,
        log_read,
        month,
        ctx.clock.today(),
        provider_org=provider_org,
        districts=_districts(principal, district),
        resource_id=f"{month}/{provider_org or '*'}/{district or '*'}",
    )
    return [DecidedVsDelivered.of(r) for r in rows]


@router.get(
    "/persons/{person_id}/decided-vs-delivered",
    summary="A person's decided versus delivered per provider",
    description=_DESCRIPTION,
)
async def person_decided_vs_delivered(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    month: Month,
) -> list[DecidedVsDelivered]:
    rows = await service.read_person_months(
        session,
        log_read,
        month,
        ctx.clock.today(),
        districts=_districts(principal, None),
        person_id=person_id,
        resource_id=f"{person_id}/{month}",
    )
    return [DecidedVsDelivered.of(r) for r in rows]
