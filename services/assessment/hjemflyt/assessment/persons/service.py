"""Use cases for persons: register, look up, list. Every read or write of personal data
writes an access-log row in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.persons.models import Person
from hjemflyt.assessment.persons.repository import PersonRepository
from hjemflyt.assessment.persons.schemas import Contact, GeneralPractitioner, NextOfKin, PersonIn, PersonOut
from hjemflyt.shared.identity import (
    IdentityKind,
    InvalidIdentityNumber,
    Month40Meaning,
    parse_identity_number,
)
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.crypto import FieldCipher
from hjemflyt.shared.platform.errors import Conflict, Forbidden, NotFound, RuleViolation

PURPOSE_CASE_HANDLING = "case handling"


def normalised_identity(
    value: str, month40: Month40Meaning = Month40Meaning.h_number, *, today: date | None = None
) -> tuple[str, str, bool]:
    """(number, kind, synthetic) or a 422 that names the rule, never the number. With
    `today`, a birth date after it is refused (no one is registered before being born)."""
    try:
        parsed = parse_identity_number(value, month40=month40, today=today)
    except InvalidIdentityNumber as exc:
        raise RuleViolation(
            f"The identity number is not valid: {exc}",
            slug="invalid-identity-number",
            reason=exc.reason,
        ) from exc
    return parsed.value, parsed.kind.value, parsed.synthetic.value != "none"


async def _logged(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    action: Action,
    purpose: str,
) -> None:
    """The access-log row every read or write of one person's data writes."""
    await ctx.access_log.record(
        session,
        principal,
        action=action,
        resource="person",
        person_ids=[person_id],
        purpose=purpose,
        resource_id=str(person_id),
    )


def gp_of(person: Person) -> GeneralPractitioner | None:
    if not (person.gp_her_id and person.gp_office_her_id):
        return None
    return GeneralPractitioner(
        name=person.gp_name or "",
        her_id=person.gp_her_id,
        office_name=person.gp_office_name or "",
        office_her_id=person.gp_office_her_id,
    )


def _set_gp(person: Person, gp: GeneralPractitioner | None) -> None:
    person.gp_name = gp.name if gp else None
    person.gp_her_id = gp.her_id if gp else None
    person.gp_office_name = gp.office_name if gp else None
    person.gp_office_her_id = gp.office_her_id if gp else None


def to_out(person: Person, fields: FieldCipher) -> PersonOut:
    return PersonOut(
        id=person.id,
        identity_number=fields.decrypt(person.identity_cipher),
        identity_kind=IdentityKind(person.identity_kind),
        synthetic=person.synthetic,
        name=person.name,
        address=person.address,
        phone=person.phone,
        email=person.email,
        next_of_kin=[NextOfKin.model_validate(k) for k in person.next_of_kin or []],
        district=person.district,
        gp=gp_of(person),
        died_on=person.died_on,
        created_at=person.created_at,
    )


async def register(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: PersonIn
) -> PersonOut:
    number, kind, synthetic = normalised_identity(
        body.identity_number, ctx.settings.identity_month40, today=ctx.clock.today()
    )
    if not principal.may_see_district(body.district):
        raise Forbidden("You do not work in that district.", slug="district-not-allowed")
    if await DistrictRepository(session).get(body.district) is None:
        raise RuleViolation(f"Unknown district {body.district!r}.", slug="unknown-district")
    fields = ctx.cipher
    index = fields.index(number)
    repo = PersonRepository(session)
    existing = await repo.exists_with_index(index)
    if existing is not None:
        raise Conflict("A person with this identity number is already registered.", slug="person-exists")
    added = await repo.add(
        Person(
            id=uuid.uuid4(),
            identity_index=index,
            identity_cipher=fields.encrypt(number),
            identity_kind=kind,
            synthetic=synthetic,
            name=body.name,
            address=body.address,
            phone=body.phone,
            email=body.email,
            next_of_kin=[k.model_dump() for k in body.next_of_kin],
            district=body.district,
            created_at=ctx.clock.now(),
            created_by=principal.subject,
            gp_name=body.gp.name if body.gp else None,
            gp_her_id=body.gp.her_id if body.gp else None,
            gp_office_name=body.gp.office_name if body.gp else None,
            gp_office_her_id=body.gp.office_her_id if body.gp else None,
        )
    )
    if added is None:  # a concurrent registration of the same number won
        raise Conflict("A person with this identity number is already registered.", slug="person-exists")
    person = added
    await _logged(ctx, session, principal, person.id, Action.create, PURPOSE_CASE_HANDLING)
    return to_out(person, fields)


async def get(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID, purpose: str
) -> PersonOut:
    person = await PersonRepository(session).get(principal, person_id)
    if person is None:
        raise NotFound("No such person.")
    await _logged(ctx, session, principal, person.id, Action.read, purpose)
    return to_out(person, ctx.cipher)


async def find(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, identity_number: str, purpose: str
) -> PersonOut:
    number, _, _ = normalised_identity(
        identity_number, ctx.settings.identity_month40, today=ctx.clock.today()
    )
    fields = ctx.cipher
    person = await PersonRepository(session).by_identity_index(principal, fields.index(number))
    if person is None:
        raise NotFound("No person with that identity number that you may see.")
    # A search by identity number is its own action: who looked the person up, not only
    # who opened the record (the number itself is never logged).
    await _logged(ctx, session, principal, person.id, Action.lookup, purpose)
    return to_out(person, fields)


async def page(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    purpose: str,
) -> Sequence[PersonOut]:
    persons = await PersonRepository(session).page(principal, limit=limit, after=after)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="person-list",
        person_ids=[p.id for p in persons],
        purpose=purpose,
    )
    fields = ctx.cipher
    return [to_out(p, fields) for p in persons]


async def record_replay(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> None:
    """A retried registration answers with the person again: that is a read, and is logged."""
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="person",
        person_ids=[person_id],
        purpose="idempotent retry of a registration",
        resource_id=str(person_id),
    )


async def update(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID, body: Contact
) -> PersonOut:
    """Change contact details, next of kin or district (a move: the new district must be yours too)."""
    person = await PersonRepository(session).get(principal, person_id)
    if person is None:
        raise NotFound("No such person.")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("district") and changes["district"] != person.district:
        if not principal.may_see_district(changes["district"]):
            raise Forbidden("You do not work in that district.", slug="district-not-allowed")
        if await DistrictRepository(session).get(changes["district"]) is None:
            raise RuleViolation(f"Unknown district {changes['district']!r}.", slug="unknown-district")
    for required in ("name", "address", "district"):
        if required in changes and changes[required] is None:
            raise RuleViolation(f"{required} cannot be removed.", slug=f"{required}-required")
    if "gp" in changes:
        _set_gp(person, body.gp)
    for key, value in changes.items():
        if key != "gp":
            setattr(person, key, value)
    await session.flush()
    await _logged(ctx, session, principal, person.id, Action.update, PURPOSE_CASE_HANDLING)
    return to_out(person, ctx.cipher)
