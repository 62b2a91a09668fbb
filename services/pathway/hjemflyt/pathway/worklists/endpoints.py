"""Worklists per case officer, service lead, primary contact, team and district."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from hjemflyt.pathway.worklists import service
from hjemflyt.pathway.worklists.rules import Holder, ItemKind
from hjemflyt.pathway.worklists.schemas import Worklist
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.pagination import MAX_LIMIT

router = APIRouter(tags=["worklists"])


# Case officers and service leads (their districts), integrations and managers.
Reader = Annotated[Principal, Depends(requires(Scope.pathways_read))]


@router.get(
    "/v1/worklists/{holder}/{holder_id}",
    summary="What one case officer, service lead, primary contact, team or district must act on",
    description=(
        "Items of six kinds, by due date: `overdue_pathway` (open past its planned end), "
        "`reassessment_due` (a running decision at or past its evaluation date), "
        "`change_of_need_unanswered` (due 14 days after the report), `order_unacknowledged` "
        "(not accepted or rejected by the acknowledgement deadline, or escalated), `adjustment_logged` "
        "(a provider's adjustment inside a decision, for review), `delivery_flagged` "
        "(a month's delivery above the decision or far below it, as budget flagged it; until a "
        "decision of the person is made, changed or ended; due 14 days after the flag). "
        "Case officers and service leads see their districts only: another district is 404, "
        "other lists are filtered to their districts."
    ),
)
async def worklist(
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    holder: Holder,
    holder_id: Annotated[
        str, Path(min_length=1, max_length=100, description="Staff id, team code or district")
    ],
    kind: Annotated[list[ItemKind] | None, Query(description="Only items of these kinds")] = None,
    cursor: Annotated[str | None, Query(description="From the previous page's `next_cursor`")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Worklist:
    return await service.worklist(
        ctx, session, principal, holder, holder_id, kinds=set(kind or ()), cursor=cursor, limit=limit
    )
