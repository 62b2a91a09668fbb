"""Use cases of the appeal (klage): register, start the re-assessment, the municipality's
decision, the appeal body's outcome, read, list, the worklist.

Every check runs before anything is written, and the request is one transaction, so a refused
request leaves nothing behind: no appeal change, no event, no access-log row. Every read and
write writes an access-log row (an appeal is about a person). Flushes, never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.appeals import events, rules
from hjemflyt.assessment.appeals.models import Appeal
from hjemflyt.assessment.appeals.repository import AppealRepository
from hjemflyt.assessment.appeals.rules import (
    AppealStatus,
    Awaiting,
    FinalOutcome,
    MunicipalityOutcome,
    Step,
)
from hjemflyt.assessment.appeals.schemas import AppealIn, AppealOut, FinalOutcomeIn, MunicipalityDecisionIn
from hjemflyt.assessment.config.repository import ConfigRepository
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, PreconditionFailed, RuleViolation

RESOURCE = "appeal"
PURPOSE = "appeal handling"
DEFAULT_APPEAL_BODY = "Statsforvalteren"


def to_out(appeal: Appeal) -> AppealOut:
    status = AppealStatus(appeal.status)
    return AppealOut(
        id=appeal.id,
        version=appeal.version,
        decision_id=appeal.decision_id,
        person_id=appeal.person_id,
        district=appeal.district,
        status=status,
        awaiting=rules.AWAITING[status],
        received_date=appeal.received_date,
        deadline_date=appeal.deadline_date,
        late=appeal.late,
        grounds=appeal.grounds,
        municipality_outcome=(
            MunicipalityOutcome(appeal.municipality_outcome) if appeal.municipality_outcome else None
        ),
        municipality_decided_date=appeal.municipality_decided_date,
        municipality_reasoning=appeal.municipality_reasoning,
        new_decision_id=appeal.new_decision_id,
        forwarded_date=appeal.forwarded_date,
        appeal_body=appeal.appeal_body,
        final_outcome=FinalOutcome(appeal.final_outcome) if appeal.final_outcome else None,
        final_date=appeal.final_date,
        answered_date=rules.answered(
            status=status, municipality_decided=appeal.municipality_decided_date, final=appeal.final_date
        ),
        registered_by=appeal.registered_by,
        created_at=appeal.created_at,
    )


def _refuse(violations: Sequence[rules.Violation]) -> None:
    """A 422 naming every broken rule; its type is the rule's when only one is broken."""
    if not violations:
        return
    names = sorted({v.rule for v in violations})
    raise RuleViolation(
        "The appeal breaks " + ", ".join(names) + ".",
        slug=names[0] if len(names) == 1 else "invalid-appeal",
        violations=[v.as_dict() for v in violations],
    )


def _check_etag(appeal: Appeal, if_match: str | None) -> None:
    """If-Match is optional on steps (as on decision transitions); when sent, it must match."""
    if if_match is None:
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and f'"{appeal.version}"' not in tags:
        raise PreconditionFailed(
            f"The appeal has changed (now version {appeal.version}); read it again.",
            current_version=appeal.version,
        )


def _check_step(appeal: Appeal, step: Step) -> None:
    status = AppealStatus(appeal.status)
    if not rules.can_take(step, status):
        awaiting = rules.AWAITING[status]
        raise Conflict(
            f"A {status} appeal cannot take the step {step}"
            + (f"; it awaits {awaiting}." if awaiting else "; it is closed."),
            slug="invalid-transition",
            appeal_status=status.value,
            awaiting=awaiting.value if awaiting else None,
        )


async def _log(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    appeal: Appeal,
    action: Action,
    purpose: str = PURPOSE,
) -> None:
    await ctx.access_log.record(
        session,
        principal,
        action=action,
        resource=RESOURCE,
        person_ids=[appeal.person_id],
        purpose=purpose,
        resource_id=str(appeal.id),
    )


