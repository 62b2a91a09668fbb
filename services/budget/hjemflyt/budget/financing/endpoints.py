"""Financing rule sets: versions saved as data, adopted by management, shipped defaults."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from hjemflyt.budget.financing import rules, service
from hjemflyt.budget.financing.models import RuleSet
from hjemflyt.budget.financing.rules import RuleSetBody
from hjemflyt.budget.financing.schemas import Cliff, RuleSetIn, RuleSetOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(prefix="/v1/rule-sets", tags=["rule sets"])
Reader = Annotated[Principal, Depends(requires(Scope.budget_read))]
Writer = Annotated[Principal, Depends(requires(Scope.budget_write))]


def out(found: RuleSet) -> RuleSetOut:
    body = RuleSetBody.model_validate(found.body)
    levels = body.levels()
    result = RuleSetOut.model_validate(found, from_attributes=True)
    if levels is not None:
        result.annual_ore_per_level = {b.level: rules.annual_ore(levels, b) for b in levels.bands}
        result.cliffs = [
            Cliff(from_level=a, to_level=b, step_ore=step, step_percent=None if pct is None else str(pct))
            for a, b, step, pct in rules.cliffs(levels)
        ]
    return result


@router.post("", status_code=status.HTTP_201_CREATED, summary="Save a new version of a rule set")
async def create(body: RuleSetIn, session: SessionDep, ctx: ContextDep, principal: Writer) -> RuleSetOut:
    rule_set = RuleSetBody.model_validate(body.model_dump(exclude={"key"}))
    return out(await service.save(ctx, session, principal, body.key, rule_set))


@router.post(
    "/defaults/{key}",
    status_code=status.HTTP_201_CREATED,
    summary="Save a shipped default (stavanger-2022, purchaser-provider) as a new version",
)
async def create_default(key: str, session: SessionDep, ctx: ContextDep, principal: Writer) -> RuleSetOut:
    return out(await service.save_default(ctx, session, principal, key))


@router.get("", summary="Every version of every rule set")
async def list_(session: SessionDep, _: Reader, key: str | None = None) -> list[RuleSetOut]:
    return [out(r) for r in await service.versions(session, key)]


@router.get("/in-force", summary="The adopted rule set in force on a date")
async def in_force(session: SessionDep, _: Reader, on: Annotated[date, Query()]) -> RuleSetOut:
    found, _body = await service.in_force(session, on)
    return out(found)


@router.get("/{rule_set_id}", summary="One version of a rule set")
async def get(rule_set_id: uuid.UUID, session: SessionDep, _: Reader) -> RuleSetOut:
    return out(await service.get(session, rule_set_id))


@router.post("/{rule_set_id}/adoption", summary="Adopt a version: it is in force from its valid_from")
async def adopt(
    rule_set_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: Writer
) -> RuleSetOut:
    return out(await service.adopt(ctx, session, principal, rule_set_id))
