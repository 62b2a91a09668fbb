"""Allocation of the year's frame among provider units: the budgeting date, tertials, the
buffer ledger, the change log and redistributions a manager approves or rejects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from hjemflyt.budget.allocations import rules, service
from hjemflyt.budget.allocations.models import Allocation, AllocationUnit, Redistribution
from hjemflyt.budget.allocations.schemas import (
    AllocationIn,
    AllocationOut,
    Approval,
    BufferEntryOut,
    BufferOut,
    ChangeOut,
    RedistributionOut,
    Rejection,
    TertialOut,
    UnitGrowth,
    UnitLine,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(prefix="/v1", tags=["allocations"])
Reader = Annotated[Principal, Depends(requires(Scope.budget_read))]
Writer = Annotated[Principal, Depends(requires(Scope.budget_write))]


def out(allocation: Allocation, lines: Sequence[AllocationUnit]) -> AllocationOut:
    units = [UnitLine.model_validate(line) for line in lines]
    units_ore = sum(u.amount_ore for u in units)
    return AllocationOut(
        id=allocation.id,
        year=allocation.year,
        budgeting_date=allocation.budgeting_date,
        rule_set_id=allocation.rule_set_id,
        tertial=allocation.tertial,
        version=allocation.version,
        frame_ore=allocation.frame_ore,
        units=units,
        units_ore=units_ore,
        general_ore=allocation.general_ore,
        buffer_ore=allocation.buffer_ore,
        total_ore=units_ore + allocation.general_ore + allocation.buffer_ore,
        shortfall_ore=allocation.shortfall_ore,
        deficit_ore=sum(u.unfunded_ore for u in units),
        created_at=allocation.created_at,
        created_by=allocation.created_by,
        updated_at=allocation.updated_at,
    )


async def _out(session: SessionDep, allocation: Allocation) -> AllocationOut:
    return out(allocation, await service.lines(session, allocation.id))


@router.post(
    "/allocations",
    status_code=status.HTTP_201_CREATED,
    summary="Allocate a year's frame among the units at the budgeting date",
)
async def create(
    body: AllocationIn, session: SessionDep, ctx: ContextDep, principal: Writer
) -> AllocationOut:
    allocation = await service.make(
        ctx,
        session,
        principal,
        year=body.year,
        budgeting_date=body.budgeting_date,
        frame_ore=body.frame_ore,
        rule_set_id=body.rule_set_id,
    )
    return await _out(session, allocation)


@router.get("/allocations", summary="Allocations, the latest year first")
async def list_(
    session: SessionDep, _: Reader, year: Annotated[int | None, Query()] = None
) -> list[AllocationOut]:
    return [out(a, lines) for a, lines in await service.list_with_lines(session, year)]


@router.get("/allocations/{allocation_id}", summary="One allocation: its lines as they stand")
async def get(allocation_id: uuid.UUID, session: SessionDep, _: Reader) -> AllocationOut:
    return await _out(session, await service.get(session, allocation_id))


@router.post(
    "/allocations/{allocation_id}/tertials/{tertial}",
    summary="Recompute at a tertial (2: 1 May, 3: 1 September): growth paid from the buffer",
)
async def recompute(
    allocation_id: uuid.UUID, tertial: int, session: SessionDep, ctx: ContextDep, principal: Writer
) -> TertialOut:
    result = await service.recompute(ctx, session, principal, allocation_id, tertial)
    r = result.recomputation
    return TertialOut(
        tertial=r.tertial,
        on=result.on,
        remaining_months=rules.remaining_months(r.tertial),
        focus_months=result.focus_months,
        growth=[
            UnitGrowth(
                provider_org=g.provider_org,
                need_before_ore=g.need_before_ore,
                need_after_ore=g.need_after_ore,
                levels_growth_ore=g.levels_growth_ore,
                focus_ore=g.focus_ore,
                paid_ore=g.paid_ore,
                unfunded_ore=g.unfunded_ore,
            )
            for g in r.growth.values()
        ],
        paid_from_buffer_ore=r.paid_ore,
        deficit_ore=r.deficit_ore,
        notes=result.notes,
        allocation=await _out(session, result.allocation),
    )


@router.get("/allocations/{allocation_id}/buffer", summary="The buffer's ledger and balance")
async def buffer(allocation_id: uuid.UUID, session: SessionDep, _: Reader) -> BufferOut:
    allocation, entries = await service.buffer(session, allocation_id)
    return BufferOut(
        allocation_id=allocation.id,
        balance_ore=allocation.buffer_ore,
        entries=[BufferEntryOut.model_validate(e) for e in entries],
    )


@router.get("/allocations/{allocation_id}/changes", summary="Every change to the allocation, with its reason")
async def changes(allocation_id: uuid.UUID, session: SessionDep, _: Reader) -> list[ChangeOut]:
    return [ChangeOut.model_validate(c) for c in await service.changes(session, allocation_id)]


def redistribution_out(found: Redistribution) -> RedistributionOut:
    return RedistributionOut.model_validate(found)


@router.post(
    "/allocations/{allocation_id}/redistributions",
    status_code=status.HTTP_201_CREATED,
    summary="Propose lowering the base amount to cover growth beyond the buffer",
)
async def propose(
    allocation_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: Writer
) -> RedistributionOut:
    return redistribution_out(await service.propose(ctx, session, principal, allocation_id))


@router.get("/allocations/{allocation_id}/redistributions", summary="The allocation's redistributions")
async def redistributions(
    allocation_id: uuid.UUID, session: SessionDep, _: Reader
) -> list[RedistributionOut]:
    return [redistribution_out(r) for r in await service.redistributions(session, allocation_id)]


@router.get("/redistributions/{redistribution_id}", summary="One redistribution")
async def get_redistribution(
    redistribution_id: uuid.UUID, session: SessionDep, _: Reader
) -> RedistributionOut:
    return redistribution_out(await service.get_redistribution(session, redistribution_id))


@router.post("/redistributions/{redistribution_id}/approval", summary="Approve: the money moves")
async def approve(
    redistribution_id: uuid.UUID,
    session: SessionDep,
    ctx: ContextDep,
    principal: Writer,
    body: Approval | None = None,
) -> RedistributionOut:
    note = body.note if body else None
    return redistribution_out(await service.approve(ctx, session, principal, redistribution_id, note))


@router.post("/redistributions/{redistribution_id}/rejection", summary="Reject, with a reason: nothing moves")
async def reject(
    redistribution_id: uuid.UUID, body: Rejection, session: SessionDep, ctx: ContextDep, principal: Writer
) -> RedistributionOut:
    return redistribution_out(await service.reject(ctx, session, principal, redistribution_id, body.reason))
