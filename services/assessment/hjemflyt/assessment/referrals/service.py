"""Use cases of referrals (henvendelser) and applications (søknader): register a referral by
hand or from a PLO message, register an application (the case-handling clock starts), send a
preliminary reply, withdraw, mark decided, and the worklist of applications past their
deadline (forvaltningsloven § 11 a).

Every read and write of a case writes an access-log row in the same transaction; a refused
request changes nothing. Flushes, never commits.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.config.repository import ConfigRepository
from hjemflyt.assessment.persons import service as persons
from hjemflyt.assessment.persons.repository import PersonRepository
from hjemflyt.assessment.persons.schemas import PersonIn
from hjemflyt.assessment.referrals import plo, rules
from hjemflyt.assessment.referrals.events import publish_application_registered, publish_referral_received
from hjemflyt.assessment.referrals.models import Application, Referral
from hjemflyt.assessment.referrals.repository import ReferralRepository
from hjemflyt.assessment.referrals.rules import ApplicationStatus, ReferralStatus, Source
from hjemflyt.assessment.referrals.schemas import (
    ApplicationIn,
    ApplicationOut,
    OverdueApplication,
    PloReferralOut,
    PreliminaryReplyIn,
    PreliminaryReplyOut,
    ReferralIn,
    ReferralOut,
)
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, RuleViolation

PURPOSE = "case handling"
REFERRAL = "referral"
APPLICATION = "application"


def referral_out(referral: Referral) -> ReferralOut:
    return ReferralOut(
        id=referral.id,
        person_id=referral.person_id,
        district=referral.district,
        source=Source(referral.source),
        status=ReferralStatus(referral.status),
        received_at=referral.received_at,
        summary=referral.summary,
        requested_services=list(referral.requested_services),
        sender_name=referral.sender_name,
        sender_her_id=referral.sender_her_id,
        sender_organisation=referral.sender_organisation,
        plo_message_id=referral.plo_message_id,
        plo_message_type=referral.plo_message_type,
        registered_by=referral.registered_by,
    )


def application_out(application: Application) -> ApplicationOut:
    reply = None
    if application.preliminary_reply_date is not None:
        reply = PreliminaryReplyOut(
            sent_date=application.preliminary_reply_date,
            reason=application.preliminary_reply_reason or "",
            expected_decision_date=application.expected_decision_date,
        )
    return ApplicationOut(
        id=application.id,
        person_id=application.person_id,
        district=application.district,
        referral_id=application.referral_id,
        status=ApplicationStatus(application.status),
        received_date=application.received_date,
        deadline_date=application.deadline_date,
        services=list(application.services),
        description=application.description,
        preliminary_reply=reply,
        decided_at=application.decided_at,
        registered_by=application.registered_by,
        created_at=application.created_at,
    )


def refuse(violations: Sequence[rules.Violation], several: str) -> None:
    """One 422 naming every broken rule; its slug is the rule itself when only one is broken."""
    if not violations:
        return
    names = sorted({v.rule for v in violations})
    raise RuleViolation(
        "The request breaks " + ", ".join(names) + ".",
        slug=violations[0].rule if len(names) == 1 else several,
        violations=[v.as_dict() for v in violations],
    )


async def _log(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    action: Action,
    resource: str,
    person_ids: Sequence[uuid.UUID],
    purpose: str,
    resource_id: uuid.UUID | None = None,
) -> None:
    await ctx.access_log.record(
        session,
        principal,
        action=action,
        resource=resource,
        person_ids=person_ids,
        purpose=purpose,
        resource_id=str(resource_id) if resource_id else None,
    )


async def _person(session: AsyncSession, principal: Principal, person_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """(id, district) of a person the principal may see, else 404."""
    person = await PersonRepository(session).get(principal, person_id)
    if person is None:
        raise NotFound("No such person.")
    return person.id, person.district


async def _catalogue(session: AsyncSession, codes: Sequence[str]) -> dict[str, bool]:
    if not codes:
        return {}
    found = await ConfigRepository(session).service_types_by_code(set(codes))
    return {code: s.active for code, s in found.items()}


async def record_replay(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    resource: str,
    resource_id: uuid.UUID,
    person_id: uuid.UUID,
) -> None:
    """A retried request answers with the case again: that is a read, and is logged."""
    await _log(ctx, session, principal, Action.read, resource, [person_id], "idempotent retry", resource_id)


# --- referrals -------------------------------------------------------------------------


async def create_referral(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: ReferralIn
) -> ReferralOut:
    person_id, district = await _person(session, principal, body.person_id)
    problems, organisation = rules.check_sender(
        body.source,
        sender_name=body.sender_name,
        sender_her_id=body.sender_her_id,
        sender_organisation=body.sender_organisation,
    )
    catalogue = await _catalogue(session, body.requested_services)
    problems += rules.check_services(
        body.requested_services, catalogue, field="requested_services", required=False
    )
    now = ctx.clock.now()
    received_at = (body.received_at or now).astimezone(UTC)
    problems += rules.check_received_at(received_at, now)
    refuse(problems, "referral-incomplete")
    referral = Referral(
        id=uuid.uuid4(),
        person_id=person_id,
        district=district,
        source=body.source.value,
        received_at=received_at,
        sender_name=body.sender_name,
        sender_her_id=body.sender_her_id,
        sender_organisation=organisation,
        summary=body.summary,
        requested_services=list(body.requested_services),
        plo_message_id=None,
        plo_message_type=None,
        status=ReferralStatus.received.value,
        registered_by=principal.subject,
    )
    await ReferralRepository(session).add_referral(referral)
    await publish_referral_received(ctx, session, referral)
    await _log(ctx, session, principal, Action.create, REFERRAL, [person_id], PURPOSE, referral.id)
    return referral_out(referral)


async def get_referral(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, referral_id: uuid.UUID, purpose: str
) -> ReferralOut:
    referral = await ReferralRepository(session).get_referral(principal, referral_id)
    if referral is None:
        raise NotFound("No such referral.")
    await _log(ctx, session, principal, Action.read, REFERRAL, [referral.person_id], purpose, referral.id)
    return referral_out(referral)


async def referrals_for_person(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID, purpose: str
) -> list[ReferralOut]:
    person_id, _ = await _person(session, principal, person_id)
    referrals = await ReferralRepository(session).referrals_for_person(principal, person_id)
    if referrals:
        await _log(ctx, session, principal, Action.read, "referral-list", [person_id], purpose)
    return [referral_out(r) for r in referrals]


# --- PLO intake ------------------------------------------------------------------------


async def receive_plo(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    body: bytes,
    *,
    district: str | None,
    source: Source,
) -> tuple[PloReferralOut, bool]:
    """A referral from a *Helseopplysninger ved søknad* message; True if it is new.

    The message's MsgId makes delivery idempotent: the same message again answers with the
    referral it made and stores nothing. An unknown patient is registered in `district`.
    """
    # Parsing and schema validation are CPU-bound: keep them off the event loop.
    message = await asyncio.to_thread(plo.parse, body)
    repo = ReferralRepository(session)
    existing = await repo.referral_by_plo_message(message.message_id)
    if existing is not None:
        return await _plo_duplicate(ctx, session, principal, existing, message), False

    person_id, person_district, registered = await _plo_person(ctx, session, principal, message, district)
    catalogue = await ConfigRepository(session).service_types()
    requested = rules.map_requested_services(
        [(s.iplos_code, s.name) for s in message.services],
        [rules.CatalogueEntry(s.code, s.name, s.iplos_code, s.active) for s in catalogue],
    )
    referral = Referral(
        id=uuid.uuid4(),
        person_id=person_id,
        district=person_district,
        source=source.value,
        received_at=ctx.clock.now(),
        sender_name=message.sender_name,
        sender_her_id=message.sender_her_id,
        sender_organisation=message.sender_organisation,
        summary=message.summary,
        requested_services=requested,
        plo_message_id=message.message_id,
        plo_message_type=message.message_type,
        status=ReferralStatus.received.value,
        registered_by=principal.subject,
    )
    added = await repo.add_plo_referral(referral)
    if added is None:  # the same message, delivered at the same time, won
        existing = await repo.referral_by_plo_message(message.message_id)
        assert existing is not None
        return await _plo_duplicate(ctx, session, principal, existing, message), False
    await publish_referral_received(ctx, session, referral)
    await _log(ctx, session, principal, Action.create, REFERRAL, [person_id], PURPOSE, referral.id)
    out = PloReferralOut(**referral_out(referral).model_dump(), person_registered=registered, duplicate=False)
    return out, True


async def _plo_duplicate(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    existing: Referral,
    message: plo.PloMessage,
) -> PloReferralOut:
    if not principal.may_see_district(existing.district):
        raise Conflict("This message was received before.", slug="plo-message-already-received")
    stored_index = await ReferralRepository(session).person_identity_index(existing.person_id)
    if stored_index != ctx.cipher.index(message.patient_identity):
        raise Conflict(
            "A message with this MsgId was received before for another patient.", slug="plo-message-id-reused"
        )
    await _log(
        ctx,
        session,
        principal,
        Action.read,
        REFERRAL,
        [existing.person_id],
        "repeated PLO message",
        existing.id,
    )
    return PloReferralOut(**referral_out(existing).model_dump(), person_registered=False, duplicate=True)


async def _plo_person(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    message: plo.PloMessage,
    district: str | None,
) -> tuple[uuid.UUID, str, bool]:
    """(id, district, registered now) of the patient, found by identity number or registered."""
    index = ctx.cipher.index(message.patient_identity)
    people = PersonRepository(session)
    person = await people.by_identity_index(principal, index)
    if person is not None:
        return person.id, person.district, False
    if await people.exists_with_index(index) is not None:
        raise NotFound("No person with that identity number that you may see.")
    if district is None:
        raise RuleViolation(
            "The patient is not registered. Send `district` to register them from the message, "
            "or register the person first.",
            slug="plo-person-unknown",
        )
    try:
        person_in = PersonIn(
            identity_number=message.patient_identity,
            name=(message.patient_name or "")[:200],
            address=(message.patient_address or "")[:300],
            phone=message.patient_phone
            if message.patient_phone and len(message.patient_phone) <= 30
            else None,
            district=district,
        )
    except ValidationError as exc:  # its text quotes the values: keep only the field names
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")})
        raise RuleViolation(
            "The message lacks what registering the patient needs: " + ", ".join(fields) + ".",
            slug="plo-patient-incomplete",
            fields=fields,
        ) from None
    try:
        registered = await persons.register(ctx, session, principal, person_in)
    except Conflict as exc:
        if exc.slug != "person-exists":
            raise
        # Registered by a concurrent request since we looked.
        person = await people.by_identity_index(principal, index)
        if person is None:
            raise NotFound("No person with that identity number that you may see.") from None
        return person.id, person.district, False
    return registered.id, registered.district, True


# --- applications ----------------------------------------------------------------------


async def register_application(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: ApplicationIn
) -> ApplicationOut:
    person_id, district = await _person(session, principal, body.person_id)
    repo = ReferralRepository(session)
    problems: list[rules.Violation] = []
    referral: Referral | None = None
    if body.referral_id is not None:
        referral = await repo.get_referral(principal, body.referral_id, for_update=True)
        if referral is None:
            raise NotFound("No such referral.")
        if referral.person_id != person_id:
            problems.append(
                rules.Violation(
                    "referral-for-another-person", "The referral is about another person.", "referral_id"
                )
            )
        elif not rules.may_register_application_from(referral.status):
            raise Conflict(
                f"The referral's status is {referral.status}; an application was registered from it already "
                "or it is closed.",
                slug="referral-not-open",
            )
    services = (
        list(body.services)
        if body.services is not None
        else list(referral.requested_services)
        if referral is not None
        else []
    )
    catalogue = await _catalogue(session, services)
    problems += rules.check_services(services, catalogue, field="services", required=True)
    today = ctx.clock.today()
    received = body.received_date or today
    problems += rules.check_received_date(received, today)
    refuse(problems, "application-incomplete")

    municipality = await ConfigRepository(session).municipality(ctx.settings.tenant)
    application = Application(
        id=uuid.uuid4(),
        person_id=person_id,
        district=district,
        referral_id=referral.id if referral else None,
        received_date=received,
        deadline_date=rules.deadline_date(
            received, municipality.case_deadline_months if municipality else None
        ),
        services=services,
        description=body.description,
        status=ApplicationStatus.received.value,
        preliminary_reply_date=None,
        preliminary_reply_reason=None,
        expected_decision_date=None,
        decided_at=None,
        registered_by=principal.subject,
        created_at=ctx.clock.now(),
    )
    if referral is not None:
        referral.status = ReferralStatus.application.value
    await repo.add_application(application)
    await publish_application_registered(ctx, session, application)
    await _log(ctx, session, principal, Action.create, APPLICATION, [person_id], PURPOSE, application.id)
    return application_out(application)


async def get_application(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, application_id: uuid.UUID, purpose: str
) -> ApplicationOut:
    application = await ReferralRepository(session).get_application(principal, application_id)
    if application is None:
        raise NotFound("No such application.")
    await _log(
        ctx, session, principal, Action.read, APPLICATION, [application.person_id], purpose, application.id
    )
    return application_out(application)


async def applications_for_person(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID, purpose: str
) -> list[ApplicationOut]:
    person_id, _ = await _person(session, principal, person_id)
    applications = await ReferralRepository(session).applications_for_person(principal, person_id)
    if applications:
        await _log(ctx, session, principal, Action.read, "application-list", [person_id], purpose)
    return [application_out(a) for a in applications]


async def _open_application(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, doing: str
) -> Application:
    """The application, locked, if the principal may see it and it is still open."""
    application = await ReferralRepository(session).get_application(
        principal, application_id, for_update=True
    )
    if application is None:
        raise NotFound("No such application.")
    if not rules.is_open(application.status):
        raise Conflict(
            f"The application is {application.status}; it cannot be {doing}.", slug="application-closed"
        )
    return application


async def send_preliminary_reply(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    body: PreliminaryReplyIn,
) -> ApplicationOut:
    """Record the preliminary reply (forvaltningsloven § 11 a): why it takes longer and when a
    decision is expected. A later reply replaces it, e.g. when the expected date slips."""
    application = await _open_application(session, principal, application_id, "given a preliminary reply")
    today = ctx.clock.today()
    refuse(
        rules.check_expected_decision_date(body.expected_decision_date, today), "preliminary-reply-invalid"
    )
    application.preliminary_reply_date = today
    application.preliminary_reply_reason = body.reason
    application.expected_decision_date = body.expected_decision_date
    await session.flush()
    await _log(
        ctx, session, principal, Action.update, APPLICATION, [application.person_id], PURPOSE, application.id
    )
    return application_out(application)


async def withdraw(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> ApplicationOut:
    application = await _open_application(session, principal, application_id, "withdrawn")
    application.status = ApplicationStatus.withdrawn.value
    await session.flush()
    await _log(
        ctx, session, principal, Action.update, APPLICATION, [application.person_id], PURPOSE, application.id
    )
    return application_out(application)


async def mark_decided(
    session: AsyncSession, application_id: uuid.UUID, at: datetime, *, person_id: uuid.UUID | None = None
) -> None:
    """A decision was made on the application: for the decisions module, in its unit of work.

    A later decision on a decided application (a new version, a reassessment) changes
    nothing; a withdrawn application is a 409 `application-withdrawn`; an unknown one a 404.
    With `person_id`, an application of another person is a 422 `application-not-for-person`.
    The caller has checked access to the case; the row is locked against a concurrent withdrawal.
    """
    application = await ReferralRepository(session).application_for_update(application_id)
    if application is None:
        raise NotFound("No such application.")
    if person_id is not None and application.person_id != person_id:
        raise RuleViolation("The application is another person's.", slug="application-not-for-person")
    if application.status == ApplicationStatus.decided:
        return
    if application.status == ApplicationStatus.withdrawn:
        raise Conflict("The application was withdrawn; it cannot be decided.", slug="application-withdrawn")
    application.status = ApplicationStatus.decided.value
    application.decided_at = at
    await session.flush()


# --- worklist --------------------------------------------------------------------------


async def overdue(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    *,
    include_replied: bool,
    district: str | None,
    limit: int,
    after: tuple[date, uuid.UUID] | None,
    purpose: str,
) -> list[OverdueApplication]:
    today = ctx.clock.today()
    applications = await ReferralRepository(session).overdue(
        principal, today=today, include_replied=include_replied, district=district, limit=limit, after=after
    )
    items = []
    for application in applications:
        task = rules.preliminary_reply_task(
            status=application.status,
            deadline=application.deadline_date,
            reply_date=application.preliminary_reply_date,
            expected_decision_date=application.expected_decision_date,
            today=today,
        )
        assert task is not None  # the query selects by the same rule
        items.append(
            OverdueApplication(
                **application_out(application).model_dump(),
                days_overdue=(today - application.deadline_date).days,
                task=task,
            )
        )
    await _log(
        ctx, session, principal, Action.read, "application-worklist", [a.person_id for a in items], purpose
    )
    return items
