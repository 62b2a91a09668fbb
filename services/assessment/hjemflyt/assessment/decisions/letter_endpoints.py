"""The decision letter: GET /v1/decisions/{id}/letter as HTML (the default) or PDF, chosen by
the Accept header; anything else answers 406. Reading it is access-logged with the purpose
"decision letter"; a draft has no letter (409); another district's decision is 404."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hjemflyt.assessment.decisions import letter
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Problem
from hjemflyt.shared.platform.negotiation import preferred

router = APIRouter(tags=["decisions"])

Reader = Annotated[Principal, Depends(requires(Scope.decisions_read))]

HTML = "text/html"
PDF = "application/pdf"
OFFERED = (HTML, PDF)  # in order of preference when the client does not mind

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The letter",
        "content": {
            HTML: {"schema": {"type": "string"}},
            PDF: {"schema": {"type": "string", "format": "binary"}},
        },
    },
    404: {"description": "No such decision, or not in your districts"},
    406: {"description": "Accept names neither text/html nor application/pdf"},
    409: {"description": "`decision-not-made`: a draft has no letter"},
}


class NotAcceptable(Problem):
    status, slug, title = 406, "not-acceptable", "Not acceptable"


def negotiate(accept: str | None) -> str:
    """The offered media type the client prefers (platform `negotiation`); HTML when the
    client does not say, 406 when it accepts neither."""
    chosen = preferred(accept, OFFERED)
    if chosen is None:
        raise NotAcceptable(
            "The letter is available as text/html or application/pdf.", available=list(OFFERED)
        )
    return chosen


@router.get(
    "/v1/decisions/{decision_id}/letter",
    response_class=Response,
    responses=RESPONSES,
    summary="The decision letter (vedtaksbrev) in bokmål, as HTML or PDF",
    description="Choose with `Accept: text/html` (default) or `Accept: application/pdf`. Only a made "
    'decision has a letter. Reading it is access-logged with the purpose "decision letter".',
)
async def get_letter(
    decision_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    media_type = negotiate(accept)
    content = await letter.load(ctx, session, principal, decision_id)
    headers = {"Vary": "Accept", "Cache-Control": "no-store", "Content-Language": "nb"}
    if media_type == PDF:
        headers["Content-Disposition"] = f'inline; filename="vedtak-{decision_id}.pdf"'
        # Laying out a PDF is CPU work: keep it off the event loop.
        body = await run_in_threadpool(letter.render_pdf, content, created_at=ctx.clock.now())
        return Response(body, media_type=PDF, headers=headers)
    return Response(letter.render_html(content), media_type=HTML, headers=headers)
