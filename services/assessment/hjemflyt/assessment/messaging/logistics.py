"""The hospital's logistics messages (PLO *Pasientlogistikk*) become stays and deaths.

Registered in `inbound.HANDLERS`; each runs in the incoming message's savepoint, gets the
stored message as an `Arrival` and returns an `Effect` (kept on the incoming row: what a
later Endring or Kansellering acts on). The payload is read by `pasientlogistikk.parse`
(schema failure → T02). The person is found by the identity number in MsgHead
`MsgInfo/Patient/Ident`; a person hjemflyt does not know is answered OK (the municipality
received the message; the case office decides whether the person needs services) and
always raises a `person-unknown` task. Nothing here logs, and no task names an identity
number.

By type (Ny; Endring E; Kansellering K):
- LOG_INNLAGT: an admission (hospital) through admissions' use case: `person.admitted`,
  orders pause; admitted already: nothing new. E: the admission time corrected. K: the
  admission marked cancelled; `admission.cancelled` resumes the orders.
- LOG_UTSKRIVNINGSKLAR: ready for discharge on the open stay (no open stay: admitted from
  the message's own admission event, else a task). E: the time corrected. K: cleared.
- LOG_AVMELDING: ready for discharge cleared. K: ready again (the message's own event 3).
- LOG_UTSKREVET: the open stay discharged through admissions' use case: `person.discharged`,
  orders resume, pathway 1 opens. No open stay: a task (nothing was paused, so nothing
  resumes). E: the discharge time corrected. K: the stay reopened (`admission.reopened`:
  orders pause again) and a task (pathway 1, opened at the discharge, stays open).
- LOG_DOD: the date of death on the person, running decisions ended (deceased: providers
  get `ended` orders), the open stay closed, a task to follow up. E: the date corrected.
  K: the date cleared, a task (ended decisions are not revived).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.admissions import service as admissions
from hjemflyt.assessment.admissions.models import Admission
from hjemflyt.assessment.admissions.repository import AdmissionRepository
from hjemflyt.assessment.admissions.rules import InstitutionKind
from hjemflyt.assessment.admissions.schemas import AdmissionIn, DischargeIn
from hjemflyt.assessment.decisions import lifecycle  # (imports messaging: only the module here)
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.rules import RUNNING, EndReason, Status
from hjemflyt.assessment.decisions.schemas import EndIn
from hjemflyt.assessment.messaging import pasientlogistikk as plo
from hjemflyt.assessment.messaging.inbound import Arrival, Effect, Handler, system_principal
from hjemflyt.assessment.messaging.rules import TaskKind
from hjemflyt.assessment.persons.models import Person
from hjemflyt.assessment.persons.repository import PersonRepository
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext

PURPOSE = "hospital logistics message"
NAMES = {
    plo.LOG_INNLAGT: "Melding om innlagt pasient",
    plo.LOG_UTSKRIVNINGSKLAR: "Melding om utskrivningsklar pasient",
    plo.LOG_AVMELDING: "Avmelding av utskrivningsklar pasient",
    plo.LOG_UTSKREVET: "Melding om utskrevet pasient",
    plo.LOG_DOD: "Orientering om dødsfall",
}


async def _task(
    ctx: ServiceContext,
    session: AsyncSession,
    arrival: Arrival,
    kind: TaskKind,
    detail: str,
    person: Person | None,
) -> None:
    from hjemflyt.assessment.messaging.service import _task as raise_task

    await raise_task(
        ctx,
        session,
        kind,
        detail,
        message=arrival.message,
        person_id=person.id if person else None,
        district=person.district if person else None,
    )


async def _person(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, data: plo.Logistics
) -> Person | None:
    if data.patient_identity is None:
        return None
    person = await PersonRepository(session).by_identity_index(
        principal, ctx.cipher.index(data.patient_identity)
    )
    if person is not None:
        await ctx.access_log.record(
            session, principal, action=Action.read, resource="person", person_ids=[person.id], purpose=PURPOSE
        )
    return person


def _created(earlier_effect: str | None, kind: str) -> uuid.UUID | None:
    """The id of what the original message created, if it was a `kind`."""
    if not earlier_effect or not earlier_effect.startswith(kind + ":"):
        return None
    try:
        return uuid.UUID(earlier_effect.split(":", 1)[1])
    except ValueError:
        return None


async def _earlier_admission(
    session: AsyncSession, principal: Principal, arrival: Arrival, person: Person
) -> Admission | None:
    admission_id = _created(arrival.earlier.effect if arrival.earlier else None, "admission")
    if admission_id is None:
        return None
    admission = await AdmissionRepository(session).get(principal, admission_id)
    return admission if admission is not None and admission.person_id == person.id else None


def _effect(person: Person, admission: Admission | None) -> Effect:
    return Effect(person.id, f"admission:{admission.id}" if admission is not None else None)


# --- per type ---------------------------------------------------------------------------------


async def _admit(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person: Person, when: plo.When
) -> Admission:
    return await admissions.admit(
        ctx,
        session,
        principal,
        person.id,
        AdmissionIn(admitted_at=when.start(), institution_kind=InstitutionKind.hospital),
    )


async def _innlagt(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    arrival: Arrival,
    person: Person,
    data: plo.Logistics,
) -> Effect:
    assert data.main is not None
    if arrival.shipment in ("E", "K"):
        admission = await _earlier_admission(session, principal, arrival, person)
        if arrival.shipment == "K":
            if admission is not None:
                await admissions.cancel(ctx, session, principal, admission)
            return _effect(person, admission)
        if admission is not None:
            await admissions.correct_times(ctx, session, principal, admission, admitted_at=data.main.start())
            return _effect(person, admission)
        # A change of a message that created nothing (the person was unknown, or admitted
        # already then): taken as new.
    if await admissions.open_admission(session, person.id) is not None:
        return Effect(person.id, None)  # admitted already: no second stay; nothing for a K to undo
    return _effect(person, await _admit(ctx, session, principal, person, data.main))


async def _ready(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    arrival: Arrival,
    person: Person,
    data: plo.Logistics,
) -> Effect:
    ready = data.main
    assert ready is not None
    if arrival.shipment in ("E", "K"):
        admission = await _earlier_admission(session, principal, arrival, person)
        if admission is not None and admission.cancelled_at is None:
            at = None if arrival.shipment == "K" else ready.start()
            await admissions.ready_for_discharge(
                ctx, session, principal, admission, at, estimated=ready.estimated
            )
            return _effect(person, admission)
        if arrival.shipment == "K":
            return _effect(person, None)
    admission = await admissions.open_admission(session, person.id)
    if admission is None and (admitted := data.events.get(plo.ADMITTED)) is not None:
        # The admission message never came, but this one says when the person was admitted.
        admission = await _admit(ctx, session, principal, person, admitted)
    if admission is None:
        await _task(
            ctx,
            session,
            arrival,
            TaskKind.ready_without_admission,
            f"The hospital says the person is ready for discharge ({ready.day}) but hjemflyt knows of no "
            "stay and the message does not say when they were admitted: record the stay and plan the "
            "discharge.",
            person,
        )
        return _effect(person, None)
    await admissions.ready_for_discharge(
        ctx, session, principal, admission, ready.start(), estimated=ready.estimated
    )
    return _effect(person, admission)


async def _avmelding(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    arrival: Arrival,
    person: Person,
    data: plo.Logistics,
) -> Effect:
    admission = (
        await _earlier_admission(session, principal, arrival, person)
        if arrival.shipment in ("E", "K")
        else await admissions.open_admission(session, person.id)
    )
    if admission is None or admission.cancelled_at is not None:
        return _effect(person, None)
    # K: the withdrawal is withdrawn, so the person is ready again (its own event 3 says when).
    ready = data.events.get(plo.READY) if arrival.shipment == "K" else None
    await admissions.ready_for_discharge(
        ctx,
        session,
        principal,
        admission,
        ready.start() if ready else None,
        estimated=ready.estimated if ready else None,
    )
    return _effect(person, admission)


async def _utskrevet(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    arrival: Arrival,
    person: Person,
    data: plo.Logistics,
) -> Effect:
    discharged = data.main
    assert discharged is not None
    now = ctx.clock.now()
    if arrival.shipment in ("E", "K"):
        admission = await _earlier_admission(session, principal, arrival, person)
        if arrival.shipment == "K":
            if (
                admission is not None
                and admission.discharged_at is not None
                and admission.cancelled_at is None
            ):
                reopened = await admissions.reopen(ctx, session, principal, admission)
                await _task(
                    ctx,
                    session,
                    arrival,
                    TaskKind.discharge_cancelled,
                    "The hospital cancelled its discharge message: the person is still in hospital. "
                    + (
                        "The stay is open again and the provider's orders are paused again; pathway 1, "
                        "opened at the discharge, is still open: close it if it is not needed yet."
                        if reopened is not None
                        else "The person has another open stay by now, so the first one was not "
                        "reopened: check the stays with the hospital."
                    ),
                    person,
                )
            return _effect(person, admission)
        if admission is not None and admission.discharged_at is not None:
            at = max(discharged.latest(now), admission.admitted_at)
            await admissions.correct_times(ctx, session, principal, admission, discharged_at=at)
            return _effect(person, admission)
    admission = await admissions.open_admission(session, person.id)
    if admission is None:
        # Nothing was paused, so nothing resumes: an admission and a discharge made up now
        # would pause and resume the provider's orders for a stay long over. The case
        # office decides whether the person needs follow-up after the stay.
        await _task(
            ctx,
            session,
            arrival,
            TaskKind.discharged_without_admission,
            f"The hospital discharged the person ({discharged.day}), but hjemflyt knew of no stay: "
            "no orders were paused. Check whether the person needs services after the stay.",
            person,
        )
        return _effect(person, None)
    at = max(discharged.latest(now), admission.admitted_at)
    await admissions.discharge(ctx, session, principal, admission.id, DischargeIn(discharged_at=at))
    return _effect(person, admission)


async def _end_running_decisions(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person: Person, died_on: date
) -> int:
    ended = 0
    for decision in await DecisionRepository(session).for_person(principal, person.id):
        if Status(decision.status) not in RUNNING:
            continue
        end = died_on
        if decision.end_date is not None:
            end = min(end, decision.end_date)
        if decision.start_date is not None:
            end = max(end, decision.start_date - timedelta(days=1))  # died before it started
        await lifecycle.end(
            ctx, session, principal, decision.id, EndIn(end_date=end, reason=EndReason.deceased), None
        )
        ended += 1
    return ended


async def _dod(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    arrival: Arrival,
    person: Person,
    data: plo.Logistics,
) -> Effect:
    died = data.main
    assert died is not None
    effect = Effect(person.id, f"person:{person.id}")
    if arrival.shipment == "K":
        if _created(arrival.earlier.effect if arrival.earlier else None, "person") == person.id:
            person.died_on = None
            await session.flush()
            await ctx.access_log.record(
                session,
                principal,
                action=Action.update,
                resource="person",
                person_ids=[person.id],
                purpose=PURPOSE,
            )
            await _task(
                ctx,
                session,
                arrival,
                TaskKind.death_cancelled,
                "The hospital cancelled its report of the person's death. The date of death is cleared; "
                "decisions ended for the death stay ended: make new decisions if the person lives.",
                person,
            )
        return effect
    person.died_on = died.day
    await session.flush()
    await ctx.access_log.record(
        session, principal, action=Action.update, resource="person", person_ids=[person.id], purpose=PURPOSE
    )
    if arrival.shipment == "E":
        return effect  # the date corrected; what the first message ended stays ended
    ended = await _end_running_decisions(ctx, session, principal, person, died.day)
    admission = await admissions.open_admission(session, person.id)
    if admission is not None:
        # Closed without `person.discharged`: that would resume orders and open pathway 1.
        admission.discharged_at = max(died.latest(ctx.clock.now()), admission.admitted_at)
        admission.discharged_by = principal.subject
        await session.flush()
    await _task(
        ctx,
        session,
        arrival,
        TaskKind.person_died,
        f"The hospital reports that the person died on {died.day}. {ended} running decision(s) were ended "
        "(deceased) and the providers told"
        + (", the hospital stay closed" if admission is not None else "")
        + ". Follow up: next of kin, aids, invoices, the case.",
        person,
    )
    return effect


_BY_TYPE = {
    plo.LOG_INNLAGT: _innlagt,
    plo.LOG_UTSKRIVNINGSKLAR: _ready,
    plo.LOG_AVMELDING: _avmelding,
    plo.LOG_UTSKREVET: _utskrevet,
    plo.LOG_DOD: _dod,
}


async def handle(ctx: ServiceContext, session: AsyncSession, arrival: Arrival) -> Effect:
    msg_type = arrival.head.msg_type
    data = await asyncio.to_thread(plo.parse, arrival.root, msg_type)
    principal = system_principal(ctx)
    person = await _person(ctx, session, principal, data)
    if person is None:
        await _task(
            ctx,
            session,
            arrival,
            TaskKind.person_unknown,
            f"A {NAMES[msg_type]} ({msg_type}, {arrival.shipment}) arrived for a person hjemflyt does not "
            "know (no person with the identity number in the message): register the person if the "
            "municipality is responsible, or tell the sender.",
            None,
        )
        return Effect(None, None)
    return await _BY_TYPE[msg_type](ctx, session, principal, arrival, person, data)


HANDLERS: dict[str, Handler] = {msg_type: handle for msg_type in _BY_TYPE}
