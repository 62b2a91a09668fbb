"""Admissions and discharges: recorded here (assessment owns the person), published so the
notifications service pauses and resumes the person's orders and budget and pathway can
apply their pause rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.admissions import rules
from hjemflyt.assessment.admissions.models import Admission
from hjemflyt.assessment.admissions.repository import AdmissionRepository
from hjemflyt.assessment.admissions.schemas import AdmissionIn, DischargeIn
from hjemflyt.assessment.persons.repository import PersonRepository
from hjemflyt.shared.contracts.events import (
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    PersonAdmitted,
    PersonDischarged,
)
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, RuleViolation

PURPOSE = "case handling"

MESSAGES = {
    "admission-in-future": "The admission time lies in the future.",
    "discharge-in-future": "The discharge time lies in the future.",
    "discharge-before-admission": "The discharge cannot be before the admission.",
}


async def _log(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, a: Admission, action: Action
) -> None:
    await ctx.access_log.record(
        session,
        principal,
        action=action,
        resource="admission",
        person_ids=[a.person_id],
        purpose=PURPOSE,
        resource_id=str(a.id),
    )


async def admit(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID, body: AdmissionIn
) -> Admission:
    person = await PersonRepository(session).get(principal, person_id)
    if person is None:
        raise NotFound("No such person.")
    problem = rules.admission_problem(body.admitted_at, ctx.clock.now())
    if problem:
        raise RuleViolation(MESSAGES[problem], slug=problem)
    admission = await AdmissionRepository(session).add(
        Admission(
            id=uuid.uuid4(),
            person_id=person.id,
            district=person.district,
            institution_kind=body.institution_kind.value,
            admitted_at=body.admitted_at,
            expected_discharge_date=body.expected_discharge_date,
            created_at=ctx.clock.now(),
            created_by=principal.subject,
        )
    )
    if admission is None:
        raise Conflict("The person is already admitted; discharge that stay first.", slug="already-admitted")
    await _log(ctx, session, principal, admission, Action.create)
    await ctx.outbox.add(
        session,
        PERSON_ADMITTED,
        PersonAdmitted(
            admission_id=admission.id,
            person_id=admission.person_id,
            district=admission.district,
            admitted_at=admission.admitted_at,
            institution_kind=admission.institution_kind,
            expected_discharge_date=admission.expected_discharge_date,
        ),
        subject=str(admission.person_id),
    )
    return admission


async def discharge(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    admission_id: uuid.UUID,
    body: DischargeIn,
) -> Admission:
    repo = AdmissionRepository(session)
    admission = await repo.get(principal, admission_id)
    if admission is None:
        raise NotFound("No such admission.")
    if admission.discharged_at is not None:
        raise Conflict("The person has already been discharged from this stay.", slug="already-discharged")
    problem = rules.discharge_problem(admission.admitted_at, body.discharged_at, ctx.clock.now())
    if problem:
        raise RuleViolation(MESSAGES[problem], slug=problem)
    admission.discharged_at = body.discharged_at
    admission.discharged_by = principal.subject
    await session.flush()
    await _log(ctx, session, principal, admission, Action.update)
    await ctx.outbox.add(
        session,
        PERSON_DISCHARGED,
        PersonDischarged(
            admission_id=admission.id,
            person_id=admission.person_id,
            district=admission.district,
            admitted_at=admission.admitted_at,
            discharged_at=body.discharged_at,
        ),
        subject=str(admission.person_id),
    )
    return admission


async def list_for_person(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> Sequence[Admission]:
    if await PersonRepository(session).get(principal, person_id) is None:
        raise NotFound("No such person.")
    admissions = await AdmissionRepository(session).for_person(principal, person_id)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="admission-list",
        person_ids=[person_id],
        purpose=PURPOSE,
    )
    return admissions
