"""Use cases of the assessment (kartlegging): register a draft after or before the home visit,
change it (If-Match), complete it (then it is fixed and `assessment.completed` is published),
read it. Every read and write of it writes an access-log row in the same transaction; a
refused request changes nothing. Flushes, never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.assessments import rules
from hjemflyt.assessment.assessments.events import publish_completed
from hjemflyt.assessment.assessments.models import Assessment, AssessmentGoal
from hjemflyt.assessment.assessments.repository import AssessmentRepository
from hjemflyt.assessment.assessments.schemas import (
    AssessmentIn,
    AssessmentOut,
    AssessmentPatch,
    GoalIn,
    GoalOut,
    MissingItem,
    Participant,
)
from hjemflyt.shared.contracts.iplos import average_function_level
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, PreconditionFailed, Problem, RuleViolation

RESOURCE = "assessment"
CLOSED_APPLICATION_STATUSES = frozenset({"decided", "withdrawn"})


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "Precondition required"


def to_out(assessment: Assessment, today: date) -> AssessmentOut:
    goals = [rules.Goal(g.text, g.follow_up_date) for g in assessment.goals]
    missing: list[rules.Violation] = []
    if assessment.status == rules.DRAFT:
        missing = rules.missing_for_completion(draft_of(assessment, goals), today)
    return AssessmentOut(
        id=assessment.id,
        version=assessment.version,
        person_id=assessment.person_id,
        application_id=assessment.application_id,
        district=assessment.district,
        status=assessment.status,
        visit_date=assessment.visit_date,
        participants=[Participant.model_validate(p) for p in assessment.participants],
        home_situation=assessment.home_situation,
        what_matters=assessment.what_matters,
        goals=[
            GoalOut(position=g.position, text=g.text, follow_up_date=g.follow_up_date)
            for g in assessment.goals
        ],
        iplos_version=assessment.iplos_version,
        scores=dict(assessment.scores),
        average_function_level=average_function_level(assessment.scores),
        missing=[MissingItem(rule=m.rule, field=m.field, message=m.message) for m in missing],
        created_by=assessment.created_by,
        created_at=assessment.created_at,
        completed_at=assessment.completed_at,
    )


def draft_of(assessment: Assessment, goals: Sequence[rules.Goal]) -> rules.Draft:
    return rules.Draft(
        iplos_version=assessment.iplos_version,
        visit_date=assessment.visit_date,
        participants=len(assessment.participants),
        what_matters=assessment.what_matters,
        scores=assessment.scores,
        goals=goals,
    )


def refuse(violations: Sequence[rules.Violation]) -> None:
    """A 422 naming every broken rule; its type is the rule's when only one is broken."""
    if not violations:
        return
    rule_names = sorted({v.rule for v in violations})
    raise RuleViolation(
        "The assessment breaks " + ", ".join(rule_names) + ".",
        slug=violations[0].rule if len(rule_names) == 1 else "invalid-assessment",
        violations=[v.as_dict() for v in violations],
    )


def text_or_none(value: str | None) -> str | None:
    return value if value else None  # a blank answer is no answer


def participants_json(participants: Sequence[Participant]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in participants]


def goal_rows(goals: Sequence[GoalIn]) -> list[AssessmentGoal]:
    return [
        AssessmentGoal(id=uuid.uuid4(), position=i, text=g.text, follow_up_date=g.follow_up_date)
        for i, g in enumerate(goals, start=1)
    ]


async def log(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    assessment: Assessment,
    action: Action,
    purpose: str,
) -> None:
    await ctx.access_log.record(
        session,
        principal,
        action=action,
        resource=RESOURCE,
        person_ids=[assessment.person_id],
        purpose=purpose,
        resource_id=str(assessment.id),
    )


async def create(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: AssessmentIn
) -> AssessmentOut:
    refuse(rules.check_scores(body.iplos_version, body.scores))
    repo = AssessmentRepository(session)
    person = await repo.person(principal, body.person_id)
    if person is None:
        raise NotFound("No such person.")
    if body.application_id is not None:
        application = await repo.application(principal, body.application_id)
        if application is None:
            raise RuleViolation("No such application.", slug="unknown-application")
        if application.person_id != person.id:
            raise RuleViolation("The application is another person's.", slug="application-not-for-person")
        if application.status in CLOSED_APPLICATION_STATUSES:
            raise Conflict(
                f"The application is {application.status}; it is not assessed any more.",
                slug="application-closed",
            )
        await repo.start_assessing(application.id)
    assessment = await repo.add(
        Assessment(
            id=uuid.uuid4(),
            person_id=person.id,
            application_id=body.application_id,
            district=person.district,
            visit_date=body.visit_date,
            participants=participants_json(body.participants),
            home_situation=text_or_none(body.home_situation),
            what_matters=text_or_none(body.what_matters),
            iplos_version=body.iplos_version,
            scores=dict(body.scores),
            status=rules.DRAFT,
            version=1,
            created_by=principal.subject,
            created_at=ctx.clock.now(),
            completed_at=None,
            goals=goal_rows(body.goals),
        )
    )
    await log(ctx, session, principal, assessment, Action.create, "registering an assessment")
    return to_out(assessment, ctx.clock.today())


