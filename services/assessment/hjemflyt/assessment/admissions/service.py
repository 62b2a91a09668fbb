"""Admissions and discharges: recorded here (assessment owns the person), published so the
notifications service pauses and resumes the person's orders and budget and pathway can
apply their pause rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.admissions import rules
from hjemflyt.assessment.admissions.models import Admission
from hjemflyt.assessment.admissions.repository import AdmissionRepository
from hjemflyt.assessment.admissions.schemas import AdmissionIn, DischargeIn
from hjemflyt.assessment.persons.repository import PersonRepository
from hjemflyt.shared.contracts.events import (
    ADMISSION_CANCELLED,
    ADMISSION_REOPENED,
    PERSON_ADMITTED,
    PERSON_DISCHARGED,
    AdmissionCancelled,
    AdmissionReopened,
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


def _admitted(admission: Admission) -> PersonAdmitted:
    return PersonAdmitted(
        admission_id=admission.id,
        person_id=admission.person_id,
        district=admission.district,
        admitted_at=admission.admitted_at,
        institution_kind=admission.institution_kind,
        expected_discharge_date=admission.expected_discharge_date,
    )


def _discharged(admission: Admission) -> PersonDischarged:
    assert admission.discharged_at is not None
    return PersonDischarged(
        admission_id=admission.id,
        person_id=admission.person_id,
        district=admission.district,
        admitted_at=admission.admitted_at,
        discharged_at=admission.discharged_at,
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
    await ctx.outbox.add(session, PERSON_ADMITTED, _admitted(admission), subject=str(admission.person_id))
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
    if admission.cancelled_at is not None:
        raise Conflict("This admission was cancelled: there is no stay to end.", slug="admission-cancelled")
    problem = rules.discharge_problem(admission.admitted_at, body.discharged_at, ctx.clock.now())
    if problem:
        raise RuleViolation(MESSAGES[problem], slug=problem)
    admission.discharged_at = body.discharged_at
    admission.discharged_by = principal.subject
    await session.flush()
    await _log(ctx, session, principal, admission, Action.update)
    await ctx.outbox.add(session, PERSON_DISCHARGED, _discharged(admission), subject=str(admission.person_id))
    return admission


# --- what the hospital's logistics messages do beyond admit and discharge (messaging/logistics.py)


async def open_admission(session: AsyncSession, person_id: uuid.UUID) -> Admission | None:
    return await AdmissionRepository(session).open_for(person_id)


async def ready_for_discharge(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    admission: Admission,
    at: datetime | None,
    *,
    estimated: bool | None = None,
) -> Admission:
    """The hospital says the person is ready for discharge (`at`), or no longer (`None`)."""
    admission.ready_for_discharge_at = at
    admission.ready_for_discharge_estimated = estimated if at is not None else None
    await session.flush()
    await _log(ctx, session, principal, admission, Action.update)
    return admission


async def correct_times(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    admission: Admission,
    *,
    admitted_at: datetime | None = None,
    discharged_at: datetime | None = None,
) -> Admission:
    """A correction (Endring) of the times the hospital gave: the stay's times change and are
    published again with the same admission id (budget's stay takes them; orders are
    paused by that admission already)."""
    if admission.cancelled_at is not None:
        return admission
    now = ctx.clock.now()
    new_admitted = admitted_at or admission.admitted_at
    if problem := rules.admission_problem(new_admitted, now):
        raise RuleViolation(MESSAGES[problem], slug=problem)
    if admission.discharged_at is not None or discharged_at is not None:
        new_discharged = discharged_at or admission.discharged_at
        assert new_discharged is not None
        if problem := rules.discharge_problem(new_admitted, new_discharged, now):
            raise RuleViolation(MESSAGES[problem], slug=problem)
        if admission.discharged_at is None:
            return admission  # a correction never discharges
        admission.discharged_at = new_discharged
    admission.admitted_at = new_admitted
    await session.flush()
    await _log(ctx, session, principal, admission, Action.update)
    if admitted_at is not None:
        await ctx.outbox.add(session, PERSON_ADMITTED, _admitted(admission), subject=str(admission.person_id))
    if discharged_at is not None and admission.discharged_at is not None:
        await ctx.outbox.add(
            session, PERSON_DISCHARGED, _discharged(admission), subject=str(admission.person_id)
        )
    return admission


async def cancel(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, admission: Admission
) -> Admission:
    """The stay did not happen (the hospital cancelled its admission message): kept, marked
    cancelled; `admission.cancelled` resumes the orders it paused and drops it from the budget."""
    if admission.cancelled_at is not None:
        return admission
    admission.cancelled_at = ctx.clock.now()
    await session.flush()
    await _log(ctx, session, principal, admission, Action.update)
    await ctx.outbox.add(
        session,
        ADMISSION_CANCELLED,
        AdmissionCancelled(
            admission_id=admission.id,
            person_id=admission.person_id,
            district=admission.district,
            admitted_at=admission.admitted_at,
            cancelled_at=admission.cancelled_at,
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


async def reopen(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, admission: Admission
) -> Admission | None:
    """The discharge did not happen (the hospital cancelled its discharge message): the stay
    is open again and `admission.reopened` pauses the orders again. None if the person has
    another open stay by now (a person must look)."""
    if admission.discharged_at is None or admission.cancelled_at is not None:
        return admission
    if await AdmissionRepository(session).open_for(admission.person_id) is not None:
        return None
    admission.discharged_at = None
    admission.discharged_by = None
    await session.flush()
    await _log(ctx, session, principal, admission, Action.update)
    await ctx.outbox.add(
        session,
        ADMISSION_REOPENED,
        AdmissionReopened(
            admission_id=admission.id,
            person_id=admission.person_id,
            district=admission.district,
            admitted_at=admission.admitted_at,
            institution_kind=admission.institution_kind,
            reopened_at=ctx.clock.now(),
        ),
        subject=str(admission.person_id),
    )
    return admission
