"""Use cases of the decision (vedtak): draft, edit, make, send, activate, amend, end,
provider choice, completeness, versions, the evaluation worklist.

A running decision is never edited to the person's detriment: such a change is refused
with 409 and must be made as a new decision that supersedes it (forvaltningsloven § 35).
Every state change writes a version row with a snapshot and the field-level changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.config.models import config_version
from hjemflyt.assessment.config.repository import ConfigRepository
from hjemflyt.assessment.config.rules import Band, copayment
from hjemflyt.assessment.db import SCHEMA
from hjemflyt.assessment.decisions import events, rules
from hjemflyt.assessment.decisions.models import (
    Decision,
    DecisionService,
    DecisionVersion,
    Measure,
    ProviderChoice,
)
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.rules import Outcome, ScopeKind, Status
from hjemflyt.assessment.decisions.schemas import (
    Completeness,
    DecisionContent,
    DecisionIn,
    DecisionOut,
    EndIn,
    MeasureIn,
    MeasureOut,
    ProviderChoiceIn,
    ServiceIn,
    ServiceOut,
)
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
DEFAULT_PURPOSE = "Tjenesten skal gjøre deg mest mulig selvhjulpen i hverdagen."


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceTypeInfo:
    """A service type of the catalogue as a decision uses it (a plain value, safe to share)."""

    code: str
    name: str
    iplos_code: str
    chargeable: bool
    legal_basis: tuple[str, ...]
    active: bool


@dataclass(frozen=True, slots=True)
class MeasureInfo:
    """A code of the measure catalogue with its time norm (a plain value, safe to share)."""

    code: str
    name: str
    service_type: str | None
    norm_minutes: int
    active: bool


@dataclass(frozen=True, slots=True)
class MunicipalityInfo:
    appeal_body: str
    appeal_weeks: int


CATALOGUE_CACHE_KEY = "assessment.catalogue"
_CONFIG_TOKEN = select(config_version.c.token).where(config_version.c.id == 1)


class Catalogue:
    """The configuration a decision is checked against.

    Cached per process (per app) and keyed by the configuration's version token: each use
    case reads the token (one small row) in its own transaction, and reloads the catalogue
    when another request, another replica or a hand-made SQL change wrote the configuration
    (triggers change the token in the same transaction as the change, migration 0005_perf).
    So a decision is never checked against a catalogue older than its own snapshot.
    """

    def __init__(
        self,
        service_types: dict[str, ServiceTypeInfo],
        municipality: MunicipalityInfo | None,
        bands: list[Band],
        legal_basis: frozenset[str],
        measures: dict[str, MeasureInfo] | None = None,
    ) -> None:
        self.service_types = service_types
        self.municipality = municipality
        self.bands = bands
        self.legal_basis = legal_basis
        self.measures = measures or {}
        # What the completeness check needs, computed once per catalogue.
        self.active_types = {c: t.iplos_code for c, t in service_types.items() if t.active}
        self.active_measures = {c: m.service_type for c, m in self.measures.items() if m.active}

    @classmethod
    async def load(
        cls, ctx: ServiceContext, session: AsyncSession, *, token: uuid.UUID | None = None
    ) -> Catalogue:
        """The current catalogue; `token` if the caller read the version token already in
        this transaction (it saves a round trip)."""
        if token is None:
            token = await session.scalar(_CONFIG_TOKEN)
        cached: tuple[uuid.UUID, Catalogue] | None = ctx.cache.get(CATALOGUE_CACHE_KEY)
        if token is not None and cached is not None and cached[0] == token:
            return cached[1]
        catalogue = await cls.read(ctx, session)
        if token is not None:
            ctx.cache[CATALOGUE_CACHE_KEY] = (token, catalogue)
        return catalogue

    @classmethod
    async def read(cls, ctx: ServiceContext, session: AsyncSession) -> Catalogue:
        """The catalogue from the database, bypassing the cache."""
        repo = ConfigRepository(session)
        types = {
            s.code: ServiceTypeInfo(
                s.code, s.name, s.iplos_code, s.chargeable, tuple(s.legal_basis or ()), s.active
            )
            for s in await repo.service_types()
        }
        bands = [
            Band(b.valid_from, b.income_min_g, b.income_max_g, b.hourly_price_ore, b.max_per_month_ore)
            for b in await repo.bands()
        ]
        basis = frozenset(b.code for b in await repo.legal_basis())
        municipality = await repo.municipality(ctx.settings.tenant)
        info = MunicipalityInfo(municipality.appeal_body, municipality.appeal_weeks) if municipality else None
        measures = {
            m.code: MeasureInfo(m.code, m.name, m.service_type, m.norm_minutes, m.active)
            for m in await repo.measure_codes()
        }
        return cls(types, info, bands, basis, measures)

    def name(self, service_type: str) -> str:
        found = self.service_types.get(service_type)
        return found.name if found else service_type

    def measure(self, body: MeasureIn, scope_kind: ScopeKind) -> MeasureOut:
        """The measure as the decision states it. With a known code and no description, the
        description is the catalogue's name; with no minutes where the scope is minutes per
        measure (purchaser-provider districts), the minutes are the code's time norm. An
        unknown or inactive code is kept as given, for the completeness check to name."""
        entry = self.measures.get(body.code) if body.code is not None else None
        usable = entry is not None and entry.active
        description = body.description or (entry.name if entry is not None else body.code) or ""
        minutes = body.minutes
        if minutes is None and usable and scope_kind == ScopeKind.minutes_per_measure:
            assert entry is not None
            minutes = entry.norm_minutes
        return MeasureOut(
            code=body.code, description=description, times=body.times, per=body.per, minutes=minutes
        )


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def to_out(decision: Decision, catalogue: Catalogue) -> DecisionOut:
    copay = decision.copayment or {}
    return DecisionOut(
        id=decision.id,
        version=decision.version,
        status=Status(decision.status),
        person_id=decision.person_id,
        district=decision.district,
        organisation_model=decision.organisation_model,
        application_id=decision.application_id,
        assessment_id=decision.assessment_id,
        supersedes_id=decision.supersedes_id,
        justification=decision.justification,
        purpose=decision.purpose,
        user_goal=decision.user_goal,
        legal_basis=list(decision.legal_basis or []),
        start_date=decision.start_date,
        end_date=decision.end_date,
        evaluation_date=decision.evaluation_date,
        household_income_g=decision.household_income_g,
        appeal_text=decision.appeal_text,
        appeal_deadline=decision.appeal_deadline,
        decision_date=decision.decision_date,
        made_by=decision.made_by,
        made_at=decision.made_at,
        sent_at=decision.sent_at,
        activated_at=decision.activated_at,
        ended_at=decision.ended_at,
        end_reason=decision.end_reason,
        services=[
            ServiceOut(
                service_type=s.service_type,
                service_name=catalogue.name(s.service_type),
                service_code=s.service_code,
                outcome=Outcome(s.outcome),
                scope_kind=ScopeKind(s.scope_kind),
                hours_per_month=Decimal(s.hours_per_month).quantize(Decimal("0.01")),
                # As stored (numeric(6,2)), so a decision made at once reads as one read back.
                frame_min_hours=_cents(s.frame_min_hours),
                frame_max_hours=_cents(s.frame_max_hours),
                refusal_reason=s.refusal_reason,
                provider_org=s.provider_org,
                measures=[
                    MeasureOut(
                        code=m.code, description=m.description, times=m.times, per=m.per, minutes=m.minutes
                    )
                    for m in s.measures
                ],
                copayment=copay.get(s.service_type),
            )
            for s in sorted(decision.services, key=lambda s: s.service_type)
        ],
    )


def facts(decision: Decision) -> rules.DecisionFacts:
    return rules.DecisionFacts(
        organisation_model=decision.organisation_model or "",
        justification=decision.justification,
        purpose=decision.purpose,
        user_goal=decision.user_goal,
        legal_basis=tuple(decision.legal_basis or ()),
        start_date=decision.start_date,
        end_date=decision.end_date,
        evaluation_date=decision.evaluation_date,
        services=tuple(
            rules.ServiceFacts(
                service_type=s.service_type,
                outcome=Outcome(s.outcome),
                scope_kind=ScopeKind(s.scope_kind),
                hours_per_month=s.hours_per_month,
                frame_min_hours=s.frame_min_hours,
                frame_max_hours=s.frame_max_hours,
                refusal_reason=s.refusal_reason,
                provider_org=s.provider_org,
                measures=tuple(
                    rules.MeasureFacts(m.description, m.times, m.per, m.minutes, m.code) for m in s.measures
                ),
            )
            for s in decision.services
        ),
    )


def snapshot(out: DecisionOut) -> dict[str, Any]:
    """What the decision says, keyed so that version diffs name the service that changed."""
    data = out.model_dump(mode="json", exclude={"version"})
    data["services"] = {s["service_type"]: s for s in data["services"]}
    return data


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
    await DecisionRepository(session).add_version(
        DecisionVersion(
            decision_id=decision.id,
            version=decision.version,
            status=decision.status,
            action=action,
            changes=rules.changes(before or {}, after) if before is not None else [],
            snapshot=after,
            changed_by=principal.subject,
            changed_at=ctx.clock.now(),
        )
    )
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


# --- building content ------------------------------------------------------------------


def _apply(decision: Decision, content: DecisionContent, catalogue: Catalogue) -> None:
    """Set the given fields (only those the caller sent) on the decision."""
    sent = content.model_fields_set
    for name in (
        "justification",
        "purpose",
        "user_goal",
        "start_date",
        "end_date",
        "evaluation_date",
        "household_income_g",
    ):
        if name in sent:
            setattr(decision, name, getattr(content, name))
    if "services" in sent and content.services is not None:
        # Update services in place (a replaced row would be inserted before the old one is
        # deleted, breaking the one-row-per-service rule); keep a provider chosen earlier.
        existing = {s.service_type: s for s in decision.services}
        updated = []
        for body in content.services:
            fresh = _service(body, decision, catalogue, None)
            row = existing.get(body.service_type)
            if row is None:
                updated.append(fresh)
                continue
            for column in _SERVICE_COLUMNS:
                setattr(row, column, getattr(fresh, column))
            row.provider_org = body.provider_org or row.provider_org
            updated.append(row)
        decision.services = updated
    if "legal_basis" in sent and content.legal_basis is not None:
        decision.legal_basis = list(dict.fromkeys(content.legal_basis))
    elif not decision.legal_basis:
        decision.legal_basis = sorted(
            {
                code
                for s in decision.services
                if (t := catalogue.service_types.get(s.service_type))
                for code in t.legal_basis
            }
        )


# What an edit may change on a service row (the provider is chosen separately).
_SERVICE_COLUMNS = (
    "service_code",
    "outcome",
    "scope_kind",
    "hours_per_month",
    "frame_min_hours",
    "frame_max_hours",
    "refusal_reason",
    "measures",
)


def _service(
    body: ServiceIn, decision: Decision, catalogue: Catalogue, chosen: str | None
) -> DecisionService:
    default = rules.DEFAULT_SCOPE.get(decision.organisation_model or "", ScopeKind.hours_per_month)
    kind = body.scope_kind or default
    service_type = catalogue.service_types.get(body.service_type)
    resolved = [catalogue.measure(m, kind) for m in body.measures]
    measures = [
        Measure(
            position=i, code=m.code, description=m.description, times=m.times, per=m.per, minutes=m.minutes
        )
        for i, m in enumerate(resolved)
    ]
    facts_ = rules.ServiceFacts(
        service_type=body.service_type,
        outcome=body.outcome,
        scope_kind=kind,
        hours_per_month=body.hours_per_month,
        frame_min_hours=body.frame_min_hours,
        frame_max_hours=body.frame_max_hours,
        measures=tuple(
            rules.MeasureFacts(m.description, m.times, m.per, m.minutes, m.code) for m in resolved
        ),
    )
    return DecisionService(
        service_type=body.service_type,
        service_code=service_type.iplos_code if service_type else "",
        outcome=body.outcome.value,
        scope_kind=kind.value,
        hours_per_month=rules.decided_hours(facts_),
        frame_min_hours=body.frame_min_hours,
        frame_max_hours=body.frame_max_hours,
        refusal_reason=body.refusal_reason,
        provider_org=body.provider_org or chosen,
        measures=measures,
    )


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
    now = ctx.clock.now()
    decision = Decision(
        id=uuid.uuid4(),
        version=1,
        person_id=person_row.id,
        district=person_row.district,
        status=Status.draft.value,
        application_id=body.application_id,
        assessment_id=body.assessment_id,
        supersedes_id=body.supersedes_id,
        organisation_model=district.organisation_model if district else None,
        purpose=DEFAULT_PURPOSE,
        legal_basis=[],
        services=[],
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    if body.supersedes_id is not None:
        old = await _load(session, principal, body.supersedes_id)
        if old.person_id != person_row.id or Status(old.status) not in rules.RUNNING:
            raise Conflict(
                "Only a running decision of the same person can be superseded.", slug="cannot-supersede"
            )
    _apply(decision, body, catalogue)
    # As stored (and read back by make): services by type, measures by position.
    decision.services = sorted(decision.services, key=lambda s: s.service_type)
    created = to_out(decision, catalogue)
    created_snapshot = snapshot(created)
    versions = [_version_row(ctx, principal, decision, "created", [], created_snapshot)]
    access.append(_decision_access(ctx, principal, decision, Action.create))
    if not body.make:
        await repo.write_new(decision, versions, access, [], notify_channel(SCHEMA))
        return created

    # Make it, as `make` makes a stored draft.
    violations = await _violations(session, decision, catalogue)
    if violations:
        raise _refuse(violations)
    case_office = district.case_office if district else None
    now = ctx.clock.now()
    decision.status = Status.made.value
    decision.decision_date = ctx.clock.today()
    decision.made_by = principal.subject
    decision.made_at = now
    decision.updated_at = now
    decision.version += 1
    decision.appeal_text = appeal_text(catalogue.municipality, case_office)
    _price(decision, catalogue, ctx.clock.today())
    out = to_out(decision, catalogue)
    after = snapshot(out)
    versions.append(
        _version_row(ctx, principal, decision, "made", rules.changes(created_snapshot, after), after)
    )
    access.append(_decision_access(ctx, principal, decision, Action.update))
    person = persons.to_out(person_row, ctx.cipher)
    decided = events.decided_services(out)  # once, for decision.made and the orders
    _, outbox_rows = ctx.outbox.rows(
        [
            events.made_event(out, _age_band(ctx, person, out), decided),
            *events.order_events(ctx, out, person, kind="new", case_office=case_office, decided=decided),
        ]
    )
    await repo.write_new(decision, versions, access, outbox_rows, notify_channel(SCHEMA))
    await _after_made(ctx, session, principal, decision, now, assignments_possible=has_assignment)
    return out


def _version_row(
    ctx: ServiceContext,
    principal: Principal,
    decision: Decision,
    action: str,
    changes: list[dict[str, Any]],
    after: dict[str, Any],
) -> dict[str, Any]:
    """The version row `_record` writes, as values for a Core insert."""
    return {
        "id": uuid.uuid4(),
        "decision_id": decision.id,
        "version": decision.version,
        "status": decision.status,
        "action": action,
        "changes": changes,
        "snapshot": after,
        "changed_by": principal.subject,
        "changed_at": ctx.clock.now(),
    }


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
    _apply(decision, body, catalogue)
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
    _price(decision, catalogue, ctx.clock.today())
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


def _price(decision: Decision, catalogue: Catalogue, today: date) -> None:
    """Co-payment per service, fixed when the decision is made or amended: the rates valid on
    its start date (today, Norway's date, if it has none)."""
    on = decision.start_date or today
    priced: dict[str, Any] = {}
    for s in decision.services:
        service_type = catalogue.service_types.get(s.service_type)
        result = copayment(
            chargeable=bool(service_type and service_type.chargeable) and s.outcome != Outcome.refused.value,
            hours_per_month=Decimal(s.hours_per_month),
            income_g=decision.household_income_g,
            bands=catalogue.bands,
            on=on,
        )
        priced[s.service_type] = {
            "chargeable": result.chargeable,
            "monthly_ore": result.monthly_ore,
            "statement": result.statement_nb,
        }
    decision.copayment = priced


def appeal_text(municipality: MunicipalityInfo | None, case_office: str | None) -> str:
    weeks = municipality.appeal_weeks if municipality else 4
    body = municipality.appeal_body if municipality else "Statsforvalteren"
    office = case_office or "kommunen"
    return (
        f"Du kan klage på vedtaket. Klagefristen er {weeks} uker fra du fikk vite om vedtaket "
        f"(pasient- og brukerrettighetsloven §§ 7-2 og 7-5). Send klagen til {office}. Hvis kommunen ikke "
        f"gir deg medhold, sender vi klagen videre til {body}. Du har rett til å se dokumentene i saken din "
        f"(forvaltningsloven § 18). Ta kontakt med {office} hvis du har spørsmål."
    )


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
    violations = await _violations(session, decision, catalogue)
    if violations:
        raise _refuse(violations)
    before = snapshot(to_out(decision, catalogue))
    now = ctx.clock.now()
    case_office = await _case_office(session, to_out(decision, catalogue))
    decision.status = Status.made.value
    decision.decision_date = ctx.clock.today()
    decision.made_by = principal.subject
    decision.made_at = now
    decision.updated_at = now
    decision.version += 1
    decision.appeal_text = appeal_text(catalogue.municipality, case_office)
    _price(decision, catalogue, ctx.clock.today())
    await session.flush()
    out = await _record(ctx, session, principal, decision, catalogue, "made", before)
    if person is None:
        person = await persons.get(ctx, session, principal, decision.person_id, purpose="issuing an order")
    await events.publish_made(ctx, session, out, _age_band(ctx, person, out))
    await events.publish_orders(ctx, session, out, person, kind="new", case_office=case_office)
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
