"""Use cases of the decision (vedtak): draft, edit, make, send, activate, amend, end,
provider choice, completeness, versions, the evaluation worklist.

A running decision is never edited to the person's detriment: such a change is refused
with 409 and must be made as a new decision that supersedes it (forvaltningsloven § 35).
Every state change writes a version row with a snapshot and the field-level changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.config.rules import copayment
from hjemflyt.assessment.db import SCHEMA
from hjemflyt.assessment.decisions import builder, events, rules
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.models import Decision, DecisionVersion, ProviderChoice
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.rules import Outcome, Status
from hjemflyt.assessment.decisions.schemas import (
    Completeness,
    DecisionContent,
    DecisionIn,
    DecisionOut,
    EndIn,
    ProviderChoiceIn,
)
from hjemflyt.assessment.decisions.views import facts, snapshot, to_out
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.messaging import service as messaging
from hjemflyt.assessment.persons import service as persons
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.contracts.events import PROVIDER_CHOSEN, AgeBand, ProviderChosen
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    RuleViolation,
)
from hjemflyt.shared.platform.outbox import notify_channel

PURPOSE = "case handling"


async def _load(
    session: AsyncSession, principal: Principal, decision_id: uuid.UUID, *, for_update: bool = False
) -> Decision:
    decision = await DecisionRepository(session).get(principal, decision_id, for_update=for_update)
    if decision is None:
        raise NotFound("No such decision.")
    return decision


def _check_etag(decision: Decision, if_match: str | None, *, required: bool) -> None:
    if if_match is None:
        if required:
            raise PreconditionRequired("Send If-Match with the ETag you read.")
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and f'"{decision.version}"' not in tags:
        raise PreconditionFailed(
            f"The decision has changed (now version {decision.version}); read it again.",
            current_version=decision.version,
        )


async def _record(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision: Decision,
    catalogue: Catalogue,
    action: str,
    before: dict[str, Any] | None,
) -> DecisionOut:
    """Write the version row for this change and the access-log row; return the decision."""
    out = to_out(decision, catalogue)
    after = snapshot(out)
    changes = rules.changes(before or {}, after) if before is not None else []
    row = builder.version_row(out, action, changes, after, by=principal.subject, at=ctx.clock.now())
    await DecisionRepository(session).add_version(DecisionVersion(**row))
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create if action == "created" else Action.update,
        resource="decision",
        person_ids=[decision.person_id],
        purpose=PURPOSE,
        resource_id=str(decision.id),
    )
    return out


async def _violations(
    session: AsyncSession, decision: Decision, catalogue: Catalogue
) -> list[rules.Violation]:
    orgs = {s.provider_org for s in decision.services if s.provider_org}
    approved = await ProviderRepository(session).get_many(orgs) if orgs else {}
    return rules.check_complete(
        facts(decision),
        rules.CatalogueFacts(
            service_types=catalogue.active_types,
            legal_basis=catalogue.legal_basis,
            providers={o: (frozenset(p.service_codes), frozenset(p.districts)) for o, p in approved.items()},
            district=decision.district,
            measures=catalogue.active_measures,
        ),
    )


def _refuse(violations: list[rules.Violation], slug: str = "decision-incomplete") -> RuleViolation:
    rules_broken = sorted({v.rule for v in violations})
    return RuleViolation(
        "The decision is not complete: " + ", ".join(rules_broken) + ".",
        slug=slug if len(rules_broken) > 1 else rules_broken[0],
        missing=[{"rule": v.rule, "message": v.message, "field": v.field} for v in violations],
    )


# --- use cases -------------------------------------------------------------------------


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
        old = await _load(session, principal, body.supersedes_id)
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
    violations = await _violations(session, decision, catalogue)
    if violations:
        raise _refuse(violations)
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
        _age_band(ctx, person, out),
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


async def edit(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    body: DecisionContent,
    if_match: str | None,
) -> DecisionOut:
    decision = await _load(session, principal, decision_id, for_update=True)
    _check_etag(decision, if_match, required=True)
    status = Status(decision.status)
    if status == Status.ended:
        raise Conflict("An ended decision cannot change.", slug="decision-ended")
    catalogue = await Catalogue.load(ctx, session)
    before_out = to_out(decision, catalogue)
    before_facts = facts(decision)
    before_terms = (decision.household_income_g, decision.start_date or ctx.clock.today())
    builder.apply(decision, body, catalogue)
    decision.version += 1
    decision.updated_at = ctx.clock.now()
    if status == Status.draft:
        await session.flush()
        return await _record(ctx, session, principal, decision, catalogue, "edited", snapshot(before_out))

    # A running decision: only changes in the person's favour, and it must stay complete.
    worse = rules.detriments(
        *_priced(
            before_facts,
            facts(decision),
            catalogue,
            before_terms,
            (decision.household_income_g, decision.start_date or ctx.clock.today()),
        )
    )
    if worse:
        raise Conflict(
            "This change is to the person's detriment and needs a new decision (forvaltningsloven § 35): "
            + "; ".join(worse)
            + ".",
            slug="reduction-requires-new-decision",
            detriments=worse,
        )
    violations = await _violations(session, decision, catalogue)
    if violations:
        raise _refuse(violations)
    builder.price(decision, catalogue, ctx.clock.today())
    await session.flush()
    out = await _record(ctx, session, principal, decision, catalogue, "amended", snapshot(before_out))
    changed = sorted({c["field"] for c in rules.changes(snapshot(before_out), snapshot(out))})
    person = await persons.get(ctx, session, principal, decision.person_id, purpose="issuing a changed order")
    await events.publish_amended(ctx, session, out, changed, _age_band(ctx, person, out))
    office = await _case_office(session, out)
    await events.publish_orders(ctx, session, out, person, kind="changed", case_office=office)
    await _publish_dropped(ctx, session, before_out, out, person, None, office)
    await messaging.decision_amended(ctx, session, principal, out)
    return out


def _priced(
    before: rules.DecisionFacts,
    after: rules.DecisionFacts,
    catalogue: Catalogue,
    before_terms: tuple[Decimal | None, date],
    after_terms: tuple[Decimal | None, date],
) -> tuple[rules.DecisionFacts, rules.DecisionFacts]:
    """Both sides with the co-payment per month of each service, for the § 35 check.

    Priced for the same scope, the one after the change, under the terms before and after it
    (household income; rates on the start date): more help at the same hourly price is the
    price of the help, not a detriment; the same help at a higher price (a higher household
    income, an income first set on a running decision) is, and needs a new decision."""
    hours = {s.service_type: rules.decided_hours(s) for s in after.services}

    def pay(service: rules.ServiceFacts, terms: tuple[Decimal | None, date]) -> int:
        info = catalogue.service_types.get(service.service_type)
        return copayment(
            chargeable=bool(info and info.chargeable) and service.outcome != Outcome.refused,
            hours_per_month=hours.get(service.service_type, rules.decided_hours(service)),
            income_g=terms[0],
            bands=catalogue.bands,
            on=terms[1],
        ).monthly_ore

    def priced(side: rules.DecisionFacts, terms: tuple[Decimal | None, date]) -> rules.DecisionFacts:
        services = tuple(replace(s, copayment_ore=pay(s, terms)) for s in side.services)
        return replace(side, services=services)

    return priced(before, before_terms), priced(after, after_terms)


def _age_band(ctx: ServiceContext, person: PersonOut, out: DecisionOut) -> AgeBand | None:
    """The person's age band at the decision date, for budget's KOSTRA figures."""
    return events.person_age_band(person.identity_number, out.decision_date, ctx.settings.identity_month40)


async def _case_office(session: AsyncSession, out: DecisionOut) -> str | None:
    district = await DistrictRepository(session).get(out.district)
    return district.case_office if district else None


async def make(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    if_match: str | None,
    *,
    person: PersonOut | None = None,
) -> DecisionOut:
    decision = await _load(session, principal, decision_id, for_update=True)
    _check_etag(decision, if_match, required=False)
    if not rules.can_move(Status(decision.status), Status.made):
        raise Conflict(f"A {decision.status} decision cannot be made.", slug="invalid-transition")
    catalogue = await Catalogue.load(ctx, session)
    before_out = to_out(decision, catalogue)
    case_office = await _case_office(session, before_out)
    now = await _mark_made(ctx, session, principal, decision, catalogue, case_office)
    await session.flush()
    out = await _record(ctx, session, principal, decision, catalogue, "made", snapshot(before_out))
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
        await _end(
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
    decision = await _load(session, principal, decision_id, for_update=True)
    _check_etag(decision, if_match, required=False)
    if not rules.can_move(Status(decision.status), Status.sent):
        raise Conflict(f"A {decision.status} decision cannot be sent.", slug="invalid-transition")
    catalogue = await Catalogue.load(ctx, session)
    before = snapshot(to_out(decision, catalogue))
    weeks = catalogue.municipality.appeal_weeks if catalogue.municipality else 4
    decision.status = Status.sent.value
    decision.sent_at = ctx.clock.now()
    decision.appeal_deadline = ctx.clock.today() + timedelta(weeks=weeks)
    decision.version += 1
    decision.updated_at = decision.sent_at
    await session.flush()
    out = await _record(ctx, session, principal, decision, catalogue, "sent", before)
    # Orientering om tjenestetilbud to the person's GP, stored for sending in this transaction.
    await messaging.decision_sent(ctx, session, principal, out)
    return out


async def activate(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    if_match: str | None,
) -> DecisionOut:
    decision = await _load(session, principal, decision_id, for_update=True)
    _check_etag(decision, if_match, required=False)
    if not rules.can_move(Status(decision.status), Status.active):
        raise Conflict(f"A {decision.status} decision cannot become active.", slug="invalid-transition")
    if decision.start_date and decision.start_date > ctx.clock.today():
        raise Conflict(f"The decision starts on {decision.start_date}.", slug="not-started")
    return await _activate(ctx, session, principal, decision, await Catalogue.load(ctx, session))


async def _activate(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, decision: Decision, catalogue: Catalogue
) -> DecisionOut:
    """Services have started: the version row and `decision.activated` (the provider is told)."""
    before = snapshot(to_out(decision, catalogue))
    decision.status = Status.active.value
    decision.activated_at = ctx.clock.now()
    decision.version += 1
    decision.updated_at = decision.activated_at
    await session.flush()
    out = await _record(ctx, session, principal, decision, catalogue, "activated", before)
    await events.publish_activated(ctx, session, decision)
    return out


# --- the clock: decisions start and end on their own -----------------------------------

SWEEPER = "system:decision-sweep"


def sweeper(ctx: ServiceContext) -> Principal:
    """Who the sweep acts as: the municipality's own system, in every district."""
    return Principal(subject=SWEEPER, role=Role.integration, tenant=ctx.settings.tenant, all_districts=True)


