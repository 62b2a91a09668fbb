"""Documents on a person from incoming PLO messages: the list and one document (readable
text, or the original message). Hospital and GP documents are health data: persons:read
(case officers and service leads in their districts; never providers), access-logged."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from hjemflyt.assessment.documents import service
from hjemflyt.assessment.documents.schemas import DocumentOut, DocumentSummary
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.negotiation import preferred

router = APIRouter(tags=["documents"])

Reader = Annotated[Principal, Depends(requires(Scope.persons_read))]
Purpose = Annotated[
    str,
    Header(
        alias="Hjemflyt-Purpose", max_length=200, description="Why the data is read; kept in the access log"
    ),
]
XML = "application/xml"
JSON = "application/json"


@router.get(
    "/v1/persons/{person_id}/documents",
    summary="The person's documents from hospitals and GPs, newest first (access-logged)",
    description="Without their content. Replaced versions only with `versions=all`.",
    responses={404: {"description": "No such person, or not in your districts"}},
)
async def list_documents(
    person_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    versions: Literal["latest", "all"] = "latest",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    purpose: Purpose = service.PURPOSE,
) -> list[DocumentSummary]:
    return await service.list_for_person(
        ctx, session, principal, person_id, all_versions=versions == "all", limit=limit, purpose=purpose
    )


@router.get(
    "/v1/documents/{document_id}",
    response_model=DocumentOut,
    summary="One document: its sections as text (access-logged)",
    description="`?format=xml` or `Accept: application/xml` answers with the original message.",
    responses={
        200: {"content": {XML: {}}},
        404: {"description": "No such document, or not in your districts"},
    },
)
async def get_document(
    document_id: uuid.UUID,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    format: Literal["json", "xml"] | None = None,
    accept: Annotated[str | None, Header()] = None,
    purpose: Purpose = service.PURPOSE,
) -> DocumentOut | Response:
    wants_xml = format == "xml" or (
        format is None and preferred(accept, (JSON, XML, "text/xml")) in (XML, "text/xml")
    )
    if wants_xml:
        body = await service.original(ctx, session, principal, document_id, purpose)
        return Response(content=body, media_type=XML)
    return await service.get(ctx, session, principal, document_id, purpose)
