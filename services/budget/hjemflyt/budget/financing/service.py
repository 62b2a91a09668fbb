"""Use cases for rule sets: save a version, adopt it, find the one in force."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.financing.defaults import DEFAULTS
from hjemflyt.budget.financing.models import RuleSet
from hjemflyt.budget.financing.repository import RuleSetRepository
from hjemflyt.budget.financing.rules import RuleSetBody
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound


async def save(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, key: str, body: RuleSetBody
) -> RuleSet:
    repo = RuleSetRepository(session)
    return await repo.add(
        RuleSet(
            id=uuid.uuid4(),
            key=key,
            version=await repo.next_version(key),
            name=body.name,
            valid_from=body.valid_from,
            body=body.model_dump(mode="json"),
            created_at=ctx.clock.now(),
            created_by=principal.subject,
        )
    )


async def save_default(ctx: ServiceContext, session: AsyncSession, principal: Principal, key: str) -> RuleSet:
    body = DEFAULTS.get(key)
    if body is None:
        raise NotFound(f"No default rule set {key!r}; there are {', '.join(sorted(DEFAULTS))}.")
    return await save(ctx, session, principal, key, body)


async def versions(session: AsyncSession, key: str | None) -> Sequence[RuleSet]:
    """Every version of every rule set (or of one `key`)."""
    return await RuleSetRepository(session).list(key)


async def get(session: AsyncSession, rule_set_id: uuid.UUID) -> RuleSet:
    found = await RuleSetRepository(session).get(rule_set_id)
    if found is None:
        raise NotFound("No such rule set.")
    return found


async def adopt(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, rule_set_id: uuid.UUID
) -> RuleSet:
    found = await RuleSetRepository(session).get(rule_set_id, for_update=True)
    if found is None:
        raise NotFound("No such rule set.")
    if found.adopted_at is not None:
        raise Conflict("This rule set version is adopted already.", slug="already-adopted")
    found.adopted_at = ctx.clock.now()
    found.adopted_by = principal.subject
    await session.flush()
    return found


async def in_force(session: AsyncSession, on: date) -> tuple[RuleSet, RuleSetBody]:
    """The rule set in force on a date, parsed; 409 if none is adopted for that date."""
    found = await RuleSetRepository(session).in_force(on)
    if found is None:
        raise Conflict(f"No rule set is adopted for {on.isoformat()}.", slug="no-rule-set-in-force")
    return found, RuleSetBody.model_validate(found.body)