async def activate_due(
    ctx: ServiceContext,
    session: AsyncSession,
    *,
    limit: int,
    skip: frozenset[uuid.UUID] = frozenset(),
    taken: list[uuid.UUID] | None = None,
) -> int:
    """Sent decisions whose start date has come become active. Only sent ones: a decision
    takes effect for the person when they have the letter; a made one that was never sent
    waits (the case office sends it, then the sweep or /activate starts it). `taken`
    collects each decision's id before it is moved (the sweep skips one that failed)."""
    principal = sweeper(ctx)
    repo = DecisionRepository(session)
    due = await repo.due(principal, activate_by=ctx.clock.today(), skip=skip, limit=limit)
    if due:
        catalogue = await Catalogue.load(ctx, session)
        for decision in due:
            if taken is not None:
                taken.append(decision.id)
            await _activate(ctx, session, principal, decision, catalogue)
    return len(due)


async def expire_due(
    ctx: ServiceContext,
    session: AsyncSession,
    *,
    limit: int,
    skip: frozenset[uuid.UUID] = frozenset(),
    taken: list[uuid.UUID] | None = None,
) -> int:
    """Running decisions past their end date (Norway's date) end with reason `expired`."""
    principal = sweeper(ctx)
    due = await DecisionRepository(session).due(
        principal, ended_before=ctx.clock.today(), skip=skip, limit=limit
    )
    for decision in due:
        assert decision.end_date is not None
        if taken is not None:
            taken.append(decision.id)
        await _end(ctx, session, principal, decision.id, decision.end_date, rules.EndReason.expired.value)
    return len(due)