async def get(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, assessment_id: uuid.UUID, purpose: str
) -> AssessmentOut:
    assessment = await AssessmentRepository(session).get(principal, assessment_id)
    if assessment is None:
        raise NotFound("No such assessment.")
    await log(ctx, session, principal, assessment, Action.read, purpose)
    return to_out(assessment, ctx.clock.today())


async def for_person(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID, purpose: str
) -> list[AssessmentOut]:
    repo = AssessmentRepository(session)
    if await repo.person(principal, person_id) is None:
        raise NotFound("No such person.")
    assessments = await repo.for_person(principal, person_id)
    # Looking at the list is looking at the person's case, even when it is empty.
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="assessment-list",
        person_ids=[person_id],
        purpose=purpose,
    )
    today = ctx.clock.today()
    return [to_out(a, today) for a in assessments]


async def locked_draft(
    session: AsyncSession,
    principal: Principal,
    assessment_id: uuid.UUID,
    if_match: str | None,
    *,
    required: bool,
) -> Assessment:
    """The assessment, locked, if it is a draft at the version the caller has read."""
    versions = None if if_match is None else rules.if_match_versions(if_match)
    if required and versions is None:
        raise PreconditionRequired(
            'Send If-Match with the ETag you read (e.g. If-Match: "3"), so no one else\'s change '
            "is overwritten."
        )
    assessment = await AssessmentRepository(session).get(principal, assessment_id, for_update=True)
    if assessment is None:
        raise NotFound("No such assessment.")
    if assessment.status != rules.DRAFT:
        raise Conflict("The assessment is completed and can no longer change.", slug="assessment-completed")
    if versions is not None and assessment.version not in versions:
        raise PreconditionFailed(
            f"The assessment has changed since you read it; it is now at version {assessment.version}.",
            current_etag=rules.etag(assessment.version),
        )
    return assessment


async def change(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    assessment_id: uuid.UUID,
    body: AssessmentPatch,
    if_match: str | None,
) -> AssessmentOut:
    sent = body.model_fields_set
    for name in ("iplos_version", "participants", "goals", "scores"):
        if name in sent and getattr(body, name) is None:
            refuse([rules.Violation("not-nullable", name, f"{name} cannot be null; send an empty value.")])
    assessment = await locked_draft(session, principal, assessment_id, if_match, required=True)
    version = body.iplos_version if body.iplos_version is not None else assessment.iplos_version
    scores = rules.merge_scores(assessment.scores, body.scores or {})
    refuse(rules.check_scores(version, scores))

    changed = False

    def put(name: str, value: object) -> None:
        nonlocal changed
        if getattr(assessment, name) != value:
            setattr(assessment, name, value)
            changed = True

    put("iplos_version", version)
    put("scores", scores)
    if "visit_date" in sent:
        put("visit_date", body.visit_date)
    if "home_situation" in sent:
        put("home_situation", text_or_none(body.home_situation))
    if "what_matters" in sent:
        put("what_matters", text_or_none(body.what_matters))
    if body.participants is not None:
        put("participants", participants_json(body.participants))
    if body.goals is not None:
        current = [(g.text, g.follow_up_date) for g in assessment.goals]
        if current != [(g.text, g.follow_up_date) for g in body.goals]:
            assessment.goals = goal_rows(body.goals)
            changed = True
    if changed:
        assessment.version += 1
        await AssessmentRepository(session).flush()
        await log(ctx, session, principal, assessment, Action.update, "updating an assessment")
    else:
        await log(ctx, session, principal, assessment, Action.read, "updating an assessment (no change)")
    return to_out(assessment, ctx.clock.today())


async def complete(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    assessment_id: uuid.UUID,
    if_match: str | None,
) -> AssessmentOut:
    assessment = await locked_draft(session, principal, assessment_id, if_match, required=False)
    today = ctx.clock.today()
    goals = [rules.Goal(g.text, g.follow_up_date) for g in assessment.goals]
    missing = rules.missing_for_completion(draft_of(assessment, goals), today)
    if missing:
        raise RuleViolation(
            f"The assessment cannot be completed yet: {len(missing)} thing(s) missing; see `missing`.",
            slug="assessment-incomplete",
            title="The assessment is incomplete",
            missing=[m.as_dict() for m in missing],
        )
    repo = AssessmentRepository(session)
    person = await repo.person(principal, assessment.person_id)
    if person is not None:  # readable() already required it; the district is the current one
        assessment.district = person.district
    now = ctx.clock.now()
    assessment.status = rules.COMPLETED
    assessment.completed_at = now
    assessment.version += 1
    await repo.flush()
    await publish_completed(ctx, session, assessment, now)
    await log(ctx, session, principal, assessment, Action.update, "completing an assessment")
    return to_out(assessment, today)


async def record_replay(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID, assessment_id: str
) -> None:
    """A retried request answers with the assessment again: that is a read, and is logged."""
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource=RESOURCE,
        person_ids=[person_id],
        purpose="idempotent retry",
        resource_id=assessment_id,
    )