async def _load(
    session: AsyncSession, principal: Principal, appeal_id: uuid.UUID, *, for_update: bool = False
) -> Appeal:
    appeal = await AppealRepository(session).get(principal, appeal_id, for_update=for_update)
    if appeal is None:
        raise NotFound("No such appeal.")
    return appeal


# --- use cases -------------------------------------------------------------------------


async def register(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: AppealIn
) -> AppealOut:
    """Register an appeal against a made decision. A late one is flagged, never refused."""
    repo = AppealRepository(session)
    decision = await repo.decision(principal, body.decision_id, for_update=True)
    if decision is None:
        raise NotFound("No such decision.")
    if decision.status not in rules.APPEALABLE_DECISION_STATUSES:
        raise Conflict(
            f"A {decision.status} decision cannot be appealed: it has not been made.",
            slug="decision-not-made",
        )
    today = ctx.clock.today()
    received = body.received_date or today
    _refuse(rules.check_received(received, today=today, decision_date=decision.decision_date))
    existing = await repo.open_for_decision(decision.id)
    if existing is not None:
        raise Conflict(
            "This decision already has an open appeal; add to it rather than register another.",
            slug="appeal-already-open",
            appeal_id=str(existing.id),
        )
    municipality = await ConfigRepository(session).municipality(ctx.settings.tenant)
    weeks = municipality.appeal_weeks if municipality else rules.DEFAULT_WEEKS
    deadline = rules.deadline(
        appeal_deadline=decision.appeal_deadline, decision_date=decision.decision_date, weeks=weeks
    )
    appeal = await repo.add(
        Appeal(
            id=uuid.uuid4(),
            decision_id=decision.id,
            person_id=decision.person_id,
            district=decision.district,
            received_date=received,
            deadline_date=deadline,
            late=rules.is_late(received, deadline),
            grounds=body.grounds,
            status=AppealStatus.received.value,
            version=1,
            registered_by=principal.subject,
            created_at=ctx.clock.now(),
        )
    )
    await _log(ctx, session, principal, appeal, Action.create)
    await events.publish_received(ctx, session, appeal)
    return to_out(appeal)


async def reassess(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    appeal_id: uuid.UUID,
    if_match: str | None,
) -> AppealOut:
    """The municipality starts re-assessing its decision (the first instance's duty)."""
    appeal = await _load(session, principal, appeal_id, for_update=True)
    _check_etag(appeal, if_match)
    _check_step(appeal, Step.reassess)
    appeal.status = AppealStatus.reassessing.value
    appeal.version += 1
    await session.flush()
    await _log(ctx, session, principal, appeal, Action.update)
    return to_out(appeal)


async def municipality_decision(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    appeal_id: uuid.UUID,
    body: MunicipalityDecisionIn,
    if_match: str | None,
) -> AppealOut:
    """Changed or reversed: the person got what they asked and the appeal is closed. Upheld: the
    appeal is forwarded to the municipality's appeal body the same day."""
    repo = AppealRepository(session)
    appeal = await _load(session, principal, appeal_id, for_update=True)
    _check_etag(appeal, if_match)
    _check_step(appeal, Step.municipality_decision)
    violations = rules.check_decided(
        body.decided_date, today=ctx.clock.today(), not_before=appeal.received_date, since="received"
    )
    if body.new_decision_id is not None:
        if body.outcome == MunicipalityOutcome.upheld:
            violations.append(
                rules.Violation(
                    "new-decision-when-upheld",
                    "An upheld decision has no new decision; link one only when it is changed or reversed.",
                    "new_decision_id",
                )
            )
        elif body.new_decision_id == appeal.decision_id:
            violations.append(
                rules.Violation(
                    "new-decision-is-appealed-decision",
                    "The new decision must be another decision than the one appealed.",
                    "new_decision_id",
                )
            )
        else:
            new = await repo.decision(principal, body.new_decision_id)
            if new is None:
                violations.append(
                    rules.Violation("unknown-new-decision", "No such decision.", "new_decision_id")
                )
            elif new.person_id != appeal.person_id:
                violations.append(
                    rules.Violation(
                        "new-decision-other-person",
                        "The new decision is about another person.",
                        "new_decision_id",
                    )
                )
    _refuse(violations)
    forwarded = body.outcome == MunicipalityOutcome.upheld
    appeal.status = rules.after_municipality(body.outcome).value
    appeal.municipality_outcome = body.outcome.value
    appeal.municipality_reasoning = body.reasoning
    appeal.municipality_decided_date = body.decided_date
    appeal.new_decision_id = body.new_decision_id
    if forwarded:
        municipality = await ConfigRepository(session).municipality(ctx.settings.tenant)
        appeal.appeal_body = municipality.appeal_body if municipality else DEFAULT_APPEAL_BODY
        appeal.forwarded_date = body.decided_date
    appeal.version += 1
    await session.flush()
    await _log(ctx, session, principal, appeal, Action.update)
    await events.publish_decided(
        ctx,
        session,
        appeal,
        stage=events.STAGE_MUNICIPALITY,
        outcome=body.outcome.value,
        decided_date=body.decided_date,
        forwarded=forwarded,
    )
    return to_out(appeal)


