"""What a case officer does with pathways over the API and reads of them, each logged for
the person (purpose "pathway follow-up"); the rules of opening, closing and correcting are
the use cases in `service`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.pathways.models import (
    Pathway,
    PathwayCorrection,
    PathwayTask,
)
from hjemflyt.pathway.pathways.repository import PathwayRepository
from hjemflyt.pathway.pathways.rules import Kind, Outcome, Source
from hjemflyt.pathway.pathways.schemas import CorrectionIn, PathwayOpenIn
from hjemflyt.pathway.pathways.service import PathwayOpen, close_pathway, correct_date, open_pathway
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Forbidden, NotFound, RuleViolation

PURPOSE = "pathway follow-up"


async def _log(
    log_read: LoggedRead, action: Action, pathways: Sequence[Pathway], resource_id: str | None = None
) -> None:
    await replace(log_read, purpose=PURPOSE)(
        "pathways", sorted({p.person_id for p in pathways}), resource_id=resource_id, action=action
    )


async def _visible(
    session: AsyncSession, principal: Principal, pathway_id: uuid.UUID, *, lock: bool = False
) -> Pathway:
    found = await PathwayRepository(session).get(principal, pathway_id, lock=lock)
    if found is None:
        raise NotFound("No such pathway.")
    return found


async def open_by_hand(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    body: PathwayOpenIn,
    log_read: LoggedRead,
) -> Pathway:
    """Open a pathway by hand in one of the principal's districts (409 if one of the kind is
    open), from the named referral or the person's latest."""
    if not principal.may_see_district(body.district):
        raise Forbidden("You do not work in that district.")
    repo = PathwayRepository(session)
    if body.referral_id is not None:
        referral = await repo.referral(body.referral_id)
        if referral is None or referral.person_id != body.person_id:
            raise RuleViolation("No such referral for this person.", slug="pathway-referral")
    else:
        referral = await repo.latest_referral(body.person_id)
    if await repo.open_of_kind(body.person_id, body.kind) is not None:
        raise PathwayOpen(f"The person has an open pathway {int(body.kind)} already.")
    pathway = await open_pathway(
        ctx,
        session,
        person_id=body.person_id,
        district=body.district,
        kind=Kind(body.kind),
        opened_on=body.opened_on or ctx.clock.today(),
        source=Source.manual,
        referral=referral,
        responsible=body.responsible or principal.name or principal.subject,
    )
    if pathway is None:  # opened by an event at the same moment
        raise PathwayOpen(f"The person has an open pathway {int(body.kind)} already.")
    await _log(log_read, Action.create, [pathway], str(pathway.id))
    return pathway


async def close_by_hand(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    pathway_id: uuid.UUID,
    outcome: Outcome,
    log_read: LoggedRead,
) -> Pathway:
    pathway = await _visible(session, principal, pathway_id, lock=True)
    await close_pathway(ctx, session, pathway, outcome, principal.subject)
    await _log(log_read, Action.update, [pathway], str(pathway.id))
    return pathway


async def correct(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    pathway_id: uuid.UUID,
    body: CorrectionIn,
    log_read: LoggedRead,
) -> PathwayCorrection:
    pathway = await _visible(session, principal, pathway_id, lock=True)
    row = await correct_date(ctx, session, principal, pathway, body.field, body.new_value, body.reason)
    await _log(log_read, Action.update, [pathway], str(pathway.id))
    return row


async def page(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    district: str | None,
    status: str | None,
    kind: int | None,
    person_id: uuid.UUID | None,
    overdue_on: date | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> tuple[Sequence[Pathway], bool]:
    """Pathways in the districts the principal sees; and whether more follow."""
    found = await PathwayRepository(session).list(
        principal,
        district=district,
        status=status,
        kind=kind,
        person_id=person_id,
        overdue_on=overdue_on,
        after=after,
        limit=limit + 1,
    )
    items, more = found[:limit], len(found) > limit
    await _log(log_read, Action.read, items)
    return items, more


async def get_with_corrections(
    session: AsyncSession, principal: Principal, pathway_id: uuid.UUID, log_read: LoggedRead
) -> tuple[Pathway, Sequence[PathwayCorrection]]:
    pathway = await _visible(session, principal, pathway_id)
    corrections = await PathwayRepository(session).corrections(pathway.id)
    await _log(log_read, Action.read, [pathway], str(pathway.id))
    return pathway, corrections


async def tasks(
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    district: str | None,
    open_only: bool,
    kind: str | None,
    pathway_id: uuid.UUID | None,
    limit: int,
) -> Sequence[PathwayTask]:
    """Deadline tasks in the districts the principal sees."""
    found = await PathwayRepository(session).tasks(
        principal, district=district, open_only=open_only, kind=kind, pathway_id=pathway_id, limit=limit
    )
    await replace(log_read, purpose=PURPOSE)("pathway-tasks", sorted({t.person_id for t in found}))
    return found
