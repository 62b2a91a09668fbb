"""Visit reports in idempotent batches (provider token), and an order's visits.

Register with the service: `router` in the routers and `BODY_LIMITS` in the spec's
`body_limits` (a full batch is far larger than the platform's default body limit).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from hjemflyt.notifications.visits import service
from hjemflyt.notifications.visits.schemas import (
    BATCH_ID_PATTERN,
    MAX_BODY_BYTES,
    MAX_VISITS,
    VisitBatchIn,
    VisitBatchReceipt,
    VisitOut,
)
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.bodies import json_request_body, read_limited
from hjemflyt.shared.platform.deps import ContextDep, LoggedReadDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Forbidden
from hjemflyt.shared.platform.pagination import MAX_LIMIT, Page

PATH = "/v1/visit-batches/{batch_id}"
BODY_LIMITS = {PATH: MAX_BODY_BYTES}

router = APIRouter(tags=["visits"])
Writer = Annotated[Principal, Depends(requires(Scope.orders_write))]
Reader = Annotated[Principal, Depends(requires(Scope.orders_read))]
BatchId = Annotated[
    str, Path(pattern=BATCH_ID_PATTERN, description="Your id of the batch (1-100 of A-Z a-z 0-9 . _ : -)")
]


def _provider(principal: Principal) -> str:
    if principal.role != Role.provider or not principal.provider_org:
        raise Forbidden("Visit batches are a provider's; use a provider token.")
    return principal.provider_org


@router.put(
    PATH,
    status_code=201,
    response_model=VisitBatchReceipt,
    summary="Report visits in an idempotent batch (provider token)",
    description=(
        f"Up to {MAX_VISITS:,} visits, each with your own `visit_id` (unique in your organisation), the "
        "order, planned and actual times, the pseudonymous staff id, the measures done, and for a "
        "cancelled visit its cause. The batch is stored whole or not at all: malformed visits and "
        "broken rules answer 422 naming the rows by index (`rows`, at most 100 named, `rows_total`); "
        "visits for orders you do not have answer 404 naming the rows; a visit id reported in another "
        "batch answers 409 naming it. Sending the same batch id with the same visits again answers "
        "200 with the original receipt and stores nothing; other visits under a used batch id answer "
        "409. Publishes `visits.reported` (at most 1,000 visits per event)."
    ),
    openapi_extra=json_request_body(VisitBatchIn),
    responses={
        200: {"description": "This batch was stored before: its receipt", "model": VisitBatchReceipt},
        404: {"description": "Visits for orders you do not have (rows named)"},
        409: {"description": "Batch id used for other visits, or visit ids reported before"},
        413: {"description": "More than 100,000 visits or 64 MiB"},
        422: {"description": "Malformed visits or broken rules (rows named by index)"},
    },
)
async def put_batch(
    batch_id: BatchId, request: Request, ctx: ContextDep, session: SessionDep, principal: Writer
) -> JSONResponse:
    _provider(principal)
    data = await read_limited(request, MAX_BODY_BYTES)
    try:
        receipt = await service.ingest(ctx, session, principal, batch_id, data)
    except service.BatchReplayed as replay:
        return JSONResponse(replay.receipt.model_dump(mode="json"), status_code=200)
    return JSONResponse(
        receipt.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/visit-batches/{batch_id}"},
    )


@router.get(PATH, summary="The receipt of one of your visit batches (provider token)")
async def get_batch(batch_id: BatchId, session: SessionDep, principal: Reader) -> VisitBatchReceipt:
    return await service.receipt(session, _provider(principal), batch_id)


@router.get(
    "/v1/orders/{order_id}/visits",
    summary="The visits reported for an order, by planned start (the provider; the case office)",
)
async def order_visits(
    order_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    log_read: LoggedReadDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> Page[VisitOut]:
    return await service.order_visits(session, principal, order_id, log_read, limit=limit, cursor=cursor)
