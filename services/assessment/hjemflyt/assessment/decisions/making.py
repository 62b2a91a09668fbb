"""Drafting and making a decision, and sending its letter.

`create` drafts, and with `make` makes in the same request; `make` makes a stored draft.
Both build with `builder` (the draft, `mark_made`, `made_events`) and differ only in how
they write: `create` in one statement (`DecisionRepository.write_new`, the hot path), `make`
through the ORM. Making ends what the decision replaces (`_after_made`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.db import SCHEMA
from hjemflyt.assessment.decisions import builder, rules
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.lifecycle import record_end
from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.recording import (
    PURPOSE,
    age_band,
    broken_rules,
    case_office_of,
    load,
    load_to_move,
    record,
    refusal,
)
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.rules import Status
from hjemflyt.assessment.decisions.schemas import DecisionIn, DecisionOut
from hjemflyt.assessment.decisions.views import snapshot, to_out
from hjemflyt.assessment.messaging import service as messaging
from hjemflyt.assessment.persons import service as persons
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound
from hjemflyt.shared.platform.outbox import notify_channel


async def create(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: DecisionIn
) -> DecisionOut:
    """Draft a decision, and with `make` make it in the same transaction.

    The hot path of a case system: one read (person, district, configuration version), one
    for the providers, then the decision built in memory, checked, and written in its final
    state with both version rows (created, made), the access-log rows and the events in one
    statement. What it stores is what drafting and then making the draft stores.
    """
    repo = DecisionRepository(session)
    found = await repo.person_with_district(principal, body.person_id)
    if found is None:
        raise NotFound("No such person.")
    person_row, district, token, has_assignment = found
    log = ctx.access_log
    access = [
        log.entry(
            principal,
            action=Action.read,
            resource="person",
            person_id=person_row.id,
            purpose="drafting a decision",
            resource_id=str(person_row.id),
        )
    ]
    catalogue = await Catalogue.load(ctx, session, token=token)
    decision = builder.draft(
        body,
        catalogue,
        person_id=person_row.id,
        district=person_row.district,
        organisation_model=district.organisation_model if district else None,
        by=principal.subject,
        now=ctx.clock.now(),
        application_id=body.application_id,
        assessment_id=body.assessment_id,
        supersedes_id=body.supersedes_id,
    )
    if body.supersedes_id is not None:
        old = await load(session, principal, body.supersedes_id)
        if old.person_id != person_row.id or Status(old.status) not in rules.RUNNING:
            raise Conflict(
                "Only a running decision of the same person can be superseded.", slug="cannot-supersede"
            )
    created = to_out(decision, catalogue)
    created_snapshot = snapshot(created)
    versions = [_version_row(ctx, principal, created, "created", [], created_snapshot)]
    access.append(_decision_access(ctx, principal, decision, Action.create))
    if not body.make:
        await repo.write_new(decision, versions, access, [], notify_channel(SCHEMA))
        return created

    # Made as `make` makes a stored draft; only the writing differs (one statement here).
    case_office = district.case_office if district else None
    now = await _mark_made(ctx, session, principal, decision, catalogue, case_office)
    out = to_out(decision, catalogue)
    after = snapshot(out)
    versions.append(_version_row(ctx, principal, out, "made", rules.changes(created_snapshot, after), after))
    access.append(_decision_access(ctx, principal, decision, Action.update))
    person = persons.to_out(person_row, ctx.cipher)
    _, outbox_rows = ctx.outbox.rows(_made_events(ctx, out, person, case_office))
    await repo.write_new(decision, versions, access, outbox_rows, notify_channel(SCHEMA))
    await _after_made(ctx, session, principal, decision, now, assignments_possible=has_assignment)
    return out


async def _mark_made(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision: Decision,
    catalogue: Catalogue,
    case_office: str | None,
) -> datetime:
    """Make a draft in memory, refused if it is not complete; returns when it was made."""
    violations = await broken_rules(session, decision, catalogue)
    if violations:
        raise refusal(violations)
    now = ctx.clock.now()
    builder.mark_made(
        decision, catalogue, by=principal.subject, now=now, today=ctx.clock.today(), case_office=case_office
    )
    return now


def _made_events(
    ctx: ServiceContext, out: DecisionOut, person: PersonOut, case_office: str | None
) -> list[builder.Event]:
    return builder.made_events(
        out,
        builder.recipient(person),
        age_band(ctx, person, out),
        case_office=case_office,
        issued_at=ctx.clock.now(),
    )


def _version_row(
    ctx: ServiceContext,
    principal: Principal,
    out: DecisionOut,
    action: str,
    changes: list[dict[str, Any]],
    after: dict[str, Any],
) -> dict[str, Any]:
    return builder.version_row(out, action, changes, after, by=principal.subject, at=ctx.clock.now())


def _decision_access(
    ctx: ServiceContext, principal: Principal, decision: Decision, action: Action
) -> dict[str, Any]:
    return ctx.access_log.entry(
        principal,
        action=action,
        resource="decision",
        person_id=decision.person_id,
        purpose=PURPOSE,
        resource_id=str(decision.id),
    )


async def make(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    if_match: str | None,
    *,
    person: PersonOut | None = None,
) -> DecisionOut:
    decision = await load_to_move(session, principal, decision_id, Status.made, if_match)
    catalogue = await Catalogue.load(ctx, session)
    before_out = to_out(decision, catalogue)
    case_office = await case_office_of(session, before_out)
    now = await _mark_made(ctx, session, principal, decision, catalogue, case_office)
    await session.flush()
    out = await record(ctx, session, principal, decision, catalogue, "made", snapshot(before_out))
    if person is None:
        person = await persons.get(ctx, session, principal, decision.person_id, purpose="issuing an order")
    await ctx.outbox.add_many(session, _made_events(ctx, out, person, case_office))
    await _after_made(ctx, session, principal, decision, now)
    return out


async def _after_made(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision: Decision,
    now: datetime,
    *,
    assignments_possible: bool = True,
) -> None:
    """What making a decision ends or completes: the assignments and the decision it
    supersedes, its application. `assignments_possible=False`: the caller knows the person
    has no issued assignment."""
    from hjemflyt.assessment.assignments import service as assignments  # (imports this module)

    if assignments_possible:
        await assignments.end_superseded(ctx, session, principal, decision)
    if decision.supersedes_id is not None:
        # The old decision runs until the day before the new one starts.
        assert decision.start_date is not None
        last_day = decision.start_date - timedelta(days=1)
        await record_end(
            ctx, session, principal, decision.supersedes_id, last_day, "superseded", superseded_by=decision.id
        )
    if decision.application_id is not None:
        from hjemflyt.assessment.referrals import service as referrals

        await referrals.mark_decided(session, decision.application_id, now, person_id=decision.person_id)


async def send(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    if_match: str | None,
) -> DecisionOut:
    """The letter went out: the appeal deadline runs from today."""
    decision = await load_to_move(session, principal, decision_id, Status.sent, if_match)
    catalogue = await Catalogue.load(ctx, session)
    before = snapshot(to_out(decision, catalogue))
    weeks = catalogue.municipality.appeal_weeks if catalogue.municipality else 4
    decision.status = Status.sent.value
    decision.sent_at = ctx.clock.now()
    decision.appeal_deadline = ctx.clock.today() + timedelta(weeks=weeks)
    decision.version += 1
    decision.updated_at = decision.sent_at
    await session.flush()
    out = await record(ctx, session, principal, decision, catalogue, "sent", before)
    # Orientering om tjenestetilbud to the person's GP, stored for sending in this transaction.
    await messaging.decision_sent(ctx, session, principal, out)
    return out
