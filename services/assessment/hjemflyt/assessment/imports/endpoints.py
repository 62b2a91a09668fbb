"""POST /v1/imports/persons: a case system's persons with their active decisions, in batches.

Register with the service: `router` in the routers and `BODY_LIMITS` as the spec's
`body_limits` (a full batch is larger than the platform's default body limit).
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from hjemflyt.assessment.imports import service
from hjemflyt.assessment.imports.schemas import MAX_BODY_BYTES, MAX_ITEMS, ImportBatchIn, ImportResult
from hjemflyt.shared.platform.auth import Principal, Role, Scope
from hjemflyt.shared.platform.bodies import json_request_body, read_limited
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires
from hjemflyt.shared.platform.errors import Forbidden, Problem

PATH = "/v1/imports/persons"
BODY_LIMITS = {PATH: MAX_BODY_BYTES}

router = APIRouter(tags=["imports"])

Importer = Annotated[Principal, Depends(requires(Scope.persons_write, Scope.decisions_write))]


_REQUEST_BODY = json_request_body(ImportBatchIn)


async def _items(request: Request) -> list[Any]:
    """The batch's items, read within the route's body limit even without a Content-Length:
    validated models if the whole batch is valid (one pass over the JSON, in Rust), else the
    raw items, for the service to validate one by one."""
    data = await read_limited(request, MAX_BODY_BYTES)
    try:
        # Strict: what the schema states (no `0` for a date, no `"1"` for a number), as the
        # platform holds every other JSON body to (platform.app._guard_inputs).
        return list(ImportBatchIn.model_validate_json(data, strict=True).items)
    except ValidationError:
        pass  # some item is malformed (or the batch is): look closer
    try:
        body = pydantic_core.from_json(data)
    except ValueError as exc:
        raise Problem(
            "The body is not JSON.", status=422, slug="validation-error", title="Invalid request"
        ) from exc
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or set(body) != {"items"}:
        raise Problem(
            "The body is an object with one member, `items`: a list of persons.",
            status=422,
            slug="validation-error",
            title="Invalid request",
        )
    if len(items) > MAX_ITEMS:
        raise Problem(
            f"A batch holds at most {MAX_ITEMS} items; this one has {len(items)}. Split it.",
            status=413,
            slug="batch-too-large",
            title="Payload too large",
            max_items=MAX_ITEMS,
        )
    return items


@router.post(
    PATH,
    response_model=ImportResult,
    summary="Import persons with their active decisions from a case system (idempotent upsert)",
    description=(
        f"Up to {MAX_ITEMS} persons per request, each with the decisions that are active in the case "
        "system. Persons and decisions are matched by (`source_system`, `external_id`): new ones are "
        "created, changed ones updated (a changed decision becomes an amendment with `decision.amended`), "
        "and unchanged ones left alone, so a batch can be sent again safely and without side effects. "
        "Imported decisions are active, keep their `decision_date`, and publish `decision.made` and an "
        "order per chosen provider.\n\n"
        "Each item stands alone: an item that breaks a rule (schema, identity number, district, "
        "service catalogue, providers, the completeness rules of decisions) is answered as `rejected` "
        "with problem details naming every broken rule, and nothing of it is stored; the other items "
        "are stored. The answer lists every item, in order, as created, updated, unchanged or rejected. "
        "Integration accounts only (scopes persons:write and decisions:write)."
    ),
    openapi_extra=_REQUEST_BODY,
    responses={
        413: {"description": "More than the allowed items or bytes; split the batch (problem+json)"},
        409: {"description": "A concurrent change; nothing was stored, send the batch again"},
        422: {"description": "The body is not an object with a list of items (problem+json)"},
    },
)
async def import_persons(
    request: Request, ctx: ContextDep, session: SessionDep, principal: Importer
) -> Response:
    if principal.role != Role.integration:
        raise Forbidden("Only a case system's integration account may import.", slug="integration-only")
    result = await service.import_persons(ctx, session, principal, await _items(request))
    return Response(result.model_dump_json(), media_type="application/json")
