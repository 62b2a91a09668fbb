"""Monthly statements for private providers (hourly purchase, DOMAIN § 6): the contract owner
(manager) drafts and issues them, the provider reads its own issued ones line by line and
disputes lines; the manager answers. An issued statement never changes (409)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from hjemflyt.budget.settlements import service
from hjemflyt.budget.settlements.models import Dispute
from hjemflyt.budget.settlements.schemas import (
    MONTH,
    AnswerIn,
    BeyondApprovalIn,
    DisputeIn,
    DisputeOut,
    LineOut,
    SettlementIn,
    SettlementOut,
)
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Problem
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/settlements", tags=["settlements"])
Reader = Annotated[Principal, Depends(requires(Scope.settlements_read))]
Writer = Annotated[Principal, Depends(requires(Scope.settlements_write))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _dispute_out(d: Dispute, line_no: int) -> DisputeOut:
    return DisputeOut(
        id=d.id,
        settlement_id=d.settlement_id,
        line_no=line_no,
        provider_org=d.provider_org,
        reason=d.reason,
        expected_amount_ore=d.expected_amount_ore,
        status=d.status,
        created_at=d.created_at,
        answer=d.answer,
        adjustment_ore=d.adjustment_ore,
        answered_at=d.answered_at,
        adjusted_in=d.adjusted_in,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a private provider's statement for a month (manager)",
    responses={409: {"description": "There is a statement for that provider and month already"}},
)
async def create(
    body: SettlementIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> SettlementOut:
    return SettlementOut.model_validate(
        await service.draft(ctx, session, principal, body.provider_org, body.month)
    )


@router.get("", summary="Statements, newest month first (a provider: its own issued ones)")
async def list_(
    session: SessionDep,
    principal: Reader,
    provider_org: Annotated[str | None, Query(pattern=r"^\d{9}$")] = None,
    month: Annotated[str | None, Query(pattern=MONTH)] = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(draft|issued)$")] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> Page[SettlementOut]:
    after = None
    values = decode_cursor(cursor)
    if values is not None:
        try:
            after = (str(values["month"]), str(values["provider_org"]))
        except KeyError as exc:
            raise Problem(service.BAD_CURSOR, slug="invalid-cursor", status=400) from exc
    found = await service.list_settlements(
        session, principal, provider_org=provider_org, month=month, status=status_, limit=limit, after=after
    )
    next_cursor = None
    if len(found) == limit:
        next_cursor = encode_cursor({"month": found[-1].month, "provider_org": found[-1].provider_org})
    return Page[SettlementOut](
        items=[SettlementOut.model_validate(s) for s in found], next_cursor=next_cursor
    )


@router.get("/{settlement_id}", summary="A statement's totals")
async def get(settlement_id: uuid.UUID, session: SessionDep, principal: Reader) -> SettlementOut:
    return SettlementOut.model_validate(await service.get(session, principal, settlement_id))


@router.get("/{settlement_id}/lines", summary="A statement's lines, in order")
async def lines(
    settlement_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    limit: Limit = 500,
    cursor: str | None = None,
) -> Page[LineOut]:
    found = await service.lines(session, principal, settlement_id, log_read, limit=limit, cursor=cursor)
    next_cursor = encode_cursor({"line_no": found[-1].line_no}) if len(found) == limit else None
    return Page[LineOut](items=[LineOut.of(line) for line in found], next_cursor=next_cursor)


@router.post(
    "/{settlement_id}/calculation",
    summary="Recalculate a draft from the visits reported so far (manager)",
    responses={409: {"description": "The statement is issued"}},
)
async def recalculate(
    settlement_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Writer
) -> SettlementOut:
    return SettlementOut.model_validate(await service.recalculate(ctx, session, principal, settlement_id))


@router.delete(
    "/{settlement_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Discard a draft (manager)",
    responses={409: {"description": "The statement is issued"}},
)
async def discard(settlement_id: uuid.UUID, session: SessionDep, principal: Writer) -> Response:
    await service.discard(session, principal, settlement_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{settlement_id}/issue",
    summary="Issue the statement: it is final and the month closed for the provider (manager)",
    description="Recalculates from every visit reported so far, then freezes the lines. Visits "
    "reported for the month afterwards are corrections on the provider's next statement. "
    "Publishes `settlement.issued`.",
    responses={409: {"description": "Issued already, or the month is not over"}},
)
async def issue(
    settlement_id: uuid.UUID, ctx: ContextDep, session: SessionDep, principal: Writer
) -> SettlementOut:
    return SettlementOut.model_validate(await service.issue(ctx, session, principal, settlement_id))


@router.post(
    "/{settlement_id}/beyond-decision-approvals",
    summary="Pay a person's delivery beyond the decision on a draft (manager)",
    description="Visit lines' parts beyond what the person's decisions allow in the month are withheld "
    "(`beyond_decision_ore`, not in `amount_ore`). Approving pays them on this draft; the draft is "
    "recalculated. After issue the statement is final: the provider disputes a line instead.",
    responses={409: {"description": "The statement is issued"}, 422: {"description": "Nothing beyond"}},
)
async def approve_beyond(
    settlement_id: uuid.UUID, body: BeyondApprovalIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> SettlementOut:
    return SettlementOut.model_validate(
        await service.approve_beyond(ctx, session, principal, settlement_id, body.person_id, body.note)
    )


@router.post(
    "/{settlement_id}/disputes",
    status_code=status.HTTP_201_CREATED,
    summary="Dispute a line of your issued statement (provider)",
    responses={409: {"description": "The line has an open dispute"}},
)
async def dispute(
    settlement_id: uuid.UUID, body: DisputeIn, ctx: ContextDep, session: SessionDep, principal: Writer
) -> DisputeOut:
    return _dispute_out(*await service.dispute(ctx, session, principal, settlement_id, body))


@router.get("/{settlement_id}/disputes", summary="The disputes of a statement")
async def disputes(settlement_id: uuid.UUID, session: SessionDep, principal: Reader) -> list[DisputeOut]:
    return [_dispute_out(d, n) for d, n in await service.disputes(session, principal, settlement_id)]


@router.get("/{settlement_id}/disputes/{dispute_id}", summary="One dispute and its answer")
async def get_dispute(
    settlement_id: uuid.UUID, dispute_id: uuid.UUID, session: SessionDep, principal: Reader
) -> DisputeOut:
    return _dispute_out(*await service.get_dispute(session, principal, settlement_id, dispute_id))


@router.post(
    "/{settlement_id}/disputes/{dispute_id}/answer",
    summary="Accept or reject a dispute with an answer (manager)",
    description="An accepted dispute is an adjustment line on the provider's next statement.",
    responses={409: {"description": "Answered already"}},
)
async def answer(
    settlement_id: uuid.UUID,
    dispute_id: uuid.UUID,
    body: AnswerIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Writer,
) -> DisputeOut:
    return _dispute_out(*await service.answer(ctx, session, principal, settlement_id, dispute_id, body))
