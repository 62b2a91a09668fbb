"""What every change of a decision does: load it (locked) within the principal's districts,
check the ETag the client read, check it is complete, and record the change as a version row
with its access-log row. Shared by making, amending, ending and the provider choice."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions import builder, events, rules
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.models import Decision, DecisionVersion
from hjemflyt.assessment.decisions.repository import DecisionRepository
from hjemflyt.assessment.decisions.rules import Status
from hjemflyt.assessment.decisions.schemas import DecisionOut
from hjemflyt.assessment.decisions.views import facts, snapshot, to_out
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.persons.schemas import PersonOut
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.contracts.events import AgeBand
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    RuleViolation,
)

PURPOSE = "case handling"


async def load(
    session: AsyncSession, principal: Principal, decision_id: uuid.UUID, *, for_update: bool = False
) -> Decision:
    decision = await DecisionRepository(session).get(principal, decision_id, for_update=for_update)
    if decision is None:
        raise NotFound("No such decision.")
    return decision


# How a refused transition reads: "A draft decision cannot be sent."
_CANNOT = {
    Status.made: "be made",
    Status.sent: "be sent",
    Status.active: "become active",
    Status.ended: "be ended",
}


async def load_to_move(
    session: AsyncSession, principal: Principal, decision_id: uuid.UUID, to: Status, if_match: str | None
) -> Decision:
    """The decision, locked, at the version the client read (If-Match optional here), that
    may move to `to`; 409 `invalid-transition` if its status does not allow it."""
    decision = await load(session, principal, decision_id, for_update=True)
    check_etag(decision, if_match, required=False)
    if not rules.can_move(Status(decision.status), to):
        raise Conflict(f"A {decision.status} decision cannot {_CANNOT[to]}.", slug="invalid-transition")
    return decision


def check_etag(decision: Decision, if_match: str | None, *, required: bool) -> None:
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


async def record(
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


async def broken_rules(
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


def refusal(violations: list[rules.Violation], slug: str = "decision-incomplete") -> RuleViolation:
    rules_broken = sorted({v.rule for v in violations})
    return RuleViolation(
        "The decision is not complete: " + ", ".join(rules_broken) + ".",
        slug=slug if len(rules_broken) > 1 else rules_broken[0],
        missing=[{"rule": v.rule, "message": v.message, "field": v.field} for v in violations],
    )


def age_band(ctx: ServiceContext, person: PersonOut, out: DecisionOut) -> AgeBand | None:
    """The person's age band at the decision date, for budget's KOSTRA figures."""
    return events.person_age_band(person.identity_number, out.decision_date, ctx.settings.identity_month40)


async def case_office_of(session: AsyncSession, out: DecisionOut) -> str | None:
    district = await DistrictRepository(session).get(out.district)
    return district.case_office if district else None