async def end(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    body: EndIn,
    if_match: str | None,
) -> DecisionOut:
    decision = await _load(session, principal, decision_id, for_update=True)
    _check_etag(decision, if_match, required=False)
    if not rules.can_move(Status(decision.status), Status.ended):
        raise Conflict(f"A {decision.status} decision cannot be ended.", slug="invalid-transition")
    if decision.end_date is not None and body.end_date > decision.end_date:
        raise RuleViolation(
            f"The decision ends on {decision.end_date} already; a later end is an amendment of its end date.",
            slug="end-after-end-date",
        )
    if not rules.end_reason_allowed(body.reason, body.end_date, decision.end_date):
        allowed = ", ".join(sorted(rules.EARLY_END_REASONS))
        until = (
            f"before its end date {decision.end_date}" if decision.end_date else "while it runs indefinitely"
        )
        raise RuleViolation(
            f"A decision is ended {until} only for a reason the law allows ({allowed}); "
            f"{body.reason.value!r} is not one. A reduction needs a new decision (forvaltningsloven § 35).",
            slug="end-reason-not-allowed",
            allowed=sorted(rules.EARLY_END_REASONS),
        )
    return await _end(ctx, session, principal, decision_id, body.end_date, body.reason.value)


async def _end(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    end_date: date,
    reason: str,
    *,
    superseded_by: uuid.UUID | None = None,
) -> DecisionOut:
    decision = await _load(session, principal, decision_id, for_update=True)
    if not rules.can_move(Status(decision.status), Status.ended):
        raise Conflict(f"A {decision.status} decision cannot be ended.", slug="invalid-transition")
    # A superseded decision may end before it started: the new one replaced it in time.
    if reason != "superseded" and decision.start_date and end_date < decision.start_date - timedelta(days=1):
        raise RuleViolation("The end date is before the decision started.", slug="end-before-start")
    # Ending never lengthens a decision: superseded by one that starts after it ends, it
    # keeps its own end date.
    if decision.end_date is not None:
        end_date = min(end_date, decision.end_date)
    catalogue = await Catalogue.load(ctx, session)
    before_out = to_out(decision, catalogue)
    decision.status = Status.ended.value
    decision.end_date = end_date
    decision.end_reason = reason
    decision.ended_at = ctx.clock.now()
    decision.version += 1
    decision.updated_at = decision.ended_at
    await session.flush()
    out = await _record(ctx, session, principal, decision, catalogue, "ended", snapshot(before_out))
    await events.publish_ended(ctx, session, decision, superseded_by)
    person = await persons.get(ctx, session, principal, decision.person_id, purpose="ending an order")
    # The ended order carries the decision's end_reason (the order builder takes it from `out`).
    await events.publish_orders(
        ctx, session, out, person, kind="ended", case_office=await _case_office(session, out)
    )
    await messaging.decision_ended(ctx, session, principal, out, reason)
    return out