async def final_outcome(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    appeal_id: uuid.UUID,
    body: FinalOutcomeIn,
    if_match: str | None,
) -> AppealOut:
    """Record the appeal body's outcome; the appeal is closed. `returned` means the
    municipality must assess the case anew (a new decision follows from that)."""
    appeal = await _load(session, principal, appeal_id, for_update=True)
    _check_etag(appeal, if_match)
    _check_step(appeal, Step.final_outcome)
    _refuse(
        rules.check_decided(
            body.decided_date, today=ctx.clock.today(), not_before=appeal.forwarded_date, since="forwarded"
        )
    )
    appeal.status = AppealStatus.closed.value
    appeal.final_outcome = body.outcome.value
    appeal.final_date = body.decided_date
    appeal.version += 1
    await session.flush()
    await _log(ctx, session, principal, appeal, Action.update)
    await events.publish_decided(
        ctx,
        session,
        appeal,
        stage=events.STAGE_COUNTY_GOVERNOR,
        outcome=body.outcome.value,
        decided_date=body.decided_date,
        forwarded=False,
    )
    return to_out(appeal)


async def get(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    appeal_id: uuid.UUID,
    purpose: str = PURPOSE,
) -> AppealOut:
    appeal = await _load(session, principal, appeal_id)
    await _log(ctx, session, principal, appeal, Action.read, purpose)
    return to_out(appeal)


async def for_decision(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, decision_id: uuid.UUID
) -> list[AppealOut]:
    repo = AppealRepository(session)
    decision = await repo.decision(principal, decision_id)
    if decision is None:
        raise NotFound("No such decision.")
    appeals = await repo.for_decision(principal, decision_id)
    if appeals:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="appeal-list",
            person_ids=[decision.person_id],
            purpose=PURPOSE,
            resource_id=str(decision_id),
        )
    return [to_out(a) for a in appeals]


async def awaiting(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    *,
    only: Awaiting | None,
    limit: int,
    after: tuple[date, uuid.UUID] | None,
) -> list[AppealOut]:
    """Open appeals, oldest first, with what each waits for (the worklist)."""
    statuses = [s for s, a in rules.AWAITING.items() if a is not None and (only is None or a == only)]
    appeals = await AppealRepository(session).awaiting(principal, statuses=statuses, limit=limit, after=after)
    if appeals:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="appeal-list",
            person_ids=sorted({a.person_id for a in appeals}),
            purpose="appeal worklist",
        )
    return [to_out(a) for a in appeals]


async def record_replay(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID, appeal_id: str
) -> None:
    """A retried registration answers with the appeal again: that is a read, and is logged."""
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource=RESOURCE,
        person_ids=[person_id],
        purpose="idempotent retry of an appeal registration",
        resource_id=appeal_id,
    )
