"""Named responsibility: set by the case system, read with what providers named, gaps listed."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.responsibility import rules
from hjemflyt.pathway.responsibility.repository import ResponsibilityRepository
from hjemflyt.pathway.responsibility.schemas import (
    GapOut,
    GapPage,
    ProviderContact,
    ResponsibilityIn,
    ResponsibilityOut,
)
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound, Problem
from hjemflyt.shared.platform.pagination import decode_cursor, encode_cursor

PURPOSE = "case handling"


async def _out(
    ctx: ServiceContext, repo: ResponsibilityRepository, person_id: uuid.UUID
) -> ResponsibilityOut:
    row = await repo.get(person_id)
    contacts = await repo.provider_contacts(person_id)
    active = await repo.has_active_decision(person_id, ctx.clock.today())
    service_lead = row.service_lead if row else None
    primary = row.primary_contact if row else None
    missing = rules.gaps(service_lead=service_lead, primary_contacts=len(contacts) + (1 if primary else 0))
    return ResponsibilityOut(
        person_id=person_id,
        service_lead=service_lead,
        primary_contact=primary,
        case_officer=row.case_officer if row else None,
        team=row.team if row else None,
        provider_contacts=[ProviderContact.model_validate(c) for c in contacts],
        active_decision=active,
        gaps=missing if active else [],
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


async def put(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    body: ResponsibilityIn,
) -> ResponsibilityOut:
    repo = ResponsibilityRepository(session)
    if not await repo.may_see(principal, person_id):
        raise NotFound("No such person in your districts.")
    await repo.put(
        {
            "person_id": person_id,
            **body.model_dump(),
            "updated_at": ctx.clock.now(),
            "updated_by": principal.subject,
        }
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.update,
        resource="responsibility",
        person_ids=[person_id],
        purpose=PURPOSE,
    )
    return await _out(ctx, repo, person_id)


async def get(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> ResponsibilityOut:
    repo = ResponsibilityRepository(session)
    if not await repo.may_see(principal, person_id):
        raise NotFound("No such person in your districts.")
    out = await _out(ctx, repo, person_id)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="responsibility",
        person_ids=[person_id],
        purpose=PURPOSE,
    )
    return out


async def gaps(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    *,
    district: str | None,
    cursor: str | None,
    limit: int,
) -> GapPage:
    if district is not None and not principal.may_see_district(district):
        raise NotFound("No such district among yours.")
    position = decode_cursor(cursor)
    after = None
    if position is not None:
        try:
            after = (str(position["district"]), uuid.UUID(position["person_id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor") from exc
    rows = await ResponsibilityRepository(session).gaps(
        principal, today=ctx.clock.today(), district=district, after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    items = [
        GapOut(
            person_id=r.person_id,
            district=r.district,
            missing=rules.gaps(
                service_lead=r.service_lead,
                primary_contacts=r.provider_contacts + (1 if r.primary_contact else 0),
            ),
            service_lead=r.service_lead,
            primary_contact=r.primary_contact,
            provider_contacts=r.provider_contacts,
        )
        for r in page
    ]
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="responsibility-gaps",
        person_ids=[i.person_id for i in items],
        purpose=PURPOSE,
    )
    last = items[-1] if more else None
    return GapPage(
        items=items,
        next_cursor=encode_cursor({"district": last.district, "person_id": str(last.person_id)})
        if last
        else None,
    )