async def choose_provider(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    body: ProviderChoiceIn,
) -> DecisionOut:
    """Record that the person was informed and, if made, their choice (brukervalg)."""
    decision = await _load(session, principal, decision_id, for_update=True)
    status = Status(decision.status)
    if status == Status.ended:
        raise Conflict("An ended decision has no provider choice.", slug="decision-ended")
    service = next((s for s in decision.services if s.service_type == body.service_type), None)
    if service is None or service.outcome == Outcome.refused.value:
        raise RuleViolation(f"The decision grants no {body.service_type}.", slug="service-not-granted")
    if body.provider_org is not None:
        approved = (await ProviderRepository(session).get_many({body.provider_org})).get(body.provider_org)
        if approved is None:
            raise RuleViolation(f"Provider {body.provider_org} is not approved.", slug="unknown-provider")
        if service.service_code not in approved.service_codes:
            raise RuleViolation(
                f"Provider {body.provider_org} may not deliver {body.service_type}.",
                slug="provider-not-approved-for-service",
            )
        if decision.district not in approved.districts:
            raise RuleViolation(
                f"Provider {body.provider_org} does not serve {decision.district}.",
                slug="provider-not-approved-for-district",
            )
    if body.chosen_date and body.chosen_date < body.informed_date:
        raise RuleViolation(
            "The choice cannot come before the person was informed.", slug="chosen-before-informed"
        )
    if body.provider_org is None and body.chosen_by is not None:
        raise RuleViolation("chosen_by needs a provider_org.", slug="choice-without-provider")
    repo = DecisionRepository(session)
    choice = await repo.choice(decision.id, body.service_type)
    if choice is None:
        choice = ProviderChoice(
            decision_id=decision.id,
            person_id=decision.person_id,
            service_type=body.service_type,
            informed_date=body.informed_date,
            informed_by=principal.subject,
            recorded_at=ctx.clock.now(),
        )
        await repo.add_choice(choice)
    choice.informed_date = body.informed_date
    choice.provider_org = body.provider_org
    choice.chosen_by = body.chosen_by
    choice.chosen_date = body.chosen_date or (ctx.clock.today() if body.provider_org else None)
    choice.recorded_at = ctx.clock.now()
    catalogue = await Catalogue.load(ctx, session)
    before_out = to_out(decision, catalogue)
    before = snapshot(before_out)
    previous = service.provider_org
    changed = body.provider_org is not None and body.provider_org != previous
    if changed:
        service.provider_org = body.provider_org
        decision.version += 1
        decision.updated_at = ctx.clock.now()
    await session.flush()
    out = (
        await _record(ctx, session, principal, decision, catalogue, "provider-chosen", before)
        if changed
        else to_out(decision, catalogue)
    )
    await ctx.outbox.add(
        session,
        PROVIDER_CHOSEN,
        ProviderChosen(
            decision_id=decision.id,
            person_id=decision.person_id,
            district=decision.district,
            service_type=service.service_type,
            service_code=service.service_code,
            provider_org=body.provider_org,
            informed_date=choice.informed_date,
            chosen_date=choice.chosen_date,
        ),
        subject=str(decision.id),
    )
    if changed and status in rules.RUNNING:
        person = await persons.get(ctx, session, principal, decision.person_id, purpose="issuing an order")
        office = await _case_office(session, out)
        assert body.provider_org is not None
        # The new provider gets its order; a previous one that keeps other services of this
        # decision gets the change, and one left with none gets an ended order.
        await events.publish_orders(
            ctx, session, out, person, kind="new", providers={body.provider_org}, case_office=office
        )
        if previous is not None:
            await events.publish_orders(
                ctx, session, out, person, kind="changed", providers={previous}, case_office=office
            )
        await _publish_dropped(ctx, session, before_out, out, person, choice.chosen_date, office)
    return out


