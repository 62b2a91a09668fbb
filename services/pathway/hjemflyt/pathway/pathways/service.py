"""Use cases of pathways: templates, opening, closing, corrections, decisions arriving and
the deadline sweep. Flushes, never commits (the request or the message is the unit of work).
What a case officer does over the API (and its access logging) is in `casework`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.pathways import rules
from hjemflyt.pathway.pathways.models import (
    Pathway,
    PathwayCorrection,
    PathwayReferral,
    PathwayTemplate,
)
from hjemflyt.pathway.pathways.repository import PathwayRepository
from hjemflyt.pathway.pathways.rules import DateField, Kind, Outcome, Source, Status, TaskKind, Template
from hjemflyt.shared.contracts.pathway import (
    PATHWAY_CLOSED,
    PATHWAY_OPENED,
    PATHWAY_TASK_OPENED,
    PathwayClosed,
    PathwayOpened,
    PathwayTaskOpened,
)
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, RuleViolation

SWEEP_BATCH = 100


class PathwayOpen(Conflict):
    slug, title = "pathway-open", "The person already has an open pathway of this kind"


class PathwayClosedAlready(Conflict):
    slug, title = "pathway-closed", "The pathway is closed"


class BadDate(RuleViolation):
    slug, title = "pathway-date", "The date breaks a pathway rule"


# --- templates -------------------------------------------------------------------


def template_of(row: PathwayTemplate) -> Template:
    return Template(
        kind=Kind(row.kind),
        name=row.name,
        max_days=row.max_days,
        max_months=row.max_months,
        decision_rule=rules.DecisionRule(row.decision_rule),
        decision_after_days=row.decision_after_days,
        start_checklist=list(row.start_checklist),
        end_checklist=list(row.end_checklist),
    )


async def templates_in_force(session: AsyncSession) -> dict[Kind, tuple[int, Template]]:
    """Each kind's template in force and its version; version 0 is the built-in default
    (Stavanger's model) of a kind the municipality never changed."""
    out: dict[Kind, tuple[int, Template]] = {t.kind: (0, t) for t in rules.DEFAULT_TEMPLATES}
    for row in await PathwayRepository(session).templates():
        out[Kind(row.kind)] = (row.version, template_of(row))
    return out


async def save_template(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, template: Template
) -> int:
    """A new version of the kind's template; pathways already open keep theirs."""
    try:
        rules.check_template(template)
    except rules.TemplateError as exc:
        raise RuleViolation(str(exc), slug="pathway-template") from exc
    repo = PathwayRepository(session)
    version = await repo.template_version(template.kind) + 1
    await repo.add_template(
        {
            "kind": int(template.kind),
            "version": version,
            "name": template.name,
            "max_days": template.max_days,
            "max_months": template.max_months,
            "decision_rule": template.decision_rule.value,
            "decision_after_days": template.decision_after_days,
            "start_checklist": template.start_checklist,
            "end_checklist": template.end_checklist,
            "changed_at": ctx.clock.now(),
            "changed_by": principal.subject,
        }
    )
    return version


# --- opening and closing ---------------------------------------------------------


async def open_pathway(
    ctx: ServiceContext,
    session: AsyncSession,
    *,
    person_id: uuid.UUID,
    district: str,
    kind: Kind,
    opened_on: date,
    source: Source,
    source_ref: uuid.UUID | None = None,
    referral: PathwayReferral | None = None,
    responsible: str | None = None,
) -> Pathway | None:
    """Open a pathway by the template in force. None when the person has one of that kind
    open or the same fact (source, source_ref) opened one before. Raises BadDate for a date
    in the future or before the referral."""
    try:
        rules.check_opening(opened_on, ctx.clock.today(), referral.received_on if referral else None)
    except rules.DateError as exc:
        raise BadDate(str(exc)) from exc
    version, template = (await templates_in_force(session))[kind]
    repo = PathwayRepository(session)
    now = ctx.clock.now()
    due = rules.decision_due(template, opened_on)
    # A decision whose event overtook the one opening the pathway counts all the same.
    covered = due is not None and await repo.covering_decision(
        person_id, datetime.combine(opened_on, time(0), OSLO), due
    )
    pathway = await repo.add(
        {
            "id": uuid.uuid4(),
            "person_id": person_id,
            "district": district,
            "kind": int(kind),
            "status": Status.open.value,
            "template_version": version,
            "opened_on": opened_on,
            "opened_at": now,
            "planned_end": rules.planned_end(template, opened_on),
            "decision_rule": template.decision_rule.value,
            "decision_due": due,
            "decision_covered": covered,
            "has_active_services": await repo.services_running(person_id, ctx.clock.today()) > 0,
            "referral_id": referral.referral_id if referral else None,
            "referral_on": referral.received_on if referral else None,
            "source": source.value,
            "source_ref": source_ref,
            "responsible": responsible,
            "updated_at": now,
        }
    )
    if pathway is None:
        return None
    await ctx.outbox.add(
        session,
        PATHWAY_OPENED,
        PathwayOpened(
            pathway_id=pathway.id,
            person_id=person_id,
            district=district,
            kind=int(kind),
            opened_on=opened_on,
            planned_end=pathway.planned_end,
            source=source.value,
            opened_at=now,
        ),
        subject=str(pathway.id),
    )
    return pathway


async def close_pathway(
    ctx: ServiceContext, session: AsyncSession, pathway: Pathway, outcome: Outcome, closed_by: str
) -> None:
    """Close with the clock's time and today's date (back-dating is a correction); its open
    tasks close with it."""
    if pathway.status == Status.closed:
        raise PathwayClosedAlready("The pathway is closed already; correct its date instead.")
    now, today = ctx.clock.now(), ctx.clock.today()
    pathway.status = Status.closed.value
    pathway.closed_at = now
    pathway.closed_on = today
    pathway.outcome = outcome.value
    pathway.closed_by = closed_by
    pathway.updated_at = now
    repo = PathwayRepository(session)
    await repo.flush()
    await repo.close_tasks(pathway.id, None, "pathway_closed", now)
    await ctx.outbox.add(
        session,
        PATHWAY_CLOSED,
        PathwayClosed(
            pathway_id=pathway.id,
            person_id=pathway.person_id,
            district=pathway.district,
            kind=pathway.kind,
            opened_on=pathway.opened_on,
            planned_end=pathway.planned_end,
            closed_on=today,
            outcome=outcome.value,
            overdue=rules.is_overdue(pathway.planned_end, today),
            closed_at=now,
        ),
        subject=str(pathway.id),
    )


async def correct_date(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    pathway: Pathway,
    field: DateField,
    new: date,
    reason: str,
) -> PathwayCorrection:
    """Change the opening or closing date, recorded with who, why and when. The clock's
    `opened_at`/`closed_at` stay as recorded; a new opening date moves the deadlines."""
    if field == DateField.closed_on and pathway.status != Status.closed:
        raise Conflict(
            "Only a closed pathway's closing date can be corrected.", slug="pathway-open-not-closed"
        )
    try:
        rules.check_correction(
            field,
            new,
            today=ctx.clock.today(),
            opened_on=pathway.opened_on,
            closed_on=pathway.closed_on,
            referral_on=pathway.referral_on,
        )
    except rules.DateError as exc:
        raise BadDate(str(exc)) from exc
    old = pathway.opened_on if field == DateField.opened_on else pathway.closed_on
    assert old is not None
    now = ctx.clock.now()
    if field == DateField.opened_on:
        pathway.opened_on = new
        # The deadlines follow the template the pathway opened under, not today's.
        template = await _template_version(session, pathway)
        if template is None:
            template = (await templates_in_force(session))[Kind(pathway.kind)][1]
        pathway.planned_end = rules.planned_end(template, new)
        pathway.decision_due = rules.decision_due(template, new)
    else:
        pathway.closed_on = new
    pathway.updated_at = now
    return await PathwayRepository(session).add_correction(
        {
            "id": uuid.uuid4(),
            "pathway_id": pathway.id,
            "field": field.value,
            "old_value": old,
            "new_value": new,
            "reason": reason,
            "corrected_by": principal.subject,
            "corrected_at": now,
        }
    )


async def _template_version(session: AsyncSession, pathway: Pathway) -> Template | None:
    if pathway.template_version == 0:
        return next(t for t in rules.DEFAULT_TEMPLATES if t.kind == pathway.kind)
    row = await session.get(PathwayTemplate, (pathway.kind, pathway.template_version))
    return template_of(row) if row else None


# --- decisions and reports arriving ----------------------------------------------


async def refresh_services(ctx: ServiceContext, session: AsyncSession, person_id: uuid.UUID) -> int:
    """Recompute `has_active_services` of the person's open pathways from the decisions and
    assignments read models (order-independent: it is current whatever order the events came
    in). Returns how many of the person's decisions and assignments run today."""
    repo = PathwayRepository(session)
    running = await repo.services_running(person_id, ctx.clock.today())
    await repo.set_active_services(person_id, running > 0, ctx.clock.now())
    return running


async def decision_arrived(
    ctx: ServiceContext,
    session: AsyncSession,
    person_id: uuid.UUID,
    decision_on: date,
    end_date: date | None,
) -> None:
    """A decision made or amended: services may run now, and it may satisfy an open
    pathway's decision requirement (closing its decision task)."""
    await refresh_services(ctx, session, person_id)
    repo = PathwayRepository(session)
    now = ctx.clock.now()
    for pathway in await repo.open_for_person(person_id, lock=True):
        if pathway.decision_covered or not rules.covers(
            decision_on, end_date, pathway.opened_on, pathway.decision_due
        ):
            continue
        pathway.decision_covered = True
        pathway.updated_at = now
        await repo.flush()
        await repo.close_tasks(
            pathway.id,
            [TaskKind.decision_required.value, TaskKind.new_decision_required.value],
            "decision_made",
            now,
        )


async def masters_daily_life(
    ctx: ServiceContext,
    session: AsyncSession,
    person_id: uuid.UUID,
    observed_on: date,
    others_running: int,
    by: str,
) -> int:
    """The person masters daily life: close their open pathways 0-2 that had opened by then
    (palliative care is not closed by mastery). Returns how many closed; an already closed
    pathway (the same fact reported again, or by another event) is left as it is."""
    repo = PathwayRepository(session)
    closed = 0
    outcome = rules.masters_outcome(others_running)
    for pathway in await repo.open_for_person(person_id, lock=True):
        if pathway.kind == Kind.palliative or pathway.opened_on > observed_on:
            continue
        await close_pathway(ctx, session, pathway, outcome, by)
        closed += 1
    return closed


# --- the deadline sweep ----------------------------------------------------------


async def sweep_batch(
    ctx: ServiceContext, session: AsyncSession, after: tuple[date, uuid.UUID] | None, limit: int = SWEEP_BATCH
) -> tuple[int, tuple[date, uuid.UUID] | None]:
    """Open the deadline tasks due today for one batch of pathways. Returns how many tasks
    opened and where the next batch starts (None: done)."""
    today, now = ctx.clock.today(), ctx.clock.now()
    repo = PathwayRepository(session)
    batch = await repo.due_for_sweep(today, limit, after)
    opened = 0
    for pathway in batch:
        # Refresh the flag here too: a decision that ran out by its end date sent no event.
        running = await repo.services_running(pathway.person_id, today) > 0
        if running != pathway.has_active_services:
            pathway.has_active_services = running
            pathway.updated_at = now
        state = rules.OpenPathway(
            kind=Kind(pathway.kind),
            planned_end=pathway.planned_end,
            decision_due=pathway.decision_due,
            decision_rule=rules.DecisionRule(pathway.decision_rule),
            has_active_services=running,
            decision_covered=pathway.decision_covered,
        )
        for kind, due in rules.due_tasks(state, today):
            task = await repo.add_task(
                {
                    "id": uuid.uuid4(),
                    "kind": kind.value,
                    "pathway_id": pathway.id,
                    "person_id": pathway.person_id,
                    "district": pathway.district,
                    "due": due,
                    "opened_at": now,
                }
            )
            if task is None:
                continue
            opened += 1
            await ctx.outbox.add(
                session,
                PATHWAY_TASK_OPENED,
                PathwayTaskOpened(
                    task_id=task.id,
                    kind=kind.value,
                    pathway_id=pathway.id,
                    person_id=pathway.person_id,
                    district=pathway.district,
                    pathway_kind=pathway.kind,
                    due_date=due,
                    opened_at=now,
                ),
                subject=str(pathway.id),
            )
    await repo.flush()
    following = (batch[-1].opened_on, batch[-1].id) if len(batch) == limit else None
    return opened, following