async def _publish_dropped(
    ctx: ServiceContext,
    session: AsyncSession,
    before: DecisionOut,
    out: DecisionOut,
    person: PersonOut,
    end_date: date | None,
    case_office: str | None,
) -> None:
    dropped = events.dropped_orders(
        ctx, before, out, person, end_date=end_date or ctx.clock.today(), case_office=case_office
    )
    if dropped:
        await ctx.outbox.add_many(session, dropped)


async def completeness(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    log_read: LoggedRead,
) -> Completeness:
    decision = await _load(session, principal, decision_id)
    violations = await _violations(session, decision, await Catalogue.load(ctx, session))
    # What is missing from a person's decision is read from it: logged like the decision.
    await log_read("decision-completeness", [decision.person_id], resource_id=str(decision.id))
    return Completeness(
        complete=not violations,
        missing=[{"rule": v.rule, "message": v.message, "field": v.field} for v in violations],
    )


async def get(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    decision_id: uuid.UUID,
    purpose: str = PURPOSE,
) -> DecisionOut:
    decision = await _load(session, principal, decision_id)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource="decision",
        person_ids=[decision.person_id],
        purpose=purpose,
        resource_id=str(decision.id),
    )
    return to_out(decision, await Catalogue.load(ctx, session))


async def for_person(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> Sequence[DecisionOut]:
    decisions = await DecisionRepository(session).for_person(principal, person_id)
    if decisions:
        await ctx.access_log.record(
            session,
            principal,
            action=Action.read,
            resource="decision-list",
            person_ids=[person_id],
            purpose=PURPOSE,
        )
    catalogue = await Catalogue.load(ctx, session)
    return [to_out(d, catalogue) for d in decisions]


async def versions(
    session: AsyncSession, principal: Principal, decision_id: uuid.UUID, log_read: LoggedRead
) -> Sequence[DecisionVersion]:
    decision = await _load(session, principal, decision_id)
    found = await DecisionRepository(session).versions(decision_id)
    if found:
        await log_read("decision-versions", [decision.person_id], resource_id=str(decision.id))
    return found


async def choices(
    session: AsyncSession, principal: Principal, decision_id: uuid.UUID, log_read: LoggedRead
) -> Sequence[ProviderChoice]:
    decision = await _load(session, principal, decision_id)
    found = await DecisionRepository(session).choices(decision_id)
    if found:
        await log_read("provider-choices", [decision.person_id], resource_id=str(decision.id))
    return found


async def evaluations_due(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    log_read: LoggedRead,
    *,
    within_days: int,
    limit: int,
    after: tuple[date, uuid.UUID] | None,
) -> tuple[Sequence[Decision], list[DecisionOut]]:
    """The reassessment backlog: whole decisions of many persons, each person logged."""
    by = ctx.clock.today() + timedelta(days=within_days)
    found = await DecisionRepository(session).evaluations_due(principal, by, limit=limit, after=after)
    await log_read.rows("evaluations-due", found)
    catalogue = await Catalogue.load(ctx, session)
    return found, [to_out(d, catalogue) for d in found]
